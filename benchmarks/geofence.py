"""Geofence: driver positions per second through the offers engine, against 10,000 offers.

A fresh SQLite database gets N active offers (default 10,000) spread over a region of
about 550 by 840 km (latitude 40 to 45, longitude -80 to -70): 70 % with radii of 1 to 5 km,
25 % of 5 to 20 km, 5 % of 20 to 50 km (so a point lies in about 8 offers' areas on average), and
triggers mixed 60 % area_entry, 20 % idle_station, 20 % low_soc; and D drivers (default
20,000). The services are built as `voltbook serve` builds them (`bootstrap.build_services`)
and `OfferService.refresh` loads the live offers into memory (the time is printed).

Each driver starts at a random point of the region and drives a straight line at a random
heading, 150 m between two reports (15 m/s, a report every 10 s); the stream interleaves
the drivers (report i is driver i mod D's (i div D)-th). One call is one report through
`OfferService.position_reported` (grid lookup, exact distances, entry detection against
the driver's previous position), in one worker on one core (`--concurrency` is ignored:
nothing here waits on I/O). Figures:

* position_reported: no driver consents to offers. An entry into an area_entry offer's
  area looks the driver up once, then the engine remembers the refusal for a minute;
* position_reported, P % consent (`--geofence-consenting`, default 2): those drivers'
  entries go on to the caps and the outlet and write deliveries to the database;
* ceiling, measured in the same run: a bare loop over the same stream doing what any
  grid geofence must do per report, one cell lookup in a dict of the same size, one
  great-circle distance and one store of the driver's last position.

`items` is the number of offers' areas entered per report.

With `--geofence-live N`, the same reports also go through the live channel: `voltbook
serve` runs in a child process on the same database (every driver sharing their location,
none consenting to offers), and N apps (drivers of the stream) send `location` messages
with an id and wait for the server's `ok`: the server keeps the position (one write) and
hands it to the engine. An app may send 10 messages a second (the channel's rate limit),
so each app paces itself below that and 9.5 N a second is the most this figure can show. Its
ceiling, same run, same apps: `ping` → `pong` through the same channel (no storage).
See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.common import Call, Ceiling, Row, free_port, measure, print_table
from benchmarks.ocpp_ingest import HOST, child_server, voltbook_env
from voltbook import bootstrap
from voltbook.config import Settings
from voltbook.core.geo import EARTH_RADIUS_M, great_circle_m
from voltbook.offers.geofence import DEFAULT_CELL_DEG
from voltbook.offers.service import OfferService
from voltbook.storage import migrate
from voltbook.storage.database import create_engine
from voltbook.storage.tables import drivers, offer_deliveries, offers, sign_ins

REGION = (40.0, 45.0, -80.0, -70.0)  # min lat, max lat, min lon, max lon
STEP_M = 150.0
TARGET = 20_000.0
SECRET = "geofence-benchmark-secret-0123456789abcdef012345"
APP_INTERVAL_S = 1.0 / 9.5  # below the live channel's 10 messages a second per app


class Stream:
    """Driver positions, report by report; cheap enough to cost the same in every figure."""

    def __init__(self, count: int, rng: random.Random) -> None:
        min_lat, max_lat, min_lon, max_lon = REGION
        self.count = count
        self.ids = [f"drv-{i:06d}" for i in range(count)]
        self.lat0 = [rng.uniform(min_lat, max_lat) for _ in range(count)]
        self.lon0 = [rng.uniform(min_lon, max_lon) for _ in range(count)]
        step_deg = math.degrees(STEP_M / EARTH_RADIUS_M)
        self.dlat: list[float] = []
        self.dlon: list[float] = []
        for lat in self.lat0:
            heading = rng.uniform(0.0, 2.0 * math.pi)
            self.dlat.append(step_deg * math.cos(heading))
            self.dlon.append(step_deg * math.sin(heading) / math.cos(math.radians(lat)))

    def report(self, index: int) -> tuple[str, float, float]:
        driver, step = index % self.count, index // self.count
        return (
            self.ids[driver],
            self.lat0[driver] + step * self.dlat[driver],
            self.lon0[driver] + step * self.dlon[driver],
        )


def _radius(rng: random.Random) -> float:
    draw = rng.random()
    if draw < 0.70:
        return rng.uniform(1_000.0, 5_000.0)
    if draw < 0.95:
        return rng.uniform(5_000.0, 20_000.0)
    return rng.uniform(20_000.0, 50_000.0)


def offer_rows(count: int, rng: random.Random, now: datetime) -> list[dict[str, object]]:
    min_lat, max_lat, min_lon, max_lon = REGION
    rows: list[dict[str, object]] = []
    for _ in range(count):
        draw = rng.random()
        trigger = "area_entry" if draw < 0.6 else "idle_station" if draw < 0.8 else "low_soc"
        rows.append(
            {
                "title": "Benchmark offer",
                "kind": "percent_off",
                "value": 20.0,
                "lat": rng.uniform(min_lat, max_lat),
                "lon": rng.uniform(min_lon, max_lon),
                "radius_m": _radius(rng),
                "station_ids": None,
                "trigger": trigger,
                "idle_minutes": 15 if trigger == "idle_station" else None,
                "soc_below": 25.0 if trigger == "low_soc" else None,
                "starts_at": now - timedelta(hours=1),
                "ends_at": now + timedelta(days=1),
                "max_per_driver": 1,
                "max_redemptions": None,
                "created_by": None,
                "created_at": now,
                "ended_at": None,
            }
        )
    return rows


def engine_call(service: OfferService, stream: Stream, offset: int = 0) -> Call:
    async def call(index: int, _worker: int) -> int:
        driver, lat, lon = stream.report(offset + index)
        before = service.areas_entered
        await service.position_reported(driver, lat, lon, datetime.now(UTC))
        return service.areas_entered - before

    return call


def bare_call(stream: Stream, cells: int) -> Call:
    """One cell lookup in a dict of `cells` entries, one distance, one store per report."""
    cell = DEFAULT_CELL_DEG
    side = max(1, int(math.sqrt(cells)))
    grid = {(row, col): (41.0, -75.0, 5_000.0) for row in range(side) for col in range(side)}
    last: dict[str, tuple[float, float, datetime]] = {}

    async def call(index: int, _worker: int) -> int:
        driver, lat, lon = stream.report(index)
        key = (math.floor(lat / cell) % side, math.floor(lon / cell) % side)
        centre = grid.get(key)
        inside = 0
        if centre is not None and great_circle_m(centre[0], centre[1], lat, lon) <= centre[2]:
            inside = 1
        last[driver] = (lat, lon, datetime.now(UTC))
        return inside

    return call


class App:
    """One driver's live channel: one request at a time, answered by its id."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.sent_at = 0.0
        self.step = 0

    async def ask(self, message: dict[str, object], answer: str) -> None:
        wait = self.sent_at + APP_INTERVAL_S - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        self.sent_at = time.perf_counter()
        await self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(await self.socket.recv())
            if reply.get("id") == message["id"]:
                if reply.get("type") != answer:
                    raise RuntimeError(f"{message['type']} answered {reply}")
                return


