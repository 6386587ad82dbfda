"""Reservations: bookings per second through the API, and no two of them overlapping.

A fresh database (PostgreSQL by default; SQLite with `--db sqlite|both`) gets 200 stations
with 10 EVSEs each (every station on its own site, open 24 hours), one "hot" station, one
station for the ceiling, and 5,000 drivers (rows written straight into `drivers`, each with
an id tag already, so the figure is a returning driver's booking). Their JWTs are signed
with the server's own secret. `voltbook serve` runs in a child process (one uvicorn
process, as deployed) with the per-driver limit and the horizon raised (1,000,000 live
bookings, 365 days), so that what is measured is booking and not a refusal by the rules;
every slot lies hours or days ahead, so no hand-off falls due during the run.

This process is the load generator: C workers (default 32), each on its own keep-alive
HTTP/1.1 connection (a minimal raw client, `HttpConnection` of benchmarks/common.py with a
POST added: httpx would cost more CPU than the server on a 2-core machine), each sending
`POST /api/v1/reservations` with a Bearer token and a unique Idempotency-Key as soon as the
previous answer has arrived. Figures, each measured for `--seconds` after a warm-up:

* spread: every request books a distinct (station, EVSE, 30-minute slot) of 2,000 EVSEs,
  so every answer should be 201; anything else counts as an error;
* hot connector, 5 slots: every request asks for one of 5 fixed slots of one EVSE. The
  first 5 win (in the warm-up); the measured requests are all refusals (409, with the next
  free slots worked out), the path a popular connector sees most;
* hot connector, rolling: one EVSE, with 5 slots open at any moment, each asked for by
  C/5 requests sent at about the same time, so that they race each other into the
  exclusion constraint (PostgreSQL) or the trigger (SQLite): about 1 in C/5 gets a 201;
* service.book (in this process): the spread scenario called on `ReservationService.book`
  directly, through an engine with the server's pool size: the booking without HTTP,
  JSON and JWT.

Ceilings, measured in the same run with the same concurrency: `GET /healthz` on the same
server with the same client, and plain INSERTs of a booking row into `reservations`
itself (non-overlapping, so the exclusion constraint's index is maintained as for a
booking), each in its own transaction, through a SQLAlchemy async engine with the server's
pool size. ratio = bookings/s (hot connector: requests/s) ÷ ceiling.

Afterwards a check query looks for two live bookings of one EVSE whose windows overlap;
there must be none, and every booking the client saw acknowledged must be stored. See
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.common import (
    QUIET,
    Call,
    Ceiling,
    CpuSnapshot,
    HttpConnection,
    HttpLoad,
    Row,
    Stats,
    asyncpg_dsn,
    free_port,
    fresh_database,
    measure,
    print_lines,
)
from voltbook import bootstrap
from voltbook.config import Settings
from voltbook.core.clock import SystemClock
from voltbook.drivers.model import Principal, Role
from voltbook.reservations.model import BookingRequest
from voltbook.security.tokens import JwtTokens
from voltbook.services import Services
from voltbook.storage import migrate
from voltbook.storage.database import create_engine, is_sqlite
from voltbook.storage.tables import (
    connectors,
    drivers,
    id_tokens,
    reservations,
    sign_ins,
    sites,
    stations,
)
from voltbook.storage.write_turns import WriteTurns

DEFAULT_PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
HOST = "127.0.0.1"
SLOT = timedelta(minutes=30)
HOT_SLOTS = 5
MAX_LIVE = 1_000_000
HORIZON_DAYS = 365
TARGET_RATE = 1_000.0
TARGET_P99_MS = 50.0
OPENING_HOURS = "24 hours daily"
TIMEZONE = "America/New_York"
BOOK_PATH = b"/api/v1/reservations"
# Where in time each scenario books (days after the epoch), so that none takes another's slot.
DAY_HOT_FIXED = 0
DAY_HOT_ROLLING = 1
DAY_SERVICE = 100
DAY_HTTP = 200

HOT_STATION = "RES-HOT"
CEILING_STATION = "RES-CEILING"


# --- the data set ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fixture:
    stations: list[str]  # the spread scenario's
    evses: int  # per station
    driver_ids: list[str]
    authorizations: list[bytes]  # "Authorization: Bearer ...\r\n", one per driver
    epoch: datetime  # slots are counted from here: a whole hour, hours ahead


async def load_fixture(
    engine: AsyncEngine, secret: str, station_count: int, evses: int, driver_count: int
) -> Fixture:
    now = datetime.now(UTC)
    names = [f"RES-{n:04d}" for n in range(1, station_count + 1)]
    every = [*names, HOT_STATION, CEILING_STATION]
    driver_ids = [f"bench-driver-{n:05d}" for n in range(driver_count)]
    async with engine.begin() as connection:
        await connection.execute(
            sites.insert(),
            [
                {
                    "id": n,
                    "source": "bench",
                    "source_id": station,
                    "name": f"Benchmark site {n}",
                    "city": "Boston",
                    "region": "MA",
                    "country": "US",
                    "lat": 42.0 + n * 0.001,
                    "lon": -71.0 - n * 0.001,
                    "opening_hours": OPENING_HOURS,
                    "timezone": TIMEZONE,
                    "created_at": now,
                    "updated_at": now,
                }
                for n, station in enumerate(every, start=1)
            ],
        )
        await connection.execute(
            stations.insert(),
            [
                {"id": station, "site_id": n, "online": False, "created_at": now}
                for n, station in enumerate(every, start=1)
            ],
        )
        await connection.execute(
            connectors.insert(),
            [
                {
                    "station_id": station,
                    "evse_id": evse,
                    "connector_id": 1,
                    "standard": "IEC_62196_T1_COMBO",
                    "power_type": "DC",
                    "max_power_kw": 150.0,
                    "status": "Available",
                    "status_since": now,
                }
                for station in every
                for evse in range(1, evses + 1)
            ],
        )
        await connection.execute(
            drivers.insert(),
            [
                {
                    "id": d,
                    "email": f"{d}@example.org",
                    "password_hash": "unused",
                    "role": "driver",
                    "created_at": now,
                }
                for d in driver_ids
            ],
        )
        await connection.execute(
            id_tokens.insert(),
            [
                {"token": f"VB{n:010X}", "driver_id": d, "status": "Accepted", "created_at": now}
                for n, d in enumerate(driver_ids)
            ],
        )
        await connection.execute(
            sign_ins.insert(),
            [{"id": f"si-{d}", "driver_id": d, "created_at": now} for d in driver_ids],
        )
        if not is_sqlite(str(engine.url)):
            await connection.execute(
                sa.text(
                    "SELECT setval(pg_get_serial_sequence('sites', 'id'), "
                    "(SELECT max(id) FROM sites))"
                )
            )
    tokens = JwtTokens(secret, 3600 * 4, SystemClock())
    authorizations = [
        b"Authorization: Bearer "
        + tokens.issue(Principal(d, Role.DRIVER, f"si-{d}"))[0].encode("ascii")
        + b"\r\n"
        for d in driver_ids
    ]
    epoch = (now + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    return Fixture(names, evses, driver_ids, authorizations, epoch)


async def settle(url: str, engine: AsyncEngine) -> None:
    """Statistics for the planner and a checkpoint, so neither autovacuum's first pass nor
    the checkpointer runs during the measurements."""
    if is_sqlite(url):
        async with engine.begin() as connection:
            await connection.execute(sa.text("ANALYZE"))
        return
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute("VACUUM ANALYZE")
        await connection.execute("CHECKPOINT")
    finally:
        await connection.close()


# --- where each request books ---------------------------------------------------------

Target = Callable[[int], tuple[str, int, datetime]]


def spread_target(fixture: Fixture, day: int) -> Target:
    """Request n: a distinct (station, EVSE, slot), walking all EVSEs before the next slot."""
    per_slot = len(fixture.stations) * fixture.evses
    count = len(fixture.stations)
    base = fixture.epoch + timedelta(days=day)

    def target(n: int) -> tuple[str, int, datetime]:
        slot, rest = divmod(n, per_slot)
        return fixture.stations[rest % count], rest // count + 1, base + slot * SLOT

    return target


def hot_fixed_target(fixture: Fixture) -> Target:
    base = fixture.epoch + timedelta(days=DAY_HOT_FIXED)

    def target(n: int) -> tuple[str, int, datetime]:
        return HOT_STATION, 1, base + (n % HOT_SLOTS) * SLOT

    return target


def hot_rolling_target(fixture: Fixture, concurrency: int) -> Target:
    """5 slots open at a time, each wanted by about concurrency/5 requests in flight."""
    group = max(concurrency, HOT_SLOTS)
    base = fixture.epoch + timedelta(days=DAY_HOT_ROLLING)

    def target(n: int) -> tuple[str, int, datetime]:
        return HOT_STATION, 1, base + ((n // group) * HOT_SLOTS + n % HOT_SLOTS) * SLOT

    return target


# --- the load -------------------------------------------------------------------------


class HttpPost(HttpConnection):
    """`HttpConnection` (benchmarks/common.py) with a POST of a ready-made JSON body."""

    async def post(self, path: bytes, headers: bytes, body: bytes) -> tuple[int, bytes]:
        self._writer.write(
            b"POST "
            + path
            + b" HTTP/1.1\r\nHost: "
            + self._host
            + b"\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode("ascii")
            + b"\r\n"
            + headers
            + b"\r\n"
            + body
        )
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            return status, await self._chunked_body()
        return status, await self._reader.readexactly(length)


class PostLoad:
    """One keep-alive connection per worker."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._connections: dict[int, HttpPost] = {}

    async def post(
        self, worker: int, path: bytes, headers: bytes, body: bytes
    ) -> tuple[int, bytes]:
        connection = self._connections.get(worker)
        if connection is None:
            connection = self._connections[worker] = await HttpPost.open(self.host, self.port)
        try:
            return await connection.post(path, headers, body)
        except BaseException:
            del self._connections[worker]
            await connection.close()
            raise

    async def close(self) -> None:
        for connection in self._connections.values():
            await connection.close()
        self._connections.clear()


