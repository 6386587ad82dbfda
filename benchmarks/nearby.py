"""Nearby search: the 10 nearest sites around random points.

For each database (SQLite, PostgreSQL/PostGIS) and data set (the bundled real stations,
and N synthetic sites over the continental US, default 1,000,000) in a fresh database:

* repository layer, in this process: `StationService.nearby` (what an API call runs:
  candidates, exact ranking, then the sites with their stations and connectors) and the
  bare `SqlSiteRepository.nearest_candidates`, each in its own read-only unit of work;
* HTTP: `GET /api/v1/stations/nearby` on the real app, served by `voltbook serve`
  (uvicorn, one process) in a child process, over keep-alive connections;
* ceilings measured the same way in the same run: `SELECT 1` through the same engine, and
  the same server's `/healthz`.

Throughput is measured with `--concurrency` workers (default 8), latency also with one
worker (no queueing). See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks import nearby_workloads
from benchmarks.common import (
    Call,
    Ceiling,
    HttpLoad,
    Row,
    Stats,
    asyncpg_dsn,
    free_port,
    fresh_database,
    measure,
    print_table,
    select_one,
)
from voltbook import bootstrap
from voltbook.config import Settings
from voltbook.core.clock import SystemClock
from voltbook.services import Services
from voltbook.stations.importing import RowProblem, read_site_rows
from voltbook.stations.model import NearbyQuery
from voltbook.storage import migrate
from voltbook.storage.database import create_engine
from voltbook.storage.unit_of_work import SqlUnitOfWork

RADIUS_M = 50_000.0
LIMIT = 10
DEFAULT_PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"

# Where the bundled data lies (New England and New York); query points are drawn here,
# many in the sea or in empty country, which is what real traffic looks like too.
BUNDLED_AREA = (40.5, 45.0, -79.7, -70.0)
# Continental US, for the synthetic sites and their query points.
US_AREA = (24.5, 49.4, -124.8, -66.9)
# (name, lat, lon, weight ~ metro population in millions): the synthetic sites cluster here.
CITIES = (
    ("New York", 40.7128, -74.0060, 19.5),
    ("Los Angeles", 34.0522, -118.2437, 12.9),
    ("Chicago", 41.8781, -87.6298, 9.4),
    ("Dallas", 32.7767, -96.7970, 7.9),
    ("Houston", 29.7604, -95.3698, 7.3),
    ("Washington", 38.9072, -77.0369, 6.4),
    ("Philadelphia", 39.9526, -75.1652, 6.2),
    ("Miami", 25.7617, -80.1918, 6.1),
    ("Atlanta", 33.7490, -84.3880, 6.2),
    ("Boston", 42.3601, -71.0589, 4.9),
    ("Phoenix", 33.4484, -112.0740, 5.0),
    ("San Francisco", 37.7749, -122.4194, 4.6),
    ("Riverside", 33.9806, -117.3755, 4.7),
    ("Detroit", 42.3314, -83.0458, 4.3),
    ("Seattle", 47.6062, -122.3321, 4.0),
    ("Minneapolis", 44.9778, -93.2650, 3.7),
    ("San Diego", 32.7157, -117.1611, 3.3),
    ("Tampa", 27.9506, -82.4572, 3.3),
    ("Denver", 39.7392, -104.9903, 3.0),
    ("Baltimore", 39.2904, -76.6122, 2.8),
    ("St. Louis", 38.6270, -90.1994, 2.8),
    ("Orlando", 28.5383, -81.3792, 2.7),
    ("Charlotte", 35.2271, -80.8431, 2.7),
    ("San Antonio", 29.4241, -98.4936, 2.6),
    ("Portland", 45.5152, -122.6784, 2.5),
    ("Sacramento", 38.5816, -121.4944, 2.4),
    ("Pittsburgh", 40.4406, -79.9959, 2.4),
    ("Austin", 30.2672, -97.7431, 2.4),
    ("Las Vegas", 36.1699, -115.1398, 2.3),
    ("Cincinnati", 39.1031, -84.5120, 2.3),
    ("Kansas City", 39.0997, -94.5786, 2.2),
    ("Columbus", 39.9612, -82.9988, 2.1),
    ("Indianapolis", 39.7684, -86.1581, 2.1),
    ("Cleveland", 41.4993, -81.6944, 2.1),
    ("San Jose", 37.3382, -121.8863, 2.0),
    ("Nashville", 36.1627, -86.7816, 2.0),
    ("Jacksonville", 30.3322, -81.6557, 1.7),
    ("Raleigh", 35.7796, -78.6382, 1.5),
    ("Salt Lake City", 40.7608, -111.8910, 1.3),
    ("Albuquerque", 35.0844, -106.6504, 0.9),
)
CLUSTERED_SHARE = 0.75
NETWORKS = ("ChargePoint Network", "Electrify America", "EVgo", "Tesla", "Blink", None)


@dataclass(frozen=True, slots=True)
class DataSet:
    name: str
    sites: int
    load_s: float
    points: list[tuple[float, float]]


# --- query points and synthetic sites -------------------------------------------------


def _uniform(rng: random.Random, area: tuple[float, float, float, float]) -> tuple[float, float]:
    min_lat, max_lat, min_lon, max_lon = area
    return rng.uniform(min_lat, max_lat), rng.uniform(min_lon, max_lon)


def _us_point(rng: random.Random, weights: Sequence[float]) -> tuple[int, float, float]:
    """A point of the synthetic distribution, with the index of its city (-1: background)."""
    if rng.random() >= CLUSTERED_SHARE:
        lat, lon = _uniform(rng, US_AREA)
        return -1, lat, lon
    city = rng.choices(range(len(CITIES)), cum_weights=weights)[0]
    _, c_lat, c_lon, weight = CITIES[city]
    # A dense core and a wide suburban ring; spread grows with the metro's size.
    sigma_km = 4.0 if rng.random() < 0.35 else 12.0 + 8.0 * math.sqrt(weight)
    lat = c_lat + rng.gauss(0.0, sigma_km / 111.2)
    lon = c_lon + rng.gauss(0.0, sigma_km / (111.2 * math.cos(math.radians(c_lat))))
    return city, min(max(lat, -90.0), 90.0), min(max(lon, -180.0), 180.0)


def _cum_weights() -> list[float]:
    total = 0.0
    cumulative = []
    for city in CITIES:
        total += city[3]
        cumulative.append(total)
    return cumulative


def query_points(dataset: str, count: int, seed: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    if dataset == "bundled":
        return [_uniform(rng, BUNDLED_AREA) for _ in range(count)]
    weights = _cum_weights()
    return [_us_point(rng, weights)[1:] for _ in range(count)]


@dataclass(frozen=True, slots=True)
class SyntheticSite:
    id: int
    city: str
    lat: float
    lon: float
    operator: str | None
    connectors: tuple[tuple[int, str, str, float], ...]  # (evse, standard, AC/DC, kW)
    online: bool
    status: str


def synthetic_sites(count: int, seed: int) -> Iterator[SyntheticSite]:
    rng = random.Random(seed)
    weights = _cum_weights()
    for site_id in range(1, count + 1):
        city, lat, lon = _us_point(rng, weights)
        plugs: list[tuple[int, str, str, float]] = [(1, "IEC_62196_T1", "AC", 7.2)]
        if rng.random() < 0.5:
            standard = rng.choice(("IEC_62196_T1_COMBO", "CHADEMO", "TESLA_S"))
            plugs.append((2, standard, "DC", rng.choice((50.0, 150.0, 250.0, 350.0))))
        online = rng.random() < 0.3
        yield SyntheticSite(
            id=site_id,
            city=CITIES[city][0] if city >= 0 else "",
            lat=lat,
            lon=lon,
            operator=rng.choice(NETWORKS),
            connectors=tuple(plugs),
            online=online,
            status=rng.choice(("Available", "Charging", "Available")) if online else "Unknown",
        )


def _chunks(items: Iterator[SyntheticSite], size: int) -> Iterator[list[SyntheticSite]]:
    chunk: list[SyntheticSite] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


SITE_COLUMNS = (
    "id", "source", "source_id", "name", "address", "city", "region", "postal_code",
    "country", "lat", "lon", "operator", "access", "opening_hours", "timezone",
    "created_at", "updated_at",
)  # fmt: skip
STATION_COLUMNS = ("id", "site_id", "online", "last_seen", "created_at")
CONNECTOR_COLUMNS = (
    "station_id", "evse_id", "connector_id", "standard", "power_type", "max_power_kw",
    "status", "status_since",
)  # fmt: skip


def _rows(
    chunk: list[SyntheticSite], now: Any
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    site_rows = [
        (
            s.id, "synthetic", f"S{s.id}", f"Synthetic site {s.id}", f"{s.id % 9973 + 1} Main St",
            s.city, "", "", "US", s.lat, s.lon, s.operator, "public", "24 hours daily", None,
            now, now,
        )
        for s in chunk
    ]  # fmt: skip
    station_rows = [(f"SYN-{s.id}", s.id, s.online, now if s.online else None, now) for s in chunk]
    connector_rows = [
        (f"SYN-{s.id}", evse, 1, standard, power, kw, s.status, now if s.online else None)
        for s in chunk
        for evse, standard, power, kw in s.connectors
    ]
    return site_rows, station_rows, connector_rows


async def load_synthetic_postgres(url: str, count: int, seed: int) -> None:
    """COPY the synthetic rows in (geog is generated by the database)."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        now = datetime.now(UTC)
        # The GiST index is cheaper to build once than to grow row by row (same definition
        # as the migration's).
        await connection.execute("DROP INDEX ix_sites_geog")
        for chunk in _chunks(synthetic_sites(count, seed), 100_000):
            site_rows, station_rows, connector_rows = _rows(chunk, now)
            await connection.copy_records_to_table(
                "sites", records=site_rows, columns=list(SITE_COLUMNS)
            )
            await connection.copy_records_to_table(
                "stations", records=station_rows, columns=list(STATION_COLUMNS)
            )
            await connection.copy_records_to_table(
                "connectors", records=connector_rows, columns=list(CONNECTOR_COLUMNS)
            )
        await connection.execute("CREATE INDEX ix_sites_geog ON sites USING gist (geog)")
        await connection.execute(
            "SELECT setval(pg_get_serial_sequence('sites', 'id'), (SELECT max(id) FROM sites))"
        )
    finally:
        await connection.close()


