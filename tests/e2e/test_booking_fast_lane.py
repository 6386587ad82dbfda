"""The fast lane books plain requests exactly as the documented route does, refuses what it
refuses with the same problem, and leaves everything else to the route."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.test_reservations import new_drivers
from voltbook.storage.tables import connectors, sites, stations

BOOK = "/api/v1/reservations"
STATION = "LANE-1"
# Fields that differ between two bookings of different slots, by id and time alone.
_OWN = {"id", "start", "end", "no_show_at", "created_at", "history", "id_tag"}


@pytest.fixture
def engine(own_database: tuple[str, AsyncEngine]) -> AsyncEngine:
    return own_database[1]


@pytest.fixture
async def station(engine: AsyncEngine) -> str:
    """A station with two EVSEs, open around the clock."""
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        await connection.execute(
            sites.insert().values(
                id=1, source="test", source_id="lane", name="Lane", city="Boston", region="MA",
                country="US", lat=42.36, lon=-71.06, created_at=now, updated_at=now,
            )
        )  # fmt: skip
        await connection.execute(
            stations.insert().values(id=STATION, site_id=1, online=False, created_at=now)
        )
        await connection.execute(
            connectors.insert(),
            [
                {
                    "station_id": STATION,
                    "evse_id": evse,
                    "connector_id": 1,
                    "standard": "IEC_62196_T1_COMBO",
                    "power_type": "DC",
                    "max_power_kw": 150.0,
                    "status": "Available",
                    "status_since": now,
                }
                for evse in (1, 2)
            ],
        )
    return STATION


def slot(hours: int) -> str:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours)
    return start.isoformat().replace("+00:00", "Z")


def same_but_own(lane: dict[str, Any], route: dict[str, Any]) -> bool:
    return {k: v for k, v in lane.items() if k not in _OWN} == {
        k: v for k, v in route.items() if k not in _OWN
    }


async def test_bookings_replays_and_refusals_are_the_routes_own(
    http: httpx.AsyncClient, route_only: httpx.AsyncClient, engine: AsyncEngine, station: str
) -> None:
    one, two, three = await new_drivers(engine, 3)
    seen: dict[str, tuple[dict[str, Any], ...]] = {}
    # Each way books its own slot: the lane hour 3 from now, the route hour 4.
    for way, client, hour in (("lane", http, 3), ("route", route_only, 4)):
        body = {"station_id": station, "connector_id": 1, "start": slot(hour), "minutes": 60}
        made = await client.post(BOOK, json=body, headers=one | {"Idempotency-Key": way})
        assert made.status_code == 201, made.text
        assert "idempotent-replayed" not in made.headers
        again = await client.post(BOOK, json=body, headers=one | {"Idempotency-Key": way})
        assert again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == made.json()
        other = await client.post(
            BOOK, json=body | {"minutes": 30}, headers=one | {"Idempotency-Key": way}
        )
        assert other.status_code == 422
        taken = await client.post(BOOK, json=body, headers=two | {"Idempotency-Key": f"{way}-2"})
        assert taken.status_code == 409
        anyone = await client.post(
            BOOK, json={**body, "connector_id": None}, headers=three | {"Idempotency-Key": way}
        )
        assert anyone.status_code == 201  # the other EVSE
        full = await client.post(
            BOOK,
            json={**body, "connector_id": None, "minutes": 30},
            headers=two | {"Idempotency-Key": f"{way}-3"},
        )
        seen[way] = (made.json(), other.json(), taken.json(), anyone.json(), full.json())
    lane, route = seen["lane"], seen["route"]
    assert same_but_own(lane[0], route[0])
    assert lane[0]["start"] == slot(3)
    assert lane[0]["connector_id"] == 1
    assert lane[1] == route[1]  # the key used with another body: the same problem
    # Refused with the next free slots, each after its own (taken) slot.
    assert lane[2]["type"] == route[2]["type"] == "urn:voltbook:problem:slot-taken"
    assert lane[2]["next_free"]
    assert len(lane[2]["next_free"]) == len(route[2]["next_free"])
    assert same_but_own(lane[3], route[3])
    assert lane[3]["connector_id"] == 2
    assert lane[4]["type"] == route[4]["type"] == "urn:voltbook:problem:slot-taken"


@pytest.mark.parametrize(
    ("why", "status", "body", "headers"),
    [
        ("no such station", 404, {"station_id": "NOPE", "minutes": 30}, {}),
        ("no such EVSE", 404, {"station_id": STATION, "connector_id": 9, "minutes": 30}, {}),
        ("too long", 422, {"station_id": STATION, "minutes": 1441}, {}),
        ("a naive start", 422, {"station_id": STATION, "minutes": 30, "start": "2030-01-01T10:00"}, {}),
        ("too far ahead", 422, {"station_id": STATION, "minutes": 30, "start": "2099-01-01T10:00:00Z"}, {}),
        ("a bad key", 422, {"station_id": STATION, "minutes": 30}, {"Idempotency-Key": "a b"}),
        ("no key", 422, {"station_id": STATION, "minutes": 30}, {"Idempotency-Key": ""}),
        ("no token", 401, {"station_id": STATION, "minutes": 30}, {"Authorization": ""}),
        ("a bad token", 401, {"station_id": STATION, "minutes": 30}, {"Authorization": "Bearer x"}),
    ],
)  # fmt: skip
async def test_what_the_lane_refuses_or_leaves_gets_the_routes_answer(
    http: httpx.AsyncClient,
    route_only: httpx.AsyncClient,
    engine: AsyncEngine,
    station: str,
    why: str,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str],
) -> None:
    [driver] = await new_drivers(engine, 1)
    sent = {k: v for k, v in (driver | {"Idempotency-Key": "k-1"} | headers).items() if v}
    lane = await http.post(BOOK, json=body, headers=sent)
    route = await route_only.post(BOOK, json=body, headers=sent)
    assert lane.status_code == route.status_code == status, why
    assert lane.headers["content-type"] == route.headers["content-type"]
    assert lane.json() == route.json(), why


async def test_a_body_that_is_not_json_gets_the_routes_answer(
    http: httpx.AsyncClient, route_only: httpx.AsyncClient, engine: AsyncEngine, station: str
) -> None:
    [driver] = await new_drivers(engine, 1)
    sent = driver | {"Content-Type": "application/json"}
    lane = await http.post(BOOK, content=b"{station_id", headers=sent)
    route = await route_only.post(BOOK, content=b"{station_id", headers=sent)
    assert lane.status_code == route.status_code == 422
    assert lane.json() == route.json()
