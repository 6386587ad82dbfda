"""The `voltbook` command."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from voltbook.account_command import account_app
from voltbook.city.command import app as city_app
from voltbook.config import Settings
from voltbook.core.errors import DomainError
from voltbook.drivers.model import Role
from voltbook.forecast_cli import forecast_app
from voltbook.sim.command import sim_command
from voltbook.tag_cli import tag_app

app = typer.Typer(help="voltbook: find, reserve and fill EV chargers.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="Accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(tag_app, name="tag")
app.add_typer(forecast_app, name="forecast")
app.add_typer(account_app, name="account")
console = Console(stderr=True)


def _settings(**overrides: Any) -> Settings:
    from pydantic import ValidationError

    from voltbook.logs import configure_logging

    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        raise typer.BadParameter(str(error.errors()[0]["msg"])) from error
    configure_logging(settings.log_level, settings.log_json)
    return settings


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest revision."""
    from voltbook.storage import migrate
    from voltbook.storage.database import create_engine

    settings = _settings()

    async def run() -> None:
        engine = create_engine(settings.resolved_database_url())
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    console.print("schema is at the newest revision")


@app.command("import-stations")
def import_stations(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    source: Annotated[str, typer.Option(help="Name of the data source (part of the key)")] = "afdc",
) -> None:
    """Import sites, stations and connectors from a station CSV; re-importing updates."""
    settings = _settings()
    created, updated, skipped = asyncio.run(_import(settings, file, source))
    if skipped and not (created or updated):
        raise typer.Exit(code=1)