async def settle_postgres(url: str) -> None:
    """VACUUM ANALYZE and CHECKPOINT after loading, as autovacuum would do in the background
    sooner or later: so that neither it nor the checkpointer runs during the measurements."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute("VACUUM ANALYZE")
        await connection.execute("CHECKPOINT")
    finally:
        await connection.close()


def load_synthetic_sqlite(path: Path, count: int, seed: int) -> None:
    """executemany in large transactions; the schema's triggers fill the R*Tree."""
    # Stored the way SQLAlchemy stores DateTime on SQLite.
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        for chunk in _chunks(synthetic_sites(count, seed), 100_000):
            site_rows, station_rows, connector_rows = _rows(chunk, now)
            connection.execute("BEGIN")
            connection.executemany(_insert_sql("sites", SITE_COLUMNS), site_rows)
            connection.executemany(_insert_sql("stations", STATION_COLUMNS), station_rows)
            connection.executemany(_insert_sql("connectors", CONNECTOR_COLUMNS), connector_rows)
            connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def _insert_sql(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


async def load_bundled(url: str, data_dir: Path, engine: AsyncEngine) -> int:
    """The real importer on the bundled CSV, as `voltbook import-stations` runs it."""
    services = bootstrap.build_services(Settings(data_dir=data_dir, database_url=url), engine)
    with bootstrap.bundled_stations().open(encoding="utf-8", newline="") as handle:
        plans = [row for row in read_site_rows(handle, "afdc") if not isinstance(row, RowProblem)]
    report = await services.stations.import_sites(plans, source="afdc")
    return report.created + report.updated


# --- the HTTP server ------------------------------------------------------------------


@contextlib.asynccontextmanager
async def served(url: str, data_dir: Path) -> AsyncIterator[tuple[int, int]]:
    """`voltbook serve` in a child process; yields (port, pid) once /healthz answers."""
    port = free_port()
    env = os.environ | {
        "VOLTBOOK_DATABASE_URL": url,
        "VOLTBOOK_DATA_DIR": str(data_dir),
        "VOLTBOOK_LOG_LEVEL": "warning",
    }
    log_path = data_dir / f"server-{port}.log"
    command = [
        sys.executable,
        "-m",
        "voltbook",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    process = await asyncio.to_thread(_start, command, env, data_dir, log_path)
    try:
        await _wait_until_up(process, port, log_path)
        yield port, process.pid
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.to_thread(process.wait, 15)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)


def _start(
    command: list[str], env: dict[str, str], cwd: Path, log_path: Path
) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)


