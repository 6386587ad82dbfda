"""The nearby benchmark's driver workload: searches where drivers search, while chargers change.

* Query points near real stations: a bundled site drawn at random, moved by up to 2 km in
  a random direction (uniform over the disc), 10 results within 50 km, a quarter of them
  each plain, `available=true`, `connector=J1772`, and both.
* Chargers that are live: before the run, half of the stations are made online with their
  connectors Available; during the HTTP figures, 10 of them connect over OCPP 1.6 and
  `status_churn` has them report a connector's new status 100 times a second in all (the
  server's fleet service stores and publishes each, as for real chargers).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import random
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import websockets
from sqlalchemy.ext.asyncio import AsyncEngine

from voltbook.security.passwords import Argon2idHasher
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


PASSWORD = "benchmark-station-password"
CHURN_STATIONS = 10


async def churn_stations(
    engine: AsyncEngine, plugs: list[tuple[str, int, int]], seed: int
) -> list[tuple[str, int, int]]:
    """Give `CHURN_STATIONS` of the live stations a password (so they can connect over
    OCPP); returns their connectors."""
    rng = random.Random(seed)
    chosen = set(rng.sample(sorted({station for station, _, _ in plugs}), CHURN_STATIONS))
    password_hash = Argon2idHasher(time_cost=1, memory_cost_kib=8_192).hash(PASSWORD)
    async with engine.begin() as connection:
        await connection.execute(
            stations.update()
            .where(stations.c.id.in_(sorted(chosen)))
            .values(password_hash=password_hash)
        )
    return [plug for plug in plugs if plug[0] in chosen]


async def _call(socket: Any, message_id: str, action: str, payload: dict[str, Any]) -> bool:
    """Whether the server accepted the call (False: it answered with a CALLERROR)."""
    await socket.send(json.dumps([2, message_id, action, payload]))
    while True:  # the server may ask something meanwhile; it is left unanswered
        frame = json.loads(await socket.recv())
        if frame[0] in (3, 4) and frame[1] == message_id:
            return bool(frame[0] == 3)


@contextlib.asynccontextmanager
async def status_churn(
    port: int, plugs: list[tuple[str, int, int]], per_second: float, seed: int
) -> AsyncIterator[list[int]]:
    """Stations of `plugs` connect over OCPP 1.6 and report a connector's status
    `per_second` times a second between them, until the block ends (each report a real
    change: this node's fleet service publishes it, as in production). Yields a list
    holding how many the server accepted so far, and how many it refused."""
    done = [0, 0]
    rng = random.Random(seed)
    by_station: dict[str, list[int]] = {}
    for station_id, evse_id, _ in plugs:
        by_station.setdefault(station_id, []).append(evse_id)
    sockets: dict[str, Any] = {}
    for station_id in by_station:
        token = base64.b64encode(f"{station_id}:{PASSWORD}".encode()).decode()
        socket = await websockets.connect(
            f"ws://127.0.0.1:{port}/ocpp/{station_id}",
            subprotocols=[websockets.Subprotocol("ocpp1.6")],
            additional_headers={"Authorization": f"Basic {token}"},
        )
        assert await _call(socket, "boot", "BootNotification",
                    {"chargePointVendor": "bench", "chargePointModel": "churn"})  # fmt: skip
        sockets[station_id] = socket
    status: dict[tuple[str, int], str] = {}

    async def flip(station_id: str, evses: list[int], every_s: float) -> None:
        # Each station reports on its own socket at its share of the rate, so a slow answer
        # to one holds up only that one.
        due = time.monotonic() + rng.random() * every_s
        while True:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            due += every_s
            evse_id = rng.choice(evses)
            now = "Charging" if status.get((station_id, evse_id)) == "Available" else "Available"
            status[(station_id, evse_id)] = now
            payload = {"connectorId": evse_id, "errorCode": "NoError", "status": now}
            if await _call(sockets[station_id], f"s{done[0]}", "StatusNotification", payload):
                done[0] += 1
            else:  # the server failed to store it (SQLite busy): counted, not retried
                done[1] += 1

    every_s = len(by_station) / per_second
    tasks = [
        asyncio.create_task(flip(station_id, evses, every_s))
        for station_id, evses in by_station.items()
    ]
    try:
        yield done
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for socket in sockets.values():
            await socket.close()
