"""A server answering searches from its in-memory catalog answers what the database does."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.conftest import running_server, server_settings
from tests.e2e.test_find_stations import import_bundled

DOWNTOWN = {"lat": 42.3555, "lon": -71.0605, "radius_m": 2000, "limit": 10}


async def test_sites_imported_elsewhere_are_found_within_a_second_and_answers_equal_the_database(
    client: httpx.AsyncClient, engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    settings = server_settings(database_url, tmp_path, nearby_in_memory=True)
    async with (
        running_server(settings) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as memory,
    ):
        assert (await memory.get("/api/v1/stations/nearby", params=DOWNTOWN)).json()["items"] == []
        await import_bundled(engine)  # another process's import: no event reaches the server
        imported = time.monotonic()
        while not (await memory.get("/api/v1/stations/nearby", params=DOWNTOWN)).json()["items"]:
            assert time.monotonic() - imported < 1.5
            await asyncio.sleep(0.05)
        # The promise is at most 1 s stale: an import seen in part is caught up by then.
        await asyncio.sleep(max(0.0, imported + 1.5 - time.monotonic()))

        rng = random.Random(18)
        for n in range(40):
            params: dict[str, object] = {
                "lat": rng.uniform(40.6, 42.8),
                "lon": rng.uniform(-74.2, -70.8),
                "radius_m": rng.choice([500, 5_000, 50_000]),
                "limit": rng.choice([1, 10, 100]),
            }
            if n % 2:
                params["connector"] = "J1772"
            if n % 3 == 0:
                params["available"] = "true"
            from_memory = await memory.get("/api/v1/stations/nearby", params=params)
            from_database = await client.get("/api/v1/stations/nearby", params=params)
            assert from_memory.status_code == from_database.status_code == 200
            assert from_memory.content == from_database.content