@dataclass(slots=True)
class Tally:
    """Every answer of a scenario, warm-ups and re-measurements included."""

    key_prefix: str
    created: int = 0
    refused: int = 0
    other: Counter[int] = field(default_factory=Counter)
    asked: set[tuple[str, int, datetime]] = field(default_factory=set)


def http_booking(
    load: PostLoad, fixture: Fixture, target: Target, tally: Tally, *, refusals_ok: bool
) -> Call:
    """POST /api/v1/reservations; returns 1 for a 201 (0 for an expected 409)."""
    counter = itertools.count()  # measure() restarts its numbers on every attempt
    authorizations = fixture.authorizations
    prefix = tally.key_prefix

    async def call(_index: int, worker: int) -> int:
        n = next(counter)
        station, evse, start = target(n)
        tally.asked.add((station, evse, start))
        body = (
            f'{{"station_id":"{station}","connector_id":{evse},'
            f'"start":"{start.isoformat()}","minutes":{SLOT.seconds // 60}}}'
        ).encode("ascii")
        headers = (
            authorizations[n % len(authorizations)]
            + b"Idempotency-Key: "
            + f"{prefix}-{n}".encode("ascii")
            + b"\r\n"
        )
        status, answer = await load.post(worker, BOOK_PATH, headers, body)
        if status == 201:
            tally.created += 1
            return 1
        if status == 409 and refusals_ok:
            tally.refused += 1
            return 0
        tally.other[status] += 1
        raise RuntimeError(f"HTTP {status}: {answer[:300]!r}")

    return call