async def _wait_until_up(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    load = HttpLoad("127.0.0.1", port)
    deadline = time.monotonic() + 60.0
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = (await asyncio.to_thread(log.read_text, errors="replace"))[-2000:]
                raise RuntimeError(f"the server exited with {process.returncode}:\n{tail}")
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                status, _ = await load.get("/healthz", 0)
                if status == 200:
                    return
            await asyncio.sleep(0.1)
    finally:
        await load.close()
    raise RuntimeError("the server did not answer /healthz within 60 s")


# --- the measurements -----------------------------------------------------------------


def nearby_queries(points: Sequence[tuple[float, float]]) -> list[NearbyQuery]:
    return [NearbyQuery(lat, lon, RADIUS_M, LIMIT) for lat, lon in points]


def service_call(services: Services, queries: Sequence[NearbyQuery]) -> Call:
    stations = services.stations

    async def call(index: int, _worker: int) -> int:
        return len(await stations.nearby(queries[index % len(queries)]))

    return call


def candidates_call(engine: AsyncEngine, queries: Sequence[NearbyQuery]) -> Call:
    clock = SystemClock()

    async def call(index: int, _worker: int) -> int:
        async with SqlUnitOfWork(engine, clock, read_only=True) as uow:
            return len(await uow.sites.nearest_candidates(queries[index % len(queries)]))

    return call


def http_call(load: HttpLoad, paths: Sequence[str]) -> Call:
    async def call(index: int, worker: int) -> int:
        status, body = await load.get(paths[index % len(paths)], worker)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body[:200]!r}")
        return body.count(b'"distance_m"')

    return call