async def live_rows(
    args: argparse.Namespace, url: str, workdir: Path, stream: Stream, label: str
) -> list[Row]:
    """Position reports and pings through the live channel of `voltbook serve`."""
    from websockets.asyncio.client import connect

    from voltbook.core.clock import SystemClock
    from voltbook.drivers.model import Principal, Role
    from voltbook.security.tokens import JwtTokens

    count = min(args.geofence_live, stream.count)
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                drivers.update().values(consent_location=True, consent_offers=False)
            )
            await connection.execute(
                sign_ins.insert(),
                [{"id": f"si-{d}", "driver_id": d, "created_at": now} for d in stream.ids[:count]],
            )
    finally:
        await engine.dispose()
    tokens = JwtTokens(SECRET, 3600, SystemClock())
    port = free_port()
    command = [sys.executable, "-m", "voltbook", "serve", "--host", HOST, "--port", str(port)]
    env = voltbook_env(url, workdir) | {"VOLTBOOK_JWT_SECRET": SECRET}
    timing = {"duration_s": args.duration, "warmup_s": args.warmup}
    async with child_server(
        "voltbook", command, env, workdir, port, http=True, start_s=600
    ) as served:
        apps: list[App] = []
        try:
            for n in range(count):
                token = tokens.issue(Principal(stream.ids[n], Role.DRIVER, f"si-{stream.ids[n]}"))
                socket = await connect(
                    f"ws://{HOST}:{port}/api/v1/live",
                    additional_headers={"Authorization": f"Bearer {token[0]}"},
                    ping_interval=None,
                    max_queue=None,
                )
                json.loads(await socket.recv())  # welcome
                apps.append(App(socket))
            pid = served.pid

            async def ping(index: int, worker: int) -> int:
                await apps[worker].ask({"type": "ping", "id": f"p{index}"}, "pong")
                return 0

            async def location(index: int, worker: int) -> int:
                app = apps[worker]
                app.step += 1
                lat = stream.lat0[worker] + app.step * stream.dlat[worker]
                lon = stream.lon0[worker] + app.step * stream.dlon[worker]
                message = {"type": "location", "id": f"l{index}", "lat": lat, "lon": lon}
                await app.ask(message, "ok")
                return 0

            _say(f"live channel: ping, {count:,} apps")
            ceiling = await measure(ping, concurrency=count, cpu_pid=pid, **timing)
            _say(f"live channel: location, {count:,} apps")
            stats = await measure(location, concurrency=count, cpu_pid=pid, **timing)
        finally:
            for app in apps:
                await app.socket.close()
    cap = f"≤ {count * 9.5:,.0f}/s by the apps' pace"
    return [
        Row("sqlite", label, f"live ping ({cap})", ceiling),
        Row(
            "sqlite",
            label,
            f"live location ({cap})",
            stats,
            [Ceiling("live ping", ceiling.qps)],
        ),
    ]


