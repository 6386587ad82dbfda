"""The nearby benchmark's driver workload: searches where drivers search, while chargers change.

* Query points near real stations: a bundled site drawn at random, moved by up to 2 km in
  a random direction (uniform over the disc), 10 results within 50 km, a quarter of them
  each plain, `available=true`, `connector=J1772`, and both.
* Chargers that are live: before the run, half of the stations are made online with their
  connectors Available or Charging; during it, `status_churn` flips a random connector's
  status 100 times a second with an UPDATE on the database (as another node, or another
  process, would: the server learns it by its reconciliation, not by an event).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from voltbook.storage.tables import connectors, sites, stations

JITTER_M = 2_000.0
VARIANTS = ("", "&available=true", "&connector=J1772", "&available=true&connector=J1772")
EARTH_M_PER_DEG = 111_195.0


async def site_positions(engine: AsyncEngine) -> list[tuple[float, float]]:
    async with engine.connect() as connection:
        rows = (await connection.execute(sa.select(sites.c.lat, sites.c.lon))).all()
    return [(float(lat), float(lon)) for lat, lon in rows]


def near_station_points(
    positions: list[tuple[float, float]], count: int, seed: int
) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    points = []
    for _ in range(count):
        lat, lon = rng.choice(positions)
        distance = JITTER_M * math.sqrt(rng.random())
        bearing = rng.uniform(0.0, 2.0 * math.pi)
        lat += distance * math.cos(bearing) / EARTH_M_PER_DEG
        lon += distance * math.sin(bearing) / (EARTH_M_PER_DEG * math.cos(math.radians(lat)))
        points.append((max(-90.0, min(90.0, lat)), ((lon + 180.0) % 360.0) - 180.0))
    return points


def near_station_paths(points: list[tuple[float, float]], radius_m: float, limit: int) -> list[str]:
    return [
        f"/api/v1/stations/nearby?lat={lat:.6f}&lon={lon:.6f}&radius_m={radius_m:.0f}"
        f"&limit={limit}{VARIANTS[n % len(VARIANTS)]}"
        for n, (lat, lon) in enumerate(points)
    ]


async def liven(engine: AsyncEngine, seed: int) -> list[tuple[str, int, int]]:
    """Half the stations online, their connectors Available or Charging; returns the
    connectors of the online ones (the ones `status_churn` changes)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        ids = [row[0] for row in (await connection.execute(sa.select(stations.c.id))).all()]
        online = sorted(rng.sample(ids, len(ids) // 2))
        for start in range(0, len(online), 500):
            batch = online[start : start + 500]
            await connection.execute(
                stations.update().where(stations.c.id.in_(batch)).values(online=True, last_seen=now)
            )
            await connection.execute(
                connectors.update()
                .where(connectors.c.station_id.in_(batch))
                .values(status="Available", status_since=now)
            )
        plugs = (
            await connection.execute(
                sa.select(connectors.c.station_id, connectors.c.evse_id, connectors.c.connector_id)
                .where(connectors.c.station_id.in_(online))
            )
        ).all()  # fmt: skip
    return [(str(s), int(e), int(c)) for s, e, c in plugs]


@contextlib.asynccontextmanager
async def status_churn(
    engine: AsyncEngine, plugs: list[tuple[str, int, int]], per_second: float, seed: int
) -> AsyncIterator[list[int]]:
    """Flip connectors' status `per_second` times a second until the block ends; yields a
    one-item list holding how many were flipped so far."""
    done = [0]
    rng = random.Random(seed)

    async def flip() -> None:
        started = time.monotonic()
        while True:
            station_id, evse_id, connector_id = rng.choice(plugs)
            status = rng.choice(("Available", "Charging"))
            async with engine.begin() as connection:
                await connection.execute(
                    connectors.update()
                    .where(
                        connectors.c.station_id == station_id,
                        connectors.c.evse_id == evse_id,
                        connectors.c.connector_id == connector_id,
                    )
                    .values(status=status, status_since=datetime.now(UTC))
                )
            done[0] += 1
            due = started + done[0] / per_second
            await asyncio.sleep(max(0.0, due - time.monotonic()))

    task = asyncio.create_task(flip())
    try:
        yield done
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