def nearby_paths(points: Sequence[tuple[float, float]]) -> list[str]:
    return [
        f"/api/v1/stations/nearby?lat={lat:.6f}&lon={lon:.6f}&radius_m={RADIUS_M:.0f}&limit={LIMIT}"
        for lat, lon in points
    ]


@dataclass(frozen=True, slots=True)
class Workload:
    points: list[tuple[float, float]]  # uniform over the area
    near: list[str]  # near-station searches (bundled only)
    churn: list[tuple[str, int, int]]  # connectors whose status changes meanwhile
    status_changes: float  # a second
    seed: int


@dataclass(frozen=True, slots=True)
class Plan:
    concurrencies: tuple[int, ...]
    duration_s: float
    warmup_s: float
    http_client: str
    layers: frozenset[str]


def _judge(database: str, dataset: str, layer: str, stats: Stats) -> tuple[str, bool | None]:
    """The issue's targets, on the rows they are about."""
    if (
        database == "postgresql"
        and layer == "service.nearby"
        and stats.concurrency > 1
        and dataset == "bundled"
    ):
        return "≥ 2,500/s", stats.qps >= 2500
    if database == "postgresql" and layer == "service.nearby" and stats.concurrency > 1:
        return "(≥ 2,500/s)", stats.qps >= 2500
    if layer == "HTTP nearby" and dataset == "bundled" and stats.concurrency > 1:
        return "≥ 1,500/s, p99 < 20 ms", stats.qps >= 1500 and stats.p99_ms < 20.0
    if (
        database == "sqlite"
        and dataset != "bundled"
        and layer == "service.nearby"
        and stats.concurrency == 1
    ):
        return "p50 ≤ 2 ms", stats.p50_ms <= 2.0
    return "", None


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def bench_one(
    database: str,
    dataset: str,
    args: argparse.Namespace,
    plan: Plan,
) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="voltbook-bench-") as tmp:
        workdir = Path(tmp)
        async with fresh_database(database, args.pg_admin_dsn, workdir) as url:
            engine = create_engine(url)
            try:
                await migrate.upgrade(engine)
                started = time.perf_counter()
                if dataset == "bundled":
                    count = await load_bundled(url, workdir, engine)
                    label = "bundled"
                else:
                    count = args.sites
                    if database == "sqlite":
                        path = Path(sa.make_url(url).database or "")
                        await asyncio.to_thread(load_synthetic_sqlite, path, count, args.seed)
                    else:
                        await load_synthetic_postgres(url, count, args.seed)
                    label = f"synthetic {count:,}"
                if database == "postgresql":
                    await settle_postgres(url)
                _say(
                    f"{database}/{label}: {count:,} sites in {time.perf_counter() - started:.1f} s"
                )
                points = query_points(dataset, 20_000, args.seed + 1)
                rows += await _repository_rows(database, label, engine, url, workdir, points, plan)
                if "http" in plan.layers:
                    churn: list[tuple[str, int, int]] = []
                    near: list[str] = []
                    if dataset == "bundled":  # the drivers' workload, with chargers changing
                        plugs = await nearby_workloads.liven(engine, args.seed)
                        churn = await nearby_workloads.churn_stations(engine, plugs, args.seed)
                        positions = await nearby_workloads.site_positions(engine)
                        spots = nearby_workloads.near_station_points(positions, 20_000, args.seed)
                        near = nearby_workloads.near_station_paths(spots, RADIUS_M, LIMIT)
                    workload = Workload(points, near, churn, args.status_changes, args.seed)
                    rows += await _http_rows(database, label, url, workdir, workload, plan, rows)
            finally:
                await engine.dispose()
    return rows