def service_booking(services: Services, fixture: Fixture, target: Target, tally: Tally) -> Call:
    """`ReservationService.book` in this process: the booking without HTTP, JSON and JWT."""
    counter = itertools.count()
    book = services.reservations.book
    minutes = SLOT.seconds // 60

    async def call(_index: int, _worker: int) -> int:
        n = next(counter)
        station, evse, start = target(n)
        request = BookingRequest(station, minutes, evse_id=evse, starts_at=start)
        driver = fixture.driver_ids[n % len(fixture.driver_ids)]
        await book(driver, request, f"{tally.key_prefix}-{n}")
        tally.created += 1
        return 1

    return call


def insert_ceiling(engine: AsyncEngine, fixture: Fixture, tally: Tally) -> Call:
    """A booking row INSERTed into `reservations`, one transaction each: the ceiling. On
    SQLite the writers take turns in this process as the server's do (docs/adr/0032), so
    that the ceiling is not held down by SQLite's polling for its write lock."""
    counter = itertools.count()
    turns = WriteTurns() if is_sqlite(str(engine.url)) else None
    statement = reservations.insert().returning(reservations.c.id)
    created = datetime.now(UTC)
    base = fixture.epoch

    async def call(_index: int, _worker: int) -> int:
        n = next(counter)
        slot, evse = divmod(n, fixture.evses)
        starts_at = base + slot * SLOT
        if turns is not None:
            await turns.take()
        try:
            await insert(n, evse, starts_at)
        finally:
            if turns is not None:
                turns.give_back()
        tally.created += 1
        return 1

    async def insert(n: int, evse: int, starts_at: datetime) -> None:
        async with engine.begin() as connection:
            await connection.execute(
                statement,
                {
                    "driver_id": fixture.driver_ids[n % len(fixture.driver_ids)],
                    "station_id": CEILING_STATION,
                    "evse_id": evse + 1,
                    "any_evse": False,
                    "starts_at": starts_at,
                    "ends_at": starts_at + SLOT,
                    "grace_s": 900,
                    "status": "scheduled",
                    "id_tag": "VBCEILING",
                    "idempotency_key": f"{tally.key_prefix}-{n}",
                    "fingerprint": "0" * 64,
                    "created_at": created,
                },
            )

    return call