async def run(args: argparse.Namespace) -> list[Row]:
    rng = random.Random(args.seed)
    count = args.geofence_offers
    stream = Stream(args.geofence_drivers, rng)
    timing = {"concurrency": 1, "duration_s": args.duration, "warmup_s": args.warmup}
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="voltbook-geofence-") as workdir:
        url = f"sqlite+aiosqlite:///{Path(workdir) / 'bench.sqlite3'}"
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine)
            now = datetime.now(UTC)
            async with engine.begin() as connection:
                await connection.execute(offers.insert(), offer_rows(count, rng, now))
                await connection.execute(
                    drivers.insert(),
                    [
                        {
                            "id": driver,
                            "email": f"{driver}@example.org",
                            "password_hash": "unused",
                            "role": "driver",
                            "consent_offers": False,
                            "created_at": now,
                        }
                        for driver in stream.ids
                    ],
                )
            settings = Settings(data_dir=Path(workdir), database_url=url)
            ceiling_stats = None
            for share in (0.0, args.geofence_consenting / 100.0):
                if share > 0:
                    consenting = rng.sample(range(stream.count), int(stream.count * share))
                    async with engine.begin() as connection:
                        await connection.execute(
                            drivers.update()
                            .where(drivers.c.id.in_([stream.ids[i] for i in consenting]))
                            .values(consent_offers=True)
                        )
                services = bootstrap.build_services(settings, engine)
                started = time.perf_counter()
                loaded = await services.offers.refresh()
                _say(
                    f"loaded {loaded:,} live offers into memory in "
                    f"{time.perf_counter() - started:.2f} s"
                )
                if ceiling_stats is None:
                    _say("ceiling: bare grid lookup + distance + store")
                    ceiling_stats = await measure(
                        bare_call(stream, len(loaded_cells(services.offers))), **timing
                    )
                    rows.append(Row("sqlite", f"{count:,} offers", "bare loop", ceiling_stats))
                # Every driver reports once, unmeasured: the figures compare each report with
                # a previous position, as in a city where the drivers are moving.
                warm = engine_call(services.offers, stream)
                for index in range(stream.count):
                    await warm(index, 0)
                layer = (
                    "position_reported"
                    if share == 0
                    else f"position_reported, {args.geofence_consenting:g} % consent"
                )
                _say(f"{layer}, {stream.count:,} drivers")
                stats = await measure(engine_call(services.offers, stream, stream.count), **timing)
                async with engine.connect() as connection:
                    written = await connection.scalar(
                        sa.select(sa.func.count()).select_from(offer_deliveries)
                    )
                _say(
                    f"{stats.items:,} offers' areas entered in {stats.count:,} reports "
                    f"({stats.items / max(stats.elapsed_s, 1e-9):,.0f}/s); "
                    f"deliveries in the database so far: {written:,}"
                )
                met = stats.qps >= TARGET if share == 0 else None
                target = "≥ 20,000/s" if share == 0 else ""
                ceilings = [Ceiling("bare loop", ceiling_stats.qps)]
                rows.append(Row("sqlite", f"{count:,} offers", layer, stats, ceilings, target, met))
        finally:
            await engine.dispose()
        if args.geofence_live > 0:
            label = f"{count:,} offers"
            rows += await live_rows(args, url, Path(workdir), stream, label)
    title = (
        f"geofence: {count:,} live offers, {stream.count:,} drivers moving, one core; "
        f"{args.duration:g} s per figure after {args.warmup:g} s warm-up"
    )
    print_table(title, rows, style=args.style)
    return rows


def loaded_cells(service: OfferService) -> dict[object, object]:
    """The grid of the engine's index (for a ceiling dict of the same size)."""
    cells: dict[object, object] = service._index._cells  # type: ignore[assignment]
    return cells


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("geofence")
    group.add_argument(
        "--geofence-offers", type=int, default=10_000, help="live offers (default 10,000)"
    )
    group.add_argument(
        "--geofence-drivers", type=int, default=20_000, help="drivers moving (default 20,000)"
    )
    group.add_argument(
        "--geofence-live",
        type=int,
        default=0,
        help="apps reporting through the live channel (default 0: no live figure)",
    )
    group.add_argument(
        "--geofence-consenting",
        type=float,
        default=2.0,
        help="percent of drivers consenting to offers in the second figure (default 2)",
    )


def _say(message: str) -> None:
    print(f"[geofence] {message}", file=sys.stderr, flush=True)
