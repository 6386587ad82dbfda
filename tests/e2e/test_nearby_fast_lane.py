"""The fast lane answers plain nearby searches exactly as the documented route does, and
leaves everything else to the route."""

from __future__ import annotations

import random

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.test_find_stations import import_bundled
from voltbook.storage.tables import connectors, stations

NEARBY = "/api/v1/stations/nearby"


@pytest.fixture
def engine(own_database: tuple[str, AsyncEngine]) -> AsyncEngine:
    return own_database[1]


def searches() -> list[dict[str, str]]:
    """Plain searches over the bundled stations' region, with every filter the lane reads."""
    rng = random.Random(7)
    found: list[dict[str, str]] = []
    for n in range(60):
        params = {
            "lat": f"{rng.uniform(40.5, 45.0):.5f}",
            "lon": f"{rng.uniform(-79.7, -70.0):.5f}",
            "radius_m": str(rng.choice([0, 5_000, 50_000, 50_000, 20_000_000])),
            "limit": str(rng.choice([1, 10, 100])),
        }
        if n % 3 == 1:
            params["connector"] = rng.choice(["CCS1", "J1772", "chademo", "NACS,CCS1"])
        if n % 4 == 2:
            params["available"] = "true"
        if n % 5 == 3:
            params["min_power_kw"] = "50"
            params["power_type"] = "DC"
        found.append(params)
    return found


async def test_plain_searches_get_the_routes_answer_byte_for_byte(
    http: httpx.AsyncClient, route_only: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await import_bundled(engine)
    async with engine.begin() as connection:  # some live stations, so `available` matters
        await connection.execute(sa.update(stations).values(online=True))
        await connection.execute(
            sa.update(connectors).where(connectors.c.evse_id == 1).values(status="Available")
        )
    answered = 0
    for params in searches():
        lane = await http.get(NEARBY, params=params)
        route = await route_only.get(NEARBY, params=params)
        assert lane.status_code == route.status_code == 200, params
        assert lane.headers["content-type"] == route.headers["content-type"]
        assert lane.content == route.content, params
        answered += bool(lane.json()["items"])
    assert answered > 20  # not a comparison of empty lists


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("lat=42.36&lon=-71.06&connector=CCS1&connector=J1772", 200),  # a repeated key
        ("lat=42.36&lon=-71.06&_=1700000000", 200),  # a key nobody declared
        ("lat=42.36&lon=-71.06&limit=101", 422),
        ("lat=42.36&lon=-71.06&available=", 422),
        ("lat=42.36&lon=-71.06&connector=FOO", 422),
        ("lat=91&lon=0", 422),
        ("lon=0", 422),
    ],
)
async def test_what_the_lane_leaves_is_answered_by_the_route(
    http: httpx.AsyncClient, route_only: httpx.AsyncClient, query: str, status: int
) -> None:
    lane = await http.get(f"{NEARBY}?{query}")
    route = await route_only.get(f"{NEARBY}?{query}")
    assert lane.status_code == route.status_code == status
    assert lane.headers["content-type"] == route.headers["content-type"]
    body = lane.json()
    if status == 422:  # the route's problem, naming the request's own path
        assert body == route.json() | {"instance": NEARBY}
    else:
        assert body == route.json()