async def _repository_rows(
    database: str,
    label: str,
    engine: AsyncEngine,
    url: str,
    workdir: Path,
    points: list[tuple[float, float]],
    plan: Plan,
) -> list[Row]:
    services = bootstrap.build_services(Settings(data_dir=workdir, database_url=url), engine)
    queries = nearby_queries(points)
    rows: list[Row] = []
    for concurrency in plan.concurrencies:
        timing: dict[str, Any] = {
            "concurrency": concurrency,
            "duration_s": plan.duration_s,
            "warmup_s": plan.warmup_s,
        }
        _say(f"{database}/{label}: SELECT 1, concurrency {concurrency}")
        ceiling = await measure(select_one(engine), **timing)
        rows.append(Row(database, label, "SELECT 1", ceiling))
        layers: list[tuple[str, Call]] = []
        if "service" in plan.layers:
            layers.append(("service.nearby", service_call(services, queries)))
        if "candidates" in plan.layers:
            layers.append(("nearest_candidates", candidates_call(engine, queries)))
        for layer, call in layers:
            _say(f"{database}/{label}: {layer}, concurrency {concurrency}")
            stats = await measure(call, **timing)
            target, met = _judge(database, label, layer, stats)
            rows.append(
                Row(database, label, layer, stats, [Ceiling("SELECT 1", ceiling.qps)], target, met)
            )
    return rows


