"""Reconnect storm: N stations (default 2,000) dropped at once reconnect with jitter.

Each station is a real WebSocket client (the minimal OCPP-J client of `ocpp_ingest`, 1.6).
Before the storm every station connects, sends BootNotification and a StatusNotification
(Unavailable). Then all connections are dropped at the same instant, and each station comes
back after a random delay within the jitter window (default 0.5 s): it connects (HTTP Basic,
the station password), sends BootNotification and a StatusNotification (Available). A
refused or failed connect is tried again after 0.5 s, as a charger would.

Figures, from the drop:
* admitted: until the last station's WebSocket handshake was accepted;
* ready: until the last station's StatusNotification was answered.

The ceiling is a bare `websockets` server (uvloop, no OCPP, no app) that accepts the same
clients and echoes their frames, measured in the same run with the same drop and the same
jitter. ratio = voltbook's time ÷ the bare server's; the target is admission in at most 2
times the bare server's (a storm of 2,000 chargers took about 20 times as long before
station passwords moved to a keyed hash, docs/adr/0015). The jitter window is a floor
under both times.

Afterwards voltbook must show every station online, its connector's status Available, and
exactly N station connections (`voltbook_stations_connected`): no station twice.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

from benchmarks.common import Row, Stats, fresh_database, print_lines
from benchmarks.ocpp_ingest import (
    BOOT,
    DEFAULT_PG_ADMIN,
    ECHO_SERVER,
    HOST,
    V16,
    HandshakeRefused,
    Served,
    Station,
    child_server,
    free_port,
    open_station,
    raise_fd_limit,
    script_server,
    voltbook_env,
)
from voltbook.security.station_keys import StationPasswordHasher
from voltbook.storage import migrate
from voltbook.storage.database import create_engine
from voltbook.storage.tables import connectors, stations

PASSWORD = "storm-station-password-0001"
STATION_KEY = "storm-benchmark-station-key-0123456789abcdef"
TARGET_RATIO = 2.0
CONNECT_BATCH = 100  # stations connecting at once before the storm
RETRY_S = 0.5
ATTEMPTS = 20


@dataclass(slots=True)
class Storm:
    """What one storm took, from the drop."""

    stations: int
    jitter_s: float
    admitted_s: float = 0.0
    ready_s: float = 0.0
    retries: int = 0
    failures: list[str] = field(default_factory=list)
    admissions_s: list[float] = field(default_factory=list)  # each station's, from the drop

    def admitted_quantiles(self) -> str:
        """When half, nine tenths and all of the stations were admitted."""
        times = sorted(self.admissions_s)
        if not times:
            return "-"
        at = [times[min(len(times) - 1, int(q * len(times)))] for q in (0.5, 0.9)]
        return f"{at[0]:.2f} / {at[1]:.2f} / {times[-1]:.2f}"


def _no() -> None:
    pass


async def _call(station: Station, action: str, payload: dict[str, object]) -> None:
    await station.call(action, dict(payload), timeout_s=120.0)


def _status(status: str) -> tuple[str, dict[str, object]]:
    return (
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": status},
    )


async def _come_up(
    station_id: str, port: int, status: str, storm: Storm, on_admitted: Callable[[], None] = _no
) -> Station:
    """Connect, boot and report `status`; after a refusal or a lost connection, again after
    a pause, as a charger does."""
    for attempt in range(ATTEMPTS):
        station: Station | None = None
        try:
            station = await open_station(station_id, PASSWORD, V16, port)
            on_admitted()
            await _call(station, *BOOT[V16])
            await _call(station, *_status(status))
        except (OSError, HandshakeRefused, TimeoutError, RuntimeError) as error:
            if station is not None:
                station.abort()
            if attempt == ATTEMPTS - 1:
                raise RuntimeError(f"{station_id}: {type(error).__name__}: {error}") from None
            storm.retries += 1
            await asyncio.sleep(RETRY_S)
        else:
            return station
    raise AssertionError("unreachable")


async def prepare(ids: Sequence[str], port: int) -> list[Station]:
    """Every station connected, booted and Unavailable: the state before the storm."""
    opened: list[Station] = []
    setup = Storm(len(ids), 0.0)

    async def one(station_id: str) -> None:
        opened.append(await _come_up(station_id, port, "Unavailable", setup))

    for start in range(0, len(ids), CONNECT_BATCH):
        await asyncio.gather(*(one(i) for i in ids[start : start + CONNECT_BATCH]))
    return opened


async def storm(
    ids: Sequence[str], port: int, jitter_s: float, seed: int
) -> tuple[Storm, list[Station]]:
    """Prepare, drop every connection at once, and bring every station back with jitter.
    Returns the figures and the reconnected stations (the caller closes them)."""
    before = await prepare(ids, port)
    rng = random.Random(seed)
    delays = [rng.uniform(0.0, jitter_s) for _ in ids]
    result = Storm(len(ids), jitter_s)
    back: list[Station] = []
    dropped = time.perf_counter()
    for station in before:
        station.abort()

    async def return_(station_id: str, delay: float) -> None:
        await asyncio.sleep(delay)

        def admitted() -> None:
            took = time.perf_counter() - dropped
            result.admissions_s.append(took)
            result.admitted_s = max(result.admitted_s, took)

        try:
            back.append(await _come_up(station_id, port, "Available", result, admitted))
            result.ready_s = max(result.ready_s, time.perf_counter() - dropped)
        except RuntimeError as error:
            result.failures.append(f"{station_id}: {type(error).__name__}: {error}")

    await asyncio.gather(*(return_(i, d) for i, d in zip(ids, delays, strict=True)))
    return result, back


def close_all(stations_open: Sequence[Station]) -> None:
    for station in stations_open:
        station.abort()


# --- what voltbook must show afterwards ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Afterwards:
    online: int
    available: int
    connected: int  # connections the server holds (its gauge)


async def afterwards(url: str, port: int, ids: Sequence[str]) -> Afterwards:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            online = await connection.scalar(
                sa.select(sa.func.count())
                .select_from(stations)
                .where(stations.c.id.in_(ids), stations.c.online.is_(True))
            )
            available = await connection.scalar(
                sa.select(sa.func.count())
                .select_from(connectors)
                .where(connectors.c.station_id.in_(ids), connectors.c.status == "Available")
            )
    finally:
        await engine.dispose()
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=30) as client:
        metrics = (await client.get("/metrics")).text
    return Afterwards(int(online or 0), int(available or 0), connected_gauge(metrics))


def connected_gauge(metrics: str) -> int:
    for line in metrics.splitlines():
        if line.startswith("voltbook_stations_connected "):
            return int(float(line.split()[1]))
    raise RuntimeError("no voltbook_stations_connected in /metrics")


async def insert_stations(url: str, ids: Sequence[str]) -> None:
    """Register the stations by writing their rows, each with the keyed password hash the
    server checks (docs/adr/0015); the key reaches the server as VOLTBOOK_STATION_KEY."""
    hasher = StationPasswordHasher(STATION_KEY.encode())
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        now = datetime.now(UTC)
        rows = [
            {"id": i, "password_hash": hasher.hash(PASSWORD), "online": False, "created_at": now}
            for i in ids
        ]
        async with engine.begin() as connection:
            for start in range(0, len(rows), 1_000):
                await connection.execute(stations.insert(), rows[start : start + 1_000])
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def voltbook(url: str, workdir: Path) -> AsyncIterator[Served]:
    port = free_port()
    env = voltbook_env(url, workdir) | {"VOLTBOOK_STATION_KEY": STATION_KEY}
    command = [sys.executable, "-m", "voltbook", "serve", "--host", HOST, "--port", str(port)]
    async with child_server("voltbook", command, env, workdir, port, http=True) as served:
        yield served


# --- the benchmark -----------------------------------------------------------------------------


HEADERS = (
    *("server", "database", "stations", "jitter s", "admitted s", "ready s", "retries"),
    *("ratio admitted", "ratio ready", "online", "Available", "connections", "met"),
)
_RIGHT = set(HEADERS[2:-1])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("storm")
    group.add_argument(
        "--storm-stations", type=int, default=2_000, help="stations in the storm (default 2,000)"
    )
    group.add_argument(
        "--storm-jitter",
        type=float,
        default=0.5,
        help="seconds within which each station comes back (default 0.5)",
    )
    group.add_argument(
        "--storm-db",
        choices=("sqlite", "postgresql"),
        default="postgresql",
        help="voltbook's database (default postgresql)",
    )


async def run(args: argparse.Namespace) -> list[Row]:
    count = args.storm_stations
    limit = raise_fd_limit()
    if limit < 2 * count + 200:
        raise RuntimeError(f"{count} stations need more than the {limit} open files allowed")
    ids = [f"STORM-{n:05d}-{secrets.token_hex(2)}" for n in range(count)]
    admin_dsn = os.environ.get("VOLTBOOK_BENCH_PG_ADMIN", DEFAULT_PG_ADMIN)
    with tempfile.TemporaryDirectory(prefix="voltbook-storm-") as tmp:
        workdir = Path(tmp)
        async with script_server("bare websockets", ECHO_SERVER, workdir) as bare:
            ceiling, opened = await storm(ids, bare.port, args.storm_jitter, args.seed)
            close_all(opened)
        async with fresh_database(args.storm_db, admin_dsn, workdir) as url:
            await insert_stations(url, ids)
            async with voltbook(url, workdir) as served:
                measured, opened = await storm(ids, served.port, args.storm_jitter, args.seed)
                after = await afterwards(url, served.port, ids)
                close_all(opened)
    ratio_admitted = measured.admitted_s / ceiling.admitted_s
    ratio_ready = measured.ready_s / ceiling.ready_s
    correct = not measured.failures and after == Afterwards(count, count, count)
    met = correct and ratio_admitted <= TARGET_RATIO
    lines = [
        _cells("bare websockets", "-", ceiling, None, None, None),
        [
            *_cells("voltbook", args.storm_db, measured, ratio_admitted, ratio_ready, after),
            "yes" if met else "NO",
        ],
    ]
    lines[0].append("")
    print_lines(
        f"Reconnect storm: {count:,} OCPP 1.6 stations dropped at once, back within "
        f"{args.storm_jitter:g} s (Boot + StatusNotification); ratio = voltbook ÷ bare server; "
        f"target: admitted in ≤ {TARGET_RATIO:g}×",
        HEADERS,
        lines,
        _RIGHT,
        args.style,
    )
    print(f"ratio admitted {ratio_admitted:.2f}, ratio ready {ratio_ready:.2f}")
    for name, figures in (("bare websockets", ceiling), ("voltbook", measured)):
        print(f"{name}: half, nine tenths and all admitted after {figures.admitted_quantiles()} s")
    for failure in (ceiling.failures + measured.failures)[:5]:
        print(f"failure: {failure}")
    return [
        _row("bare websockets", "-", ceiling, None),
        _row("voltbook", args.storm_db, measured, met),
    ]


def _cells(
    server: str,
    database: str,
    figures: Storm,
    ratio_admitted: float | None,
    ratio_ready: float | None,
    after: Afterwards | None,
) -> list[str]:
    return [
        server,
        database,
        f"{figures.stations:,}",
        f"{figures.jitter_s:g}",
        f"{figures.admitted_s:.2f}",
        f"{figures.ready_s:.2f}",
        str(figures.retries),
        "" if ratio_admitted is None else f"{ratio_admitted:.2f}",
        "" if ratio_ready is None else f"{ratio_ready:.2f}",
        "" if after is None else f"{after.online:,}",
        "" if after is None else f"{after.available:,}",
        "" if after is None else f"{after.connected:,}",
    ]


def _row(server: str, database: str, figures: Storm, met: bool | None) -> Row:
    stats = Stats(
        concurrency=figures.stations,
        count=figures.stations - len(figures.failures),
        errors=len(figures.failures),
        elapsed_s=figures.admitted_s,
        latencies_ms=[figures.admitted_s * 1000, figures.ready_s * 1000],
        first_error=figures.failures[0] if figures.failures else None,
    )
    return Row(
        database,
        f"{figures.stations} stations, jitter {figures.jitter_s:g} s",
        server,
        stats,
        target=f"admitted ≤ {TARGET_RATIO:g}× bare" if met is not None else "",
        met=met,
    )
