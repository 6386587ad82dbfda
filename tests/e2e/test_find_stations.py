"""Drivers find real stations near a point through the HTTP API."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from voltbook.bootstrap import bundled_stations
from voltbook.core.bus import InProcessBus
from voltbook.core.clock import SystemClock
from voltbook.stations.importing import read_site_rows
from voltbook.stations.ports import SitePlan
from voltbook.stations.service import StationService
from voltbook.storage.unit_of_work import SqlUnitOfWork

PROBLEM = "application/problem+json"


async def import_bundled(engine: AsyncEngine) -> None:
    clock = SystemClock()

    def uow(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock, read_only=read_only)

    with bundled_stations().open(encoding="utf-8", newline="") as handle:
        plans = [p for p in read_site_rows(handle, "afdc") if isinstance(p, SitePlan)]
    await StationService(uow, InProcessBus()).import_sites(plans, source="afdc")


async def test_real_stations_are_found_nearest_first(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await import_bundled(engine)

    downtown = await client.get(
        "/api/v1/stations/nearby",
        params={"lat": 42.3555, "lon": -71.0605, "radius_m": 2000, "limit": 100},
    )
    assert downtown.status_code == 200
    items = downtown.json()["items"]
    assert len(items) == 100  # 380 sites lie within 2 km of Downtown Crossing
    distances = [item["distance_m"] for item in items]
    assert distances == sorted(distances)
    assert distances[0] < 100
    assert distances[-1] <= 2000
    first = items[0]
    assert first["source_id"].startswith("AFDC-")
    assert first["address"]
    assert first["city"] == "Boston"
    assert first["operator"]
    assert first["stations"][0]["connectors"][0]["status"] == "Unknown"

    sparse = await client.get(
        "/api/v1/stations/nearby",
        params={"lat": 43.9714, "lon": -74.4196, "radius_m": 5000},
    )
    [long_lake] = sparse.json()["items"]  # one site within 5 km of Long Lake, NY
    assert 3_500 < long_lake["distance_m"] < 3_700

    ccs = await client.get(
        "/api/v1/stations/nearby",
        params={"lat": 40.7549, "lon": -73.9840, "radius_m": 10_000, "connector": "CCS1"},
    )
    plugs = [
        {c["standard"] for s in item["stations"] for c in s["connectors"]}
        for item in ccs.json()["items"]
    ]
    assert plugs
    assert all("IEC_62196_T1_COMBO" in p for p in plugs)

    site = await client.get(f"/api/v1/sites/{first['id']}")
    assert site.status_code == 200
    assert site.json()["source_id"] == first["source_id"]


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"lat": 91, "lon": 0}, "lat"),
        ({"lat": 0, "lon": "abc"}, "lon"),
        ({"lat": 0, "lon": 0, "radius_m": -1}, "radius_m"),
        ({"lat": 0, "lon": 0, "limit": 101}, "limit"),
        ({"lat": 0, "lon": 0, "limit": 0}, "limit"),
        ({"lat": "nan", "lon": 0}, "lat"),
        ({"lon": 0}, "lat"),
    ],
)
async def test_invalid_search_is_a_422_problem(
    client: httpx.AsyncClient, params: dict[str, object], bad: str
) -> None:
    response = await client.get("/api/v1/stations/nearby", params=params)  # type: ignore[arg-type]
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == "urn:voltbook:problem:validation-error"
    assert body["status"] == 422
    assert any(error["loc"][-1] == bad for error in body["errors"])


async def test_unknown_connector_name_is_a_422_problem(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/stations/nearby", params={"lat": 0, "lon": 0, "connector": "FOO"}
    )
    assert response.status_code == 422
    assert response.json()["type"] == "urn:voltbook:problem:invalid-input"
    assert "FOO" in response.json()["detail"]


async def test_unknown_site_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/sites/999999")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:voltbook:problem:not-found"


async def test_unknown_path_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


async def test_operations_endpoints(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}
    # Coordinates no counter can equal: "42.0" is also what 42 requests in a bucket read.
    await client.get("/api/v1/stations/nearby", params={"lat": 42.0123, "lon": -71.0456})
    metrics = (await client.get("/metrics")).text
    assert 'route="/api/v1/stations/nearby"' in metrics
    assert "42.0123" not in metrics  # never a coordinate in metrics
    assert "71.0456" not in metrics
    schema = (await client.get("/openapi.json")).json()
    assert "/api/v1/stations/nearby" in schema["paths"]
    assert "Problem" in schema["components"]["schemas"]