async def _http_rows(
    database: str,
    label: str,
    url: str,
    workdir: Path,
    workload: Workload,
    plan: Plan,
    repository_rows: list[Row],
) -> list[Row]:
    rows: list[Row] = []
    paths, near = nearby_paths(workload.points), workload.near
    async with contextlib.AsyncExitStack() as stack:
        port, pid = await stack.enter_async_context(served(url, workdir))
        if workload.churn:
            flipped = await stack.enter_async_context(
                nearby_workloads.status_churn(
                    port, workload.churn, workload.status_changes, workload.seed
                )
            )
            began = time.monotonic()
            stack.callback(
                lambda: _say(
                    f"{database}/{label}: {flipped[0]:,} status changes over OCPP, "
                    f"{flipped[0] / (time.monotonic() - began):.0f}/s ({flipped[1]:,} refused)"
                )
            )
        for concurrency in plan.concurrencies:
            timing: dict[str, Any] = {
                "concurrency": concurrency,
                "duration_s": plan.duration_s,
                "warmup_s": plan.warmup_s,
                "cpu_pid": pid,
            }
            select = next(
                (
                    r.stats.qps
                    for r in repository_rows
                    if r.layer == "SELECT 1" and r.stats.concurrency == concurrency
                ),
                0.0,
            )
            load = HttpLoad("127.0.0.1", port, plan.http_client)
            try:
                _say(f"{database}/{label}: HTTP /healthz, concurrency {concurrency}")
                health = await measure(http_call(load, ["/healthz"]), **timing)
                rows.append(Row(database, label, "HTTP /healthz", health))
                _say(f"{database}/{label}: HTTP nearby, concurrency {concurrency}")
                stats = await measure(http_call(load, paths), **timing)
                if near:
                    _say(f"{database}/{label}: HTTP nearby near stations, {concurrency}")
                    near_stats = await measure(http_call(load, near), **timing)
            finally:
                await load.close()
            target, met = _judge(database, label, "HTTP nearby", stats)
            ceilings = [Ceiling("/healthz", health.qps), Ceiling("SELECT 1", select)]
            rows.append(Row(database, label, "HTTP nearby", stats, ceilings, target, met))
            if near:
                target, met = "", None
                if concurrency >= 32:
                    target = "≥ 0.3× /healthz, p99 < 20 ms"
                    met = near_stats.qps >= 0.3 * health.qps and near_stats.p99_ms < 20.0
                layer = "HTTP nearby near stations"
                rows.append(Row(database, label, layer, near_stats, ceilings, target, met))
    return rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("nearby")
    group.add_argument(
        "--sites", type=int, default=1_000_000, help="synthetic sites (default 1,000,000)"
    )
    group.add_argument(
        "--databases", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql"
    )
    group.add_argument(
        "--datasets", default="bundled,synthetic", help="comma-separated: bundled,synthetic"
    )
    group.add_argument(
        "--layers",
        default="service,candidates,http",
        help="comma-separated: service,candidates,http",
    )
    group.add_argument(
        "--status-changes",
        type=float,
        default=100.0,
        help="connector status changes a second during the HTTP figures (bundled; default 100)",
    )
    group.add_argument(
        "--http-client",
        choices=("raw", "httpx"),
        default="raw",
        help="load generator: a minimal keep-alive client (default) or httpx",
    )
    group.add_argument(
        "--pg-admin-dsn",
        default=os.environ.get("VOLTBOOK_BENCH_PG_ADMIN", DEFAULT_PG_ADMIN),
        help="where to CREATE/DROP the benchmark's PostgreSQL databases",
    )


async def run(args: argparse.Namespace) -> list[Row]:
    plan = Plan(
        concurrencies=tuple(dict.fromkeys((args.concurrency, 1))),
        duration_s=args.duration,
        warmup_s=args.warmup,
        http_client=args.http_client,
        layers=frozenset(args.layers.split(",")),
    )
    rows: list[Row] = []
    for database in args.databases.split(","):
        for dataset in args.datasets.split(","):
            rows += await bench_one(database, dataset, args, plan)
    title = (
        f"nearby: {LIMIT} nearest within {RADIUS_M / 1000:.0f} km; {plan.duration_s:g} s per "
        f"figure after {plan.warmup_s:g} s warm-up; HTTP client: {plan.http_client}"
    )
    print_table(title, rows, style=args.style)
    return rows