def healthz(load: HttpLoad) -> Call:
    async def call(_index: int, worker: int) -> int:
        status, body = await load.get("/healthz", worker)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body[:200]!r}")
        return 0

    return call


# --- databases and the server -------------------------------------------------------


def server_env(url: str, data_dir: Path, secret: str, pool_size: int) -> dict[str, str]:
    return os.environ | {
        "VOLTBOOK_DATABASE_URL": url,
        "VOLTBOOK_DATA_DIR": str(data_dir),
        "VOLTBOOK_JWT_SECRET": secret,
        "VOLTBOOK_LOG_LEVEL": "warning",
        "VOLTBOOK_DB_POOL_SIZE": str(pool_size),
        "VOLTBOOK_RESERVATION_MAX_LIVE_PER_DRIVER": str(MAX_LIVE),
        "VOLTBOOK_RESERVATION_HORIZON_DAYS": str(HORIZON_DAYS),
    }


@contextlib.asynccontextmanager
async def served(env: dict[str, str], data_dir: Path) -> AsyncIterator[tuple[int, int]]:
    """`voltbook serve` in a child process; yields (port, pid) once /readyz answers."""
    port = free_port()
    command = [sys.executable, "-m", "voltbook", "serve", "--host", HOST, "--port", str(port)]
    log_path = data_dir / f"server-{port}.log"

    def start() -> subprocess.Popen[bytes]:
        with log_path.open("wb") as log:
            return subprocess.Popen(
                command, env=env, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT
            )

    process = await asyncio.to_thread(start)
    try:
        await _wait_until_ready(process, port, log_path)
        yield port, process.pid
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.to_thread(process.wait, 15)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)


