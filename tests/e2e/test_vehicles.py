"""Drivers describe their vehicles, share (and withdraw) their position, and are told which
available, fitting chargers they can reach; a charger's SoC reaches the vehicle. Real server."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from tests.e2e.ocpp_client import ScriptedStation, connect
from tests.e2e.sign_ins import tokens_for
from tests.polling import eventually
from voltbook.core.bus import InProcessBus
from voltbook.core.clock import SystemClock
from voltbook.core.geo import great_circle_m
from voltbook.stations.model import PowerType, SiteDetails
from voltbook.stations.ports import ConnectorPlan, SitePlan
from voltbook.stations.service import StationService
from voltbook.stations.standards import Standard
from voltbook.storage.tables import drivers
from voltbook.storage.unit_of_work import SqlUnitOfWork

Headers = dict[str, str]
SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
PROBLEM = "application/problem+json"
HERE = (42.3555, -71.0605)  # Downtown Crossing, Boston
BOLT = {
    "name": "Bolt",
    "battery_kwh": 65,
    "standards": ["CCS1", "J1772"],
    "max_ac_kw": 11,
    "max_dc_kw": 55,
}


async def new_driver(engine: AsyncEngine) -> Headers:
    driver_id = f"drv-{secrets.token_hex(6)}"
    async with engine.begin() as connection:
        await connection.execute(
            drivers.insert().values(
                id=driver_id,
                email=f"{driver_id}@example.org",
                password_hash="unused",
                role="driver",
                created_at=datetime.now(UTC),
            )
        )
        [token] = await tokens_for(connection, SECRET, [driver_id])
    return {"Authorization": f"Bearer {token}"}


async def add_vehicle(client: httpx.AsyncClient, who: Headers, **changes: Any) -> dict[str, Any]:
    made = await client.post("/api/v1/vehicles", json=BOLT | changes, headers=who)
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


# --- vehicles ------------------------------------------------------------------------------


async def test_a_driver_describes_changes_and_deletes_a_vehicle(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    driver = await new_driver(engine)
    made = await add_vehicle(client, driver)
    assert made["standards"] == ["IEC_62196_T1_COMBO", "IEC_62196_T1"]
    assert made["standard_names"] == ["CCS1", "J1772 (Type 1)"]
    assert made["soc_percent"] is None

    listed = await client.get("/api/v1/vehicles", headers=driver)
    assert [v["id"] for v in listed.json()["items"]] == [made["id"]]

    patched = await client.patch(
        f"/api/v1/vehicles/{made['id']}",
        json={"name": "Bolt EUV", "max_dc_kw": None},
        headers=driver,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Bolt EUV"
    assert patched.json()["max_dc_kw"] is None
    assert patched.json()["max_ac_kw"] == 11  # not sent: unchanged

    state = await client.post(
        f"/api/v1/vehicles/{made['id']}/state",
        json={"soc_percent": 80, "range_km": 300},
        headers=driver,
    )
    assert state.status_code == 200, state.text
    assert (state.json()["soc_percent"], state.json()["range_km"]) == (80, 300)

    gone = await client.delete(f"/api/v1/vehicles/{made['id']}", headers=driver)
    assert gone.status_code == 204
    missing = await client.get(f"/api/v1/vehicles/{made['id']}", headers=driver)
    assert missing.status_code == 404


async def test_another_drivers_vehicle_is_404_to_you(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice, bob = await new_driver(engine), await new_driver(engine)
    alices = await add_vehicle(client, alice)
    path = f"/api/v1/vehicles/{alices['id']}"
    for answer in (
        await client.get(path, headers=bob),
        await client.patch(path, json={"name": "Mine now"}, headers=bob),
        await client.delete(path, headers=bob),
        await client.post(f"{path}/state", json={"soc_percent": 1}, headers=bob),
        await client.get(
            "/api/v1/recommendations",
            params={"vehicle_id": alices["id"], "lat": HERE[0], "lon": HERE[1]},
            headers=bob,
        ),
    ):
        assert answer.status_code == 404, answer.text
        assert answer.headers["content-type"] == PROBLEM
    assert (await client.get("/api/v1/vehicles", headers=bob)).json()["items"] == []
    assert (await client.get(path, headers=alice)).json()["name"] == "Bolt"


@pytest.mark.parametrize(
    "body",
    [
        BOLT | {"standards": ["Flux capacitor"]},
        BOLT | {"standards": []},
        BOLT | {"battery_kwh": 0},
        BOLT | {"name": " "},
        {"name": "Bolt"},
    ],
)
async def test_a_vehicle_outside_the_rules_is_refused(
    client: httpx.AsyncClient, engine: AsyncEngine, body: dict[str, Any]
) -> None:
    driver = await new_driver(engine)
    refused = await client.post("/api/v1/vehicles", json=body, headers=driver)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == PROBLEM


async def test_vehicles_need_a_signed_in_driver(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/vehicles")).status_code == 401


# --- consents and position ---------------------------------------------------------------


async def test_consents_are_off_until_the_driver_turns_them_on(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    driver = await new_driver(engine)
    me = (await client.get("/api/v1/me", headers=driver)).json()
    assert (me["consent_location"], me["consent_offers"]) == (False, False)
    assert "password_hash" not in me
    changed = await client.patch(
        "/api/v1/me",
        json={
            "consent_offers": True,
            "quiet_hours": "22:00-07:00",
            "time_zone": "America/New_York",
        },
        headers=driver,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["consent_offers"] is True
    assert changed.json()["consent_location"] is False
    again = (await client.get("/api/v1/me", headers=driver)).json()
    assert (again["quiet_hours"], again["time_zone"]) == ("22:00-07:00", "America/New_York")
    bad = await client.patch("/api/v1/me", json={"time_zone": "Mars/Base"}, headers=driver)
    assert bad.status_code == 422


async def test_a_position_without_consent_is_refused(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    driver = await new_driver(engine)
    refused = await client.put(
        "/api/v1/me/location", json={"lat": HERE[0], "lon": HERE[1]}, headers=driver
    )
    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:voltbook:problem:location-consent-missing"
    assert (await client.get("/api/v1/me/location", headers=driver)).status_code == 404


async def test_a_shared_position_is_kept_until_deleted_or_consent_is_withdrawn(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    driver = await new_driver(engine)
    await client.patch("/api/v1/me", json={"consent_location": True}, headers=driver)
    shared = await client.put(
        "/api/v1/me/location",
        json={"lat": HERE[0], "lon": HERE[1], "accuracy_m": 8},
        headers=driver,
    )
    assert shared.status_code == 200, shared.text
    body = shared.json()
    lifetime = datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(
        body["reported_at"]
    )
    assert lifetime == timedelta(minutes=30)
    assert (await client.get("/api/v1/me/location", headers=driver)).json()["lat"] == HERE[0]

    deleted = await client.delete("/api/v1/me/location", headers=driver)
    assert deleted.status_code == 204
    assert (await client.get("/api/v1/me/location", headers=driver)).status_code == 404

    await client.put("/api/v1/me/location", json={"lat": 1, "lon": 2}, headers=driver)
    await client.patch("/api/v1/me", json={"consent_location": False}, headers=driver)
    assert (await client.get("/api/v1/me/location", headers=driver)).status_code == 404


# --- recommendations -----------------------------------------------------------------------


def offset(north_km: float) -> tuple[float, float]:
    """A point this far north of HERE (negative: south)."""
    return HERE[0] + north_km / 111.2, HERE[1]


def plan(station_id: str, north_km: float, standard: Standard, kw: float) -> SitePlan:
    lat, lon = offset(north_km)
    power = PowerType.AC if standard is Standard.IEC_62196_T1 else PowerType.DC
    return SitePlan(
        details=SiteDetails(
            source="test",
            source_id=station_id,
            name=f"Site {station_id}",
            address="1 Test Way",
            city="Boston",
            region="MA",
            postal_code="02108",
            country="US",
            lat=lat,
            lon=lon,
            operator=None,
            access="public",
            opening_hours=None,
        ),
        station_id=station_id,
        connectors=(ConnectorPlan(1, 1, standard, power, kw),),
    )


@pytest.fixture
async def chargers(
    client: httpx.AsyncClient, engine: AsyncEngine, operator: Headers, server_url: str
) -> AsyncIterator[dict[str, str]]:
    """Live stations reporting Available, at sites north of HERE; name → station id."""
    tag = secrets.token_hex(2).upper()
    layout = {
        "fast-near": (3, Standard.IEC_62196_T1_COMBO, 150.0),
        "slow-near": (2, Standard.IEC_62196_T1, 7.2),
        "fast-far": (40, Standard.IEC_62196_T1_COMBO, 150.0),
        "chademo-nearest": (1, Standard.CHADEMO, 50.0),
        "south-90km": (-90, Standard.IEC_62196_T1_COMBO, 350.0),
    }
    ids = {name: f"REC-{tag}-{i}" for i, name in enumerate(layout)}
    clock = SystemClock()

    def uow(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock, read_only=read_only)

    await StationService(uow, InProcessBus()).import_sites(
        [plan(ids[name], *spec) for name, spec in layout.items()], source="test"
    )
    async with AsyncExitStack() as stack:
        for station_id in ids.values():
            made = await client.post(
                f"/api/v1/operator/stations/{station_id}/credentials", headers=operator
            )
            assert made.status_code == 201, made.text
            charger = await stack.enter_async_context(
                connect(server_url, station_id, made.json()["password"])
            )
            await boot_available(charger)
        yield ids


async def boot_available(charger: ScriptedStation) -> None:
    await charger.call("BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"})
    await charger.call(
        "StatusNotification",
        {
            "connectorId": 1,
            "errorCode": "NoError",
            "status": "Available",
            "timestamp": datetime.now(UTC).isoformat(),
        },
    )


async def test_recommendations_rank_reachable_fitting_chargers_nearer_and_faster_first(
    client: httpx.AsyncClient, engine: AsyncEngine, chargers: dict[str, str]
) -> None:
    driver = await new_driver(engine)
    car = await add_vehicle(client, driver)
    await client.post(
        f"/api/v1/vehicles/{car['id']}/state", json={"soc_percent": 30, "range_km": 100},
        headers=driver,
    )  # fmt: skip
    found = await client.get(
        "/api/v1/recommendations",
        params={"vehicle_id": car["id"], "lat": HERE[0], "lon": HERE[1]},
        headers=driver,
    )
    assert found.status_code == 200, found.text
    items = found.json()["items"]
    assert [i["station_id"] for i in items] == [
        chargers["fast-near"],
        chargers["slow-near"],
        chargers["fast-far"],
    ]  # no CHAdeMO (does not fit), nothing 90 km away (beyond 85 % of 100 km)
    first = items[0]
    assert first["power_kw"] == 55  # the vehicle's DC limit, not the charger's 150 kW
    assert first["standard"] == "IEC_62196_T1_COMBO"
    assert first["offers"] == []
    assert first["distance_m"] == pytest.approx(great_circle_m(*HERE, *offset(3)), abs=1)
    assert items[1]["power_kw"] == pytest.approx(7.2)
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)


async def test_recommendations_use_the_shared_position_but_never_an_expired_one(
    client: httpx.AsyncClient, engine: AsyncEngine, chargers: dict[str, str]
) -> None:
    driver = await new_driver(engine)
    car = await add_vehicle(client, driver)
    await client.post(
        f"/api/v1/vehicles/{car['id']}/state", json={"soc_percent": 50}, headers=driver
    )  # no range: 50 % of 65 kWh at 0.18 kWh/km, about 180 km
    asked = {"vehicle_id": car["id"]}

    unknown = await client.get("/api/v1/recommendations", params=asked, headers=driver)
    assert unknown.status_code == 422
    assert unknown.json()["type"] == "urn:voltbook:problem:position-unknown"

    await client.patch("/api/v1/me", json={"consent_location": True}, headers=driver)
    stale = (datetime.now(UTC) - timedelta(minutes=31)).isoformat()
    old = await client.put(
        "/api/v1/me/location", json={"lat": HERE[0], "lon": HERE[1], "at": stale}, headers=driver
    )
    assert old.status_code == 200
    expired = await client.get("/api/v1/recommendations", params=asked, headers=driver)
    assert expired.status_code == 422  # a position past its time-to-live is not used

    await client.put("/api/v1/me/location", json={"lat": HERE[0], "lon": HERE[1]}, headers=driver)
    found = await client.get("/api/v1/recommendations", params=asked, headers=driver)
    assert found.status_code == 200, found.text
    assert found.json()["items"][0]["station_id"] == chargers["fast-near"]
    # 90 km south is within an estimated 180 km less 15 %
    assert chargers["south-90km"] in {i["station_id"] for i in found.json()["items"]}


async def test_no_recommendations_without_a_known_range(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    driver = await new_driver(engine)
    car = await add_vehicle(client, driver)
    unknown = await client.get(
        "/api/v1/recommendations",
        params={"vehicle_id": car["id"], "lat": HERE[0], "lon": HERE[1]},
        headers=driver,
    )
    assert unknown.status_code == 409
    assert unknown.json()["type"] == "urn:voltbook:problem:range-unknown"


# --- a charger's SoC ---------------------------------------------------------------------------


async def test_a_chargers_meter_values_with_soc_update_the_booked_vehicle(
    client: httpx.AsyncClient, engine: AsyncEngine, operator: Headers, server_url: str
) -> None:
    driver = await new_driver(engine)
    await add_vehicle(client, driver, name="Other car")
    car = await add_vehicle(client, driver)
    station_id = f"SOC-{secrets.token_hex(3)}"
    made = await client.post("/api/v1/operator/stations", json={"id": station_id}, headers=operator)
    async with connect(server_url, station_id, made.json()["password"]) as charger:
        charger.answers = {"ReserveNow": {"status": "Accepted"}}
        await boot_available(charger)
        booked = await client.post(
            "/api/v1/reservations",
            json={"station_id": station_id, "connector_id": 1, "minutes": 30, "vehicle_id": car["id"]},
            headers=driver | {"Idempotency-Key": "booking-1"},
        )  # fmt: skip
        assert booked.status_code == 201, booked.text
        reservation = booked.json()
        now = datetime.now(UTC)
        started = await charger.call(
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": reservation["id_tag"],
                "meterStart": 0,
                "timestamp": now.isoformat(),
                "reservationId": reservation["id"],
            },
        )
        assert started[2]["idTagInfo"]["status"] == "Accepted"
        sampled = now + timedelta(seconds=5)
        await charger.call(
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": started[2]["transactionId"],
                "meterValue": [
                    {
                        "timestamp": sampled.isoformat(),
                        "sampledValue": [
                            {"value": "1200"},
                            {"value": "63", "measurand": "SoC", "unit": "Percent"},
                        ],
                    }
                ],
            },
        )

        async def charged() -> bool:
            found = await client.get(f"/api/v1/vehicles/{car['id']}", headers=driver)
            return bool(found.json()["soc_percent"] == 63)

        await eventually(charged)
        others = (await client.get("/api/v1/vehicles", headers=driver)).json()["items"]
        assert [v["soc_percent"] for v in others if v["id"] != car["id"]] == [None]


# --- no coordinates in logs ----------------------------------------------------------------


async def test_positions_and_recommendations_leave_no_coordinates_in_the_logs(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    chargers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    driver = await new_driver(engine)
    car = await add_vehicle(client, driver)
    await client.post(f"/api/v1/vehicles/{car['id']}/state", json={"range_km": 50}, headers=driver)
    where = {"lat": 42.3512345, "lon": -71.0612345}
    caplog.set_level(logging.DEBUG)
    with capture_logs() as logs:
        refused = await client.put("/api/v1/me/location", json=where, headers=driver)
        await client.patch("/api/v1/me", json={"consent_location": True}, headers=driver)
        shared = await client.put("/api/v1/me/location", json=where, headers=driver)
        found = await client.get(
            "/api/v1/recommendations", params={"vehicle_id": car["id"]}, headers=driver
        )
        bad = await client.get(
            "/api/v1/recommendations",
            params={"vehicle_id": car["id"], "lat": where["lat"]},
            headers=driver,
        )
        await client.delete("/api/v1/me/location", headers=driver)
    assert (refused.status_code, shared.status_code, found.status_code) == (403, 200, 200)
    assert bad.status_code == 422
    # The server's own logs and uvicorn's (the test client's request log is not the server's).
    served = [r.getMessage() for r in caplog.records if r.name.startswith(("voltbook", "uvicorn"))]
    written = repr(logs) + repr(served)
    for figure in ("42.35", "71.06", "4235", "7106"):
        assert figure not in written


async def test_with_the_app_open_the_server_asks_it_for_the_vehicles_state_and_position(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    chargers: dict[str, str],
    server_url: str,
    operator: Headers,
) -> None:
    """Nothing stored: the server asks the open app (query.vehicle, then query.location),
    keeps the answers, and ranks a station with a running offer with it."""
    driver = await new_driver(engine)
    car = await add_vehicle(client, driver)
    shared = await client.patch("/api/v1/me", json={"consent_location": True}, headers=driver)
    assert shared.status_code == 200, shared.text
    deal = await client.post(
        "/api/v1/operator/offers",
        json={
            "title": "Fast and cheap", "kind": "price_per_kwh", "value": 0.19,
            "area": {"lat": HERE[0], "lon": HERE[1], "radius_m": 10_000},
            "station_ids": [chargers["fast-near"]], "trigger": "area_entry",
            "ends_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        },
        headers=operator,
    )  # fmt: skip
    assert deal.status_code == 201, deal.text
    url = server_url.replace("http://", "ws://") + "/api/v1/live"
    async with websockets.connect(url, additional_headers=driver) as app:
        assert json.loads(await app.recv())["type"] == "welcome"
        asked = asyncio.create_task(
            client.get("/api/v1/recommendations", params={"vehicle_id": car["id"]}, headers=driver)
        )
        query = json.loads(await asyncio.wait_for(app.recv(), 5))
        assert (query["type"], query["vehicle_id"]) == ("query.vehicle", car["id"])
        await app.send(
            json.dumps(
                {"type": "vehicle", "id": query["id"], "vehicle_id": car["id"],
                 "soc_percent": 40, "range_km": 120}
            )
        )  # fmt: skip
        query = json.loads(await asyncio.wait_for(app.recv(), 5))
        assert query["type"] == "query.location"
        await app.send(
            json.dumps({"type": "location", "id": query["id"], "lat": HERE[0], "lon": HERE[1]})
        )
        found = await asyncio.wait_for(asked, 10)
    assert found.status_code == 200, found.text
    first = found.json()["items"][0]
    assert first["station_id"] == chargers["fast-near"]
    assert [o["title"] for o in first["offers"]] == ["Fast and cheap"]
    state = (await client.get(f"/api/v1/vehicles/{car['id']}", headers=driver)).json()
    assert (state["soc_percent"], state["range_km"]) == (40, 120)
    assert (await client.get("/api/v1/me/location", headers=driver)).status_code == 200