async def _import(settings: Settings, file: Path, source: str) -> tuple[int, int, int]:
    from voltbook.bootstrap import open_services
    from voltbook.stations.importing import RowProblem, read_site_rows
    from voltbook.stations.ports import SitePlan

    with file.open(encoding="utf-8", newline="") as handle:
        total_rows = max(0, sum(1 for _ in handle) - 1)
    problems: list[RowProblem] = []
    async with open_services(settings, upgrade=True, serving=False) as services:
        with (
            file.open(encoding="utf-8", newline="") as handle,
            Progress(
                TextColumn("importing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as progress,
        ):
            task = progress.add_task("import", total=total_rows)

            def plans() -> Iterator[SitePlan]:
                for item in read_site_rows(handle, source):
                    if isinstance(item, RowProblem):
                        problems.append(item)
                        progress.advance(task)
                    else:
                        yield item

            report = await services.stations.import_sites(
                plans(),
                source=source,
                progress=lambda n: progress.advance(task, n),
            )
    await _analyze(settings)
    for problem in problems:
        console.print(f"[yellow]line {problem.line}: skipped, {problem.reason}[/]")
    skipped = len(problems)
    console.print(f"created {report.created}, updated {report.updated}, skipped {skipped}")
    return report.created, report.updated, skipped


@user_app.command("create")
def user_create(
    email: str,
    role: Annotated[Role, typer.Option(case_sensitive=False)] = Role.DRIVER,
    password: Annotated[
        str | None, typer.Option(help="For scripts; prompted for when left out")
    ] = None,
) -> None:
    """Create an account (drivers register themselves; operators and admins are made here)."""
    settings = _settings()
    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    from voltbook.bootstrap import open_services

    async def run() -> str:
        async with open_services(settings, upgrade=True, serving=False) as services:
            return (await services.accounts.register(email, password, role)).id

    try:
        driver_id = asyncio.run(run())
    except DomainError as error:
        console.print(f"[red]{error.detail}[/]")
        raise typer.Exit(code=1) from None
    console.print(f"created {role.value} {driver_id}")


station_app = typer.Typer(help="Charging stations.", no_args_is_help=True)
app.add_typer(station_app, name="station")


@station_app.command("add")
def station_add(
    station_id: Annotated[str, typer.Argument(help="The station's OCPP identity")],
    password: Annotated[
        str | None, typer.Option(help="16 to 40 characters; made and printed when left out")
    ] = None,
    site: Annotated[int | None, typer.Option(help="The site the station stands at")] = None,
) -> None:
    """Register a station so that it may connect (HTTP Basic, security profile 1/2)."""
    settings = _settings()
    from voltbook.bootstrap import open_services

    async def run() -> str:
        async with open_services(settings, upgrade=True, serving=False) as services:
            return (await services.fleet.register(station_id, password, site)).password

    try:
        made = asyncio.run(run())
    except DomainError as error:
        console.print(f"[red]{error.detail}[/]")
        raise typer.Exit(code=1) from None
    console.print(f"registered station {station_id}")
    if password is None:
        typer.echo(made)


CertFile = Annotated[
    Path | None, typer.Option(help="TLS certificate (PEM) to serve HTTPS with, for phones")
]
KeyFile = Annotated[Path | None, typer.Option(help="The certificate's private key (PEM)")]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    certfile: CertFile = None,
    keyfile: KeyFile = None,
    time_scale: Annotated[
        float | None,
        typer.Option(help="Simulated seconds per real second (needs VOLTBOOK_SIMULATION=true)"),
    ] = None,
) -> None:
    """Run the server (migrating the schema first)."""
    settings = _with_tls(_settings(time_scale=time_scale), certfile, keyfile)
    _run_fast(_serve(settings, host or settings.host, port or settings.port))


def _run_fast(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop where it is installed: `asyncio.run` would keep uvicorn on the standard
    loop (its `loop="auto"` only applies when uvicorn makes the loop itself)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def _server(settings: Settings, host: str, port: int) -> uvicorn.Server:
    from voltbook.api.app import create_app
    from voltbook.api.lean_websocket import LeanWebSocketProtocol
    from voltbook.api.web import WebOptions
    from voltbook.bootstrap import open_services

    web = WebOptions(tile_url=settings.tile_url, tile_attribution=settings.tile_attribution)
    config = uvicorn.Config(
        create_app(
            lambda: open_services(settings),
            web=web,
            cors_origins=settings.cors_origins,
            body_limit=settings.max_body_bytes,
            body_limits=settings.body_limits,
        ),
        host=host,
        port=port,
        ssl_certfile=settings.certfile,
        ssl_keyfile=settings.keyfile,
        access_log=False,  # the query string holds coordinates; metrics count requests
        log_level="warning",
        # Forwarded headers only from the proxies named in the settings (none by default).
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        # A close goes out at once to a peer that stopped reading (ADR 0031), and an idle
        # socket keeps less (ADR 0032).
        ws=LeanWebSocketProtocol,
        ws_max_size=settings.ocpp_max_frame_bytes,  # bigger frames close with 1009
        # Pings keep live channels and station sockets open through proxies and find dead
        # peers; a peer that does not answer within the same time is dropped.
        ws_ping_interval=settings.live_ping_interval_s,
        ws_ping_timeout=settings.live_ping_interval_s,
    )
    return uvicorn.Server(config)


def _with_tls(settings: Settings, certfile: Path | None, keyfile: Path | None) -> Settings:
    """Settings with the certificate and key given on the command line, both or neither."""
    cert, key = certfile or settings.certfile, keyfile or settings.keyfile
    if (cert is None) != (key is None):
        console.print("[red]--certfile and --keyfile go together[/]")
        raise typer.Exit(code=2)
    for path in (cert, key):
        if path is not None and not path.is_file():
            console.print(f"[red]{path} is not a file[/]")
            raise typer.Exit(code=2)
    return settings.model_copy(update={"certfile": cert, "keyfile": key})


def _base_url(settings: Settings, host: str, port: int) -> str:
    return f"{'https' if settings.certfile else 'http'}://{host}:{port}"


async def _analyze(settings: Settings) -> None:
    from voltbook.storage.database import analyze_sites, create_engine

    engine = create_engine(settings.resolved_database_url())
    try:
        await analyze_sites(engine)
    finally:
        await engine.dispose()


async def _migrate(settings: Settings) -> None:
    from voltbook.storage import migrate
    from voltbook.storage.database import create_engine

    engine = create_engine(settings.resolved_database_url())
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


async def _serve(settings: Settings, host: str, port: int) -> None:
    from voltbook.heap import settle_once_started

    await _migrate(settings)
    server = _server(settings, host, port)
    settling = asyncio.create_task(settle_once_started(server))
    try:
        await server.serve()
    finally:
        settling.cancel()


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    stations: Annotated[
        int, typer.Option(help="Simulated chargers near downtown Boston (0: none)")
    ] = 25,
    certfile: CertFile = None,
    keyfile: KeyFile = None,
) -> None:
    """Embedded SQLite, the bundled real stations, simulated chargers, and the server."""
    from voltbook.bootstrap import bundled_stations

    # The simulated drivers use their own id tags: the demo network lets any tag charge.
    settings = _with_tls(_settings(), certfile, keyfile).model_copy(
        update={"ocpp_accept_unknown_id_tags": True}
    )
    if "VOLTBOOK_LOG_LEVEL" not in os.environ:
        from voltbook.logs import configure_logging

        configure_logging("warning", settings.log_json)  # the banner, not every connection
    console.print(f"database: {settings.resolved_database_url()}")
    asyncio.run(_import(settings, bundled_stations(), "afdc"))
    email, password = asyncio.run(_demo_operator(settings))
    driver = asyncio.run(_demo_driver(settings))
    asyncio.run(_demo(settings, host, port, stations, (email, password), driver))


async def _demo_operator(settings: Settings) -> tuple[str, str]:
    """The demo's operator account; its password is made once and kept in the data dir."""
    import secrets

    from voltbook.bootstrap import open_services
    from voltbook.core.errors import Conflict

    email = "operator@voltbook.example"
    path = settings.data_dir / "secrets" / "demo-operator"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(secrets.token_urlsafe(12), encoding="ascii")
        path.chmod(0o600)
    password = path.read_text(encoding="ascii").strip()
    async with open_services(settings, upgrade=True, serving=False) as services:
        with contextlib.suppress(Conflict):  # made by an earlier demo, with this password
            await services.accounts.register(email, password, Role.OPERATOR)
    return email, password


async def _demo_driver(settings: Settings) -> tuple[str, str]:
    """The demo's driver account and its running offer downtown."""
    from voltbook.bootstrap import open_services
    from voltbook.demo import demo_driver, demo_offer

    async with open_services(settings, upgrade=True, serving=False) as services:
        driver = await demo_driver(services, settings.data_dir)
        await demo_offer(services)
    return driver


async def _demo(
    settings: Settings,
    host: str,
    port: int,
    count: int,
    operator: tuple[str, str],
    driver: tuple[str, str],
) -> None:
    from voltbook.heap import settle_once_started
    from voltbook.sim import SimOptions, fetch_station_specs, run_stations

    email, password = operator
    url = _base_url(settings, host, port)
    server = _server(settings, host, port)
    serving = asyncio.create_task(server.serve())
    settling = asyncio.create_task(settle_once_started(server))
    while not server.started:
        if serving.done():
            return
        await asyncio.sleep(0.05)
    simulating = None
    if count:
        # The demo's own database: it runs the stations it lists (see `voltbook sim`).
        specs = await fetch_station_specs(
            url, email, password, count, near=(42.3555, -71.0605), take_over=True
        )
        options = SimOptions(session_rate=4.0, meter_interval=15.0, seed=None)
        simulating = asyncio.create_task(run_stations(url, specs, options))
    console.print(
        f"voltbook is running at {url}  ({count} simulated chargers near downtown Boston)\n"
        f"  driver app: {url}/  (on a phone: see the README, 'Using the app on a phone')\n"
        f"  driver sign-in: {driver[0]} / {driver[1]}\n"
        f"  chargers free now: {url}/api/v1/stations/nearby?lat=42.3555&lon=-71.0605"
        "&radius_m=3000&available=true\n"
        f"  API reference: {url}/docs\n"
        f"  operator console: {url}/console\n"
        f"  operator sign-in: {email} / {password}\n"
        "  Ctrl+C stops",
        soft_wrap=True,
    )
    try:
        await serving
    finally:
        settling.cancel()
        if simulating is not None:
            simulating.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await simulating


app.command("sim", help="Simulated OCPP chargers for the stations a server lists.")(sim_command)
app.add_typer(city_app, name="simulate")


def main() -> None:
    app()