async def _wait_until_ready(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    load = HttpLoad(HOST, port)
    deadline = time.monotonic() + 60.0
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = (await asyncio.to_thread(log.read_text, errors="replace"))[-2000:]
                raise RuntimeError(f"the server exited with {process.returncode}:\n{tail}")
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                status, _ = await load.get("/readyz", 0)
                if status == 200:
                    return
                await load.close()  # the answer may have said "Connection: close"
            await asyncio.sleep(0.1)
    finally:
        await load.close()
    raise RuntimeError("the server was not ready within 60 s")


# --- checks afterwards ----------------------------------------------------------------

OVERLAPS_POSTGRESQL = """
SELECT count(*) FROM reservations a JOIN reservations b
  ON a.station_id = b.station_id AND a.evse_id = b.evse_id AND a.id < b.id
 AND a.status IN ('scheduled', 'held') AND b.status IN ('scheduled', 'held')
 AND tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange(b.starts_at, b.ends_at, '[)')
"""
OVERLAPS_SQLITE = """
SELECT count(*) FROM reservations a JOIN reservations b
  ON a.station_id = b.station_id AND a.evse_id = b.evse_id AND a.id < b.id
 AND a.status IN ('scheduled', 'held') AND b.status IN ('scheduled', 'held')
 AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
"""


@dataclass(slots=True)
class Check:
    database: str
    rows: int
    overlaps: int
    problems: list[str]


async def check(database: str, engine: AsyncEngine, tallies: Sequence[Tally]) -> Check:
    """No two live bookings of one EVSE overlap; every acknowledged booking is stored."""
    problems: list[str] = []
    overlap_sql = OVERLAPS_SQLITE if database == "sqlite" else OVERLAPS_POSTGRESQL
    async with engine.connect() as connection:
        overlaps = int((await connection.execute(sa.text(overlap_sql))).scalar_one())
        rows = int(
            (await connection.execute(sa.text("SELECT count(*) FROM reservations"))).scalar_one()
        )
        for tally in tallies:
            stored = int(
                (
                    await connection.execute(
                        sa.text("SELECT count(*) FROM reservations WHERE idempotency_key LIKE :p"),
                        {"p": f"{tally.key_prefix}-%"},
                    )
                ).scalar_one()
            )
            errors = sum(tally.other.values())
            if stored < tally.created or (stored != tally.created and not errors):
                problems.append(
                    f"{tally.key_prefix}: {tally.created} acknowledged, {stored} stored"
                )
            # Every slot somebody asked for on the hot connector has exactly one winner.
            rolling = tally.key_prefix.endswith("rolling") and tally.asked and not errors
            if rolling and stored != len(tally.asked):
                problems.append(
                    f"{tally.key_prefix}: {len(tally.asked)} slots asked for, {stored} booked"
                )
    return Check(database, rows, overlaps, problems)


# --- running it -----------------------------------------------------------------------


@dataclass(slots=True)
class Figure:
    database: str
    scenario: str
    layer: str
    stats: Stats
    kind: str  # "ceiling", "booking" (ratio of bookings/s) or "hot" (ratio of requests/s)
    ceilings: list[Ceiling] = field(default_factory=list)
    target: str = ""
    met: bool | None = None

    @property
    def bookings_per_s(self) -> float:
        return self.stats.items / self.stats.elapsed_s if self.stats.elapsed_s > 0 else 0.0

    @property
    def rate(self) -> float:
        """What the ratios compare: bookings/s, or requests/s on the hot connector."""
        return self.stats.qps if self.kind != "booking" else self.bookings_per_s


@dataclass(frozen=True, slots=True)
class Plan:
    seconds: float
    warmup: float
    concurrency: int
    pool_size: int
    stations: int
    evses: int
    drivers: int
    scenarios: frozenset[str]


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _judge(database: str, figure: Figure) -> tuple[str, bool | None]:
    s = figure.stats
    if figure.kind == "ceiling":
        return "", None
    if database == "sqlite":
        return "(comparison)", None
    if figure.scenario == "spread" and figure.layer.startswith("HTTP"):
        ok = figure.bookings_per_s >= TARGET_RATE and s.p99_ms < TARGET_P99_MS and not s.errors
        return "≥ 1,000/s, p99 < 50 ms", ok
    if figure.kind == "hot":
        ok = s.qps >= TARGET_RATE and s.p99_ms < TARGET_P99_MS and not s.errors
        return "0 errors; ≥ 1,000 req/s, p99 < 50 ms", ok
    return "", None


async def bench_database(database: str, plan: Plan, admin_dsn: str) -> tuple[list[Figure], Check]:
    figures: list[Figure] = []
    secret = secrets.token_urlsafe(48)
    with tempfile.TemporaryDirectory(prefix=f"voltbook-res-{database}-") as tmp:
        workdir = Path(tmp)
        async with fresh_database(database, admin_dsn, workdir, prefix="voltbook_bench_res") as url:
            engine = create_engine(url, plan.pool_size)
            try:
                await migrate.upgrade(engine)
                started = time.perf_counter()
                fixture = await load_fixture(
                    engine, secret, plan.stations, plan.evses, plan.drivers
                )
                await settle(url, engine)
                _say(
                    f"{database}: {plan.stations + 2} stations × {plan.evses} EVSEs, "
                    f"{plan.drivers:,} drivers in {time.perf_counter() - started:.1f} s"
                )
                env = server_env(url, workdir, secret, plan.pool_size)
                tallies: list[Tally] = []
                async with served(env, workdir) as (port, pid):
                    figures += await _figures(
                        database, plan, engine, url, workdir, fixture, port, pid, tallies
                    )
                found = await check(database, engine, tallies)
            finally:
                await engine.dispose()
    return figures, found


async def _figures(
    database: str,
    plan: Plan,
    engine: AsyncEngine,
    url: str,
    workdir: Path,
    fixture: Fixture,
    port: int,
    pid: int,
    tallies: list[Tally],
) -> list[Figure]:
    timing: dict[str, Any] = {
        "concurrency": plan.concurrency,
        "duration_s": plan.seconds,
        "warmup_s": plan.warmup,
    }
    figures: list[Figure] = []

    health_load = HttpLoad(HOST, port)
    try:
        _say(f"{database}: HTTP GET /healthz (ceiling)")
        health = await measure(healthz(health_load), **timing, cpu_pid=pid)
    finally:
        await health_load.close()
    figures.append(Figure(database, "ceiling", "HTTP GET /healthz", health, "ceiling"))

    tally = Tally("ceiling")
    tallies.append(tally)
    _say(f"{database}: INSERT INTO reservations, one transaction each (ceiling)")
    inserts = await measure(insert_ceiling(engine, fixture, tally), **timing)
    figures.append(Figure(database, "ceiling", "INSERT reservations", inserts, "ceiling"))
    ceilings = [Ceiling("INSERT", inserts.qps), Ceiling("/healthz", health.qps)]

    if "service" in plan.scenarios:
        settings = Settings(
            data_dir=workdir,
            database_url=url,
            jwt_secret=secrets.token_urlsafe(48),
            db_pool_size=plan.pool_size,
            reservation_max_live_per_driver=MAX_LIVE,
            reservation_horizon_days=HORIZON_DAYS,
        )
        services = bootstrap.build_services(settings, engine)
        tally = Tally("service-spread")
        tallies.append(tally)
        _say(f"{database}: ReservationService.book in this process, spread")
        stats = await measure(
            service_booking(services, fixture, spread_target(fixture, DAY_SERVICE), tally),
            **timing,
        )
        figures.append(
            Figure(database, "spread", "service.book (in-process)", stats, "booking", ceilings)
        )

    load = PostLoad(HOST, port)
    try:
        scenarios: list[tuple[str, str, Target, bool]] = []
        if "spread" in plan.scenarios:
            scenarios.append(("spread", "spread", spread_target(fixture, DAY_HTTP), False))
        if "hot" in plan.scenarios:
            scenarios.append(
                ("hot-fixed", "hot connector, 5 slots", hot_fixed_target(fixture), True)
            )
        if "rolling" in plan.scenarios:
            target = hot_rolling_target(fixture, plan.concurrency)
            scenarios.append(("hot-rolling", "hot connector, rolling", target, True))
        for prefix, scenario, target, refusals_ok in scenarios:
            tally = Tally(f"http-{prefix}")
            tallies.append(tally)
            _say(f"{database}: HTTP POST /api/v1/reservations, {scenario}")
            call = http_booking(load, fixture, target, tally, refusals_ok=refusals_ok)
            stats = await measure(call, **timing, cpu_pid=pid)
            kind = "hot" if refusals_ok else "booking"
            figures.append(Figure(database, scenario, "HTTP POST", stats, kind, ceilings))
            if tally.other:
                _say(f"{database}: {scenario}: non-201/409 answers {dict(tally.other)}")
    finally:
        await load.close()
    for figure in figures:
        figure.target, figure.met = _judge(database, figure)
    return figures


# --- reporting ------------------------------------------------------------------------

HEADERS = (
    "database",
    "scenario",
    "layer",
    "conc",
    "req/s",
    "bookings/s",
    "201",
    "409",
    "errors",
    "p50 ms",
    "p99 ms",
    "cpu %",
    "pg %",
    "other %",
    "÷ INSERT",
    "÷ /healthz",
    "target",
    "met",
)
_RIGHT = set(HEADERS[3:16])


def _cells(f: Figure) -> list[str]:
    s = f.stats
    ratios = {c.name: f.rate / c.qps for c in f.ceilings if c.qps > 0}
    booking = f.kind != "ceiling"
    met = "" if f.met is None else ("yes" if f.met else "NO")
    return [
        f.database,
        f.scenario,
        f.layer,
        str(s.concurrency),
        f"{s.qps:,.0f}",
        f"{f.bookings_per_s:,.0f}" if booking else "",
        f"{s.items:,}" if booking else "",
        f"{s.count - s.items:,}" if booking else "",
        f"{s.errors:,}",
        f"{s.p50_ms:.2f}",
        f"{s.p99_ms:.2f}",
        _percent(s.cpu_percent),
        _percent(s.postgres_cpu_percent) if f.database == "postgresql" else "",
        _percent(s.others_cpu_percent)
        + ("!" if (s.others_cpu_percent or 0.0) > QUIET.max_others_percent else ""),
        f"{ratios['INSERT']:.2f}" if "INSERT" in ratios else "",
        f"{ratios['/healthz']:.2f}" if "/healthz" in ratios else "",
        f.target,
        met,
    ]


def _percent(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.0f}"


# --- entry points ---------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser, *, standalone: bool = False) -> None:
    """The options; under `python -m benchmarks` they carry a `--reservations-` prefix
    (other benchmarks have their own --seconds, --concurrency and --db)."""
    group = parser.add_argument_group("reservations")

    def names(name: str) -> list[str]:
        return [f"--{name}", f"--reservations-{name}"] if standalone else [f"--reservations-{name}"]

    group.add_argument(
        *names("seconds"),
        dest="reservations_seconds",
        type=float,
        default=10.0,
        help="seconds measured per figure (default 10)",
    )
    group.add_argument(
        *names("warmup"),
        dest="reservations_warmup",
        type=float,
        default=2.0,
        help="seconds of warm-up before each figure (default 2)",
    )
    group.add_argument(
        *names("concurrency"),
        dest="reservations_concurrency",
        type=int,
        default=32,
        help="concurrent clients (default 32)",
    )
    group.add_argument(
        *names("db"),
        dest="reservations_db",
        choices=("postgresql", "sqlite", "both"),
        default="postgresql",
        help="(default postgresql)",
    )
    group.add_argument(
        *names("scenarios"),
        dest="reservations_scenarios",
        default="service,spread,hot,rolling",
        help="comma-separated: service,spread,hot,rolling (default all)",
    )
    group.add_argument(
        *names("pool-size"),
        dest="reservations_pool_size",
        type=int,
        default=Settings.model_fields["db_pool_size"].default,
        help="database pool of the server and of this process (default: the server's, 10)",
    )
    group.add_argument(
        *names("stations"),
        dest="reservations_stations",
        type=int,
        default=200,
        help="stations to spread over (default 200)",
    )
    group.add_argument(
        *names("evses"),
        dest="reservations_evses",
        type=int,
        default=10,
        help="EVSEs per station (default 10)",
    )
    group.add_argument(
        *names("drivers"),
        dest="reservations_drivers",
        type=int,
        default=5_000,
        help="drivers booking (default 5,000)",
    )


async def run(args: argparse.Namespace) -> list[Row]:
    plan = Plan(
        seconds=args.reservations_seconds,
        warmup=args.reservations_warmup,
        concurrency=args.reservations_concurrency,
        pool_size=args.reservations_pool_size,
        stations=args.reservations_stations,
        evses=args.reservations_evses,
        drivers=args.reservations_drivers,
        scenarios=frozenset(s.strip() for s in args.reservations_scenarios.split(",")),
    )
    admin_dsn = getattr(args, "pg_admin_dsn", None) or os.environ.get(
        "VOLTBOOK_BENCH_PG_ADMIN", DEFAULT_PG_ADMIN
    )
    databases = (
        ["postgresql", "sqlite"] if args.reservations_db == "both" else [args.reservations_db]
    )
    figures: list[Figure] = []
    checks: list[Check] = []
    for database in databases:
        found, checked = await bench_database(database, plan, admin_dsn)
        figures += found
        checks.append(checked)
    title = (
        f"reservations: {plan.concurrency} clients (raw keep-alive HTTP/1.1) booking 30-min "
        f"slots; {plan.seconds:g} s per figure after {plan.warmup:g} s warm-up; cpu % = the "
        f"server (HTTP rows) or this process (in-process rows); ratio = bookings/s (hot "
        f"connector: requests/s) ÷ ceiling"
    )
    print_lines(
        title, HEADERS, [_cells(f) for f in figures], _RIGHT, getattr(args, "style", "rich")
    )
    for figure in figures:
        if figure.stats.errors:
            print(f"{figure.database} {figure.scenario} {figure.layer}: {figure.stats.first_error}")
    failed = False
    for checked in checks:
        verdict = "ok" if checked.overlaps == 0 else "OVERLAPS FOUND"
        print(
            f"{checked.database} overlap check: {checked.overlaps} overlapping pairs of live "
            f"bookings among {checked.rows:,} rows: {verdict}"
        )
        for problem in checked.problems:
            print(f"{checked.database} integrity: {problem}")
        failed = failed or checked.overlaps != 0 or bool(checked.problems)
    if failed:
        raise RuntimeError("reservations: overlapping or lost bookings (see above)")
    return [
        Row(f.database, f.scenario, f.layer, f.stats, f.ceilings, f.target, f.met) for f in figures
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.reservations",
        description="Bookings/s through the API (docs/benchmarks.md).",
    )
    add_arguments(parser, standalone=True)
    parser.add_argument(
        "--pg-admin-dsn",
        default=os.environ.get("VOLTBOOK_BENCH_PG_ADMIN", DEFAULT_PG_ADMIN),
        help="where to CREATE/DROP the benchmark's PostgreSQL databases",
    )
    parser.add_argument("--style", choices=("rich", "markdown"), default="rich")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument(
        "--max-others",
        type=float,
        default=QUIET.max_others_percent,
        help="CPU %% of a core other processes may use before a figure is measured again",
    )
    parser.add_argument("--retries", type=int, default=QUIET.retries)
    parser.add_argument("--check", action="store_true", help="exit with 1 when a target is missed")
    args = parser.parse_args(argv)
    QUIET.max_others_percent = args.max_others
    QUIET.retries = args.retries
    import uvloop

    before = CpuSnapshot.take(None)
    started = time.perf_counter()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        rows = runner.run(run(args))
    elapsed = time.perf_counter() - started
    own = CpuSnapshot.take(None).own - before.own
    print(
        f"\nall done in {elapsed:.0f} s; this process used {own:.0f} CPU-seconds",
        file=sys.stderr,
    )
    if args.json:
        args.json.write_text(
            json.dumps([row.as_dict() for row in rows], indent=2), encoding="utf-8"
        )
    if any(row.stats.errors for row in rows):
        return 1
    if args.check and any(row.met is False for row in rows):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
