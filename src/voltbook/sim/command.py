"""`voltbook sim`: run N simulated charging stations against a voltbook server.

The main CLI registers it with ``app.command("sim")(sim_command)``.
"""

from __future__ import annotations

import asyncio
import random
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.markup import escape

from voltbook.sim.model import SimOptions, random_id_tag
from voltbook.sim.runner import SimError, fetch_station_specs, run_stations

console = Console()


class OcppVersion(StrEnum):
    V16 = "1.6"
    V201 = "2.0.1"


def parse_near(text: str | None) -> tuple[float, float] | None:
    """ "42.35,-71.06" -> (42.35, -71.06)."""
    if not text:
        return None
    try:
        lat_text, lon_text = text.split(",")
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise typer.BadParameter(
            "use LAT,LON, e.g. 42.3555,-71.0605", param_hint="--near"
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise typer.BadParameter("latitude or longitude out of range", param_hint="--near")
    return lat, lon


def print_event(station_id: str, text: str) -> None:
    clock = datetime.now().astimezone().strftime("%H:%M:%S")
    console.print(f"[dim]{clock}[/] [bold cyan]{escape(station_id)}[/] {escape(text)}")


def sim_command(
    url: Annotated[str, typer.Option(help="The voltbook server.")] = "http://127.0.0.1:8000",
    count: Annotated[int, typer.Option(min=1, help="How many stations to simulate.")] = 10,
    version: Annotated[OcppVersion, typer.Option("--version", help="OCPP version.")] = (
        OcppVersion.V16
    ),
    operator_email: Annotated[
        str | None, typer.Option(envvar="VOLTBOOK_SIM_OPERATOR_EMAIL", help="Operator account.")
    ] = None,
    operator_password: Annotated[
        str | None,
        typer.Option(envvar="VOLTBOOK_SIM_OPERATOR_PASSWORD", help="Operator password."),
    ] = None,
    near: Annotated[
        str | None, typer.Option(metavar="LAT,LON", help="Pick the stations nearest this point.")
    ] = None,
    session_rate: Annotated[
        float, typer.Option(min=0, help="Mean new sessions per station per hour.")
    ] = 2.0,
    meter_interval: Annotated[
        float, typer.Option(min=0.01, help="Seconds between meter values.")
    ] = 15.0,
    heartbeat_interval: Annotated[
        float | None, typer.Option(min=1, help="Cap on the server's heartbeat interval (s).")
    ] = None,
    speed: Annotated[
        float, typer.Option(min=0.01, help="Time acceleration of the charging physics.")
    ] = 1.0,
    id_tag: Annotated[
        list[str] | None, typer.Option("--id-tag", help="Driver id tag (repeatable).")
    ] = None,
    control_port: Annotated[
        int, typer.Option(min=0, max=65535, help="Local control HTTP port (0 = off).")
    ] = 0,
    seed: Annotated[int | None, typer.Option(help="Seed for reproducible randomness.")] = None,
    take_over: Annotated[
        bool,
        typer.Option(
            help="Give the listed stations themselves new passwords (locks out the chargers "
            "that use them). Without it the simulator registers and runs stations of its own "
            "(SIM-…) beside them, and changes no other station."
        ),
    ] = False,
) -> None:
    """Simulate charging stations: real OCPP clients with sessions, faults and reservations."""
    if not operator_email or not operator_password:
        raise typer.BadParameter(
            "give --operator-email and --operator-password "
            "(or VOLTBOOK_SIM_OPERATOR_EMAIL / VOLTBOOK_SIM_OPERATOR_PASSWORD)"
        )
    if any(not 0 < len(tag) <= 20 for tag in id_tag or ()):
        raise typer.BadParameter("1 to 20 characters (the OCPP 1.6 limit)", param_hint="--id-tag")
    point = parse_near(near)
    rng = random.Random(seed)  # noqa: S311 - simulation, not security
    tags = tuple(id_tag or (random_id_tag(rng) for _ in range(4)))
    options = SimOptions(
        version=version.value,
        session_rate=session_rate,
        meter_interval=meter_interval,
        heartbeat_interval=heartbeat_interval,
        speed=speed,
        id_tags=tags,
        seed=seed,
        control_port=control_port,
        on_event=print_event,
    )

    async def main() -> None:
        specs = await fetch_station_specs(
            url, operator_email, operator_password, count, near=point, take_over=take_over
        )
        if not specs:
            raise SimError("the server lists no stations")
        if len(specs) < count:
            console.print(f"[yellow]only {len(specs)} stations available[/]")
        console.print(
            f"simulating {len(specs)} stations (OCPP {options.version}) against {escape(url)}; "
            f"id tags {', '.join(tags)}"
            + (f"; control on http://127.0.0.1:{control_port}" if control_port else "")
        )
        await run_stations(url, specs, options)

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        console.print("stopped")
    except (SimError, httpx.HTTPError) as error:
        console.print(f"[red]error:[/] {escape(str(error) or type(error).__name__)}")
        raise typer.Exit(code=1) from None
