"""A running server forecasts a station from the history it keeps: the forecast endpoint,
and the likely-free flag in nearby search (fast lane and route alike)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.test_find_stations import import_bundled
from voltbook.core.clock import SystemClock
from voltbook.forecasts import synthetic
from voltbook.services import Services
from voltbook.storage.tables import sites, stations
from voltbook.storage.unit_of_work import SqlUnitOfWork


@pytest.fixture
def engine(own_database: tuple[str, AsyncEngine]) -> AsyncEngine:
    return own_database[1]


async def given_two_weeks_of_history(engine: AsyncEngine) -> tuple[str, int, float, float]:
    """A bundled site's station with two weeks of (synthetic) history up to now."""
    await import_bundled(engine)
    async with engine.connect() as connection:
        station_id, site_id, lat, lon = (
            await connection.execute(
                sa.select(stations.c.id, sites.c.id, sites.c.lat, sites.c.lon)
                .join(sites, sites.c.id == stations.c.site_id)
                .order_by(stations.c.id)
                .limit(1)
            )
        ).one()
    history = synthetic.generate(synthetic.Parameters(stations=1, weeks=2, seed=2))
    shift = datetime.now(UTC).replace(second=0, microsecond=0) - history.end
    rows = [replace(r, station_id=station_id, at=r.at + shift) for r in history.rows]
    async with SqlUnitOfWork(engine, SystemClock()) as work:
        await work.status_history.add_many(rows)
        await work.commit()
    return station_id, site_id, lat, lon


async def test_a_station_is_forecast_by_the_last_value_then_by_the_trained_model(
    engine: AsyncEngine,
    services: Services,
    http: httpx.AsyncClient,
    route_only: httpx.AsyncClient,
) -> None:
    station_id, site_id, lat, lon = await given_two_weeks_of_history(engine)
    before = await http.get(f"/api/v1/stations/{station_id}/forecast")
    assert before.status_code == 200, before.text
    assert before.json()["fallback"] == "last_value"
    assert before.json()["model_trained_at"] is None

    assert services.forecasts is not None
    assert await services.forecasts.train(force=True) is not None
    await services.forecasts.refresh()

    answer = (await http.get(f"/api/v1/stations/{station_id}/forecast")).json()
    assert answer["fallback"] is None
    assert answer["model_age_s"] >= 0
    assert [h["minutes"] for h in answer["horizons"]] == [15, 30, 60]
    assert all(0 <= h["probability_free"] <= 1 for h in answer["horizons"])

    plugs = (await http.get(f"/api/v1/sites/{site_id}")).json()["stations"]
    standard = next(
        c["standard_name"] for st in plugs for c in st["connectors"] if st["id"] == station_id
    )
    fitting = await http.get(
        f"/api/v1/stations/{station_id}/forecast", params={"connector": standard}
    )
    assert fitting.status_code == 200, fitting.text
    assert fitting.json()["fallback"] is None
    unknown = await http.get(
        f"/api/v1/stations/{station_id}/forecast", params={"connector": "Tesla Coil"}
    )
    assert unknown.status_code == 422
    assert unknown.headers["content-type"].startswith("application/problem+json")

    near = {"lat": lat, "lon": lon, "radius_m": 50, "limit": 50}
    flag = services.forecasts.likely_free_sites[site_id]
    for client in (http, route_only):  # the fast lane, then the documented route
        found = (await client.get("/api/v1/stations/nearby", params=near)).json()["items"]
        mine = next(item for item in found if item["id"] == site_id)
        assert mine["likely_free"] is flag
        assert all(i["likely_free"] is None for i in found if i["id"] != site_id)


async def test_an_unknown_station_is_404_and_a_malformed_id_422(http: httpx.AsyncClient) -> None:
    missing = await http.get("/api/v1/stations/NO-SUCH-STATION/forecast")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    malformed = await http.get("/api/v1/stations/" + "x" * 49 + "/forecast")
    assert malformed.status_code == 422


async def test_a_known_station_without_history_says_so(
    engine: AsyncEngine, http: httpx.AsyncClient
) -> None:
    async with SqlUnitOfWork(engine, SystemClock()) as work:
        await work.stations.add("QUIET", None, "not-a-real-hash")
        await work.commit()
    answer = (await http.get("/api/v1/stations/QUIET/forecast")).json()
    assert answer["fallback"] == "no_history"
    assert [h["probability_free"] for h in answer["horizons"]] == [0.0, 0.0, 0.0]
