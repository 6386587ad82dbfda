"""The app end, whole: a driver near an idle charger gets its offer within seconds while the app
is open, as a Web Push when it is closed, and an app that comes near an offer's area hears it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.test_live import live, new_site, station
from tests.e2e.test_offers import account
from tests.e2e.test_reservations import Headers, new_drivers
from tests.local_push_service import LocalPushService, local_push_service
from voltbook.drivers.model import Role
from voltbook.services import Services
from voltbook.storage.tables import drivers, vehicles

DEPOT = (48.8566, 2.3522)
NEAR = (48.8600, 2.3500)  # about 400 m from the depot
FAR = (48.9500, 2.3500)  # about 10 km north


@pytest.fixture
def app_overrides() -> dict[str, object]:
    return {"push_allow_insecure": True}  # the local push service is plain http on loopback


@pytest.fixture
def engine(own_database: tuple[str, AsyncEngine]) -> AsyncEngine:
    """This module's tests run against a server of their own, on a database of their own."""
    return own_database[1]


@pytest.fixture
async def push_service() -> AsyncIterator[LocalPushService]:
    async with local_push_service() as service:
        yield service


@pytest.fixture
async def operator(engine: AsyncEngine) -> Headers:
    _, headers = await account(engine, Role.OPERATOR)
    return headers


async def consenting_driver(engine: AsyncEngine, services: Services) -> tuple[str, Headers]:
    [who] = await new_drivers(engine, 1)
    driver_id = (await services.accounts.authenticate(who["Authorization"][7:])).driver_id
    async with engine.begin() as connection:
        await connection.execute(
            drivers.update()
            .where(drivers.c.id == driver_id)
            .values(consent_location=True, consent_offers=True)
        )
        await connection.execute(
            vehicles.insert().values(
                id=f"car-{driver_id}", driver_id=driver_id, name="Zoe", battery_kwh=52.0,
                standards="IEC_62196_T2;IEC_62196_T2_COMBO", created_at=datetime.now(UTC),
            )
        )  # fmt: skip
    await services.offers.refresh()  # the engine learns consents on its periodic refresh
    return driver_id, who


async def make_offer(http: httpx.AsyncClient, operator: Headers, **fields: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body = {
        "title": "Half price while it is quiet",
        "kind": "percent_off",
        "value": 50,
        "area": {"lat": DEPOT[0], "lon": DEPOT[1], "radius_m": 2000},
        "trigger": "idle_station",
        "idle_minutes": 10,
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(hours=2)).isoformat(),
        "max_per_driver": 1,
    } | fields
    made = await http.post("/api/v1/operator/offers", json=body, headers=operator)
    assert made.status_code == 201, made.text
    return dict(made.json())


async def report_now(charger: Any, evse: int, status: str) -> None:
    stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    await charger.call(
        "StatusNotification",
        {"connectorId": evse, "errorCode": "NoError", "status": status, "timestamp": stamp},
    )


async def test_a_driver_with_the_app_open_near_an_idle_charger_gets_its_offer_within_seconds(
    base: str, http: httpx.AsyncClient, engine: AsyncEngine, services: Services, operator: Headers
) -> None:
    site_id = await new_site(engine, *DEPOT)
    async with station(http, operator, base, site_id) as (station_id, charger):
        await report_now(charger, 1, "Available")
        offer = await make_offer(http, operator)
        _, who = await consenting_driver(engine, services)
        async with live(base, who) as app:
            await app.send({"type": "location", "id": "here", "lat": NEAR[0], "lon": NEAR[1]})
            assert (await app.next_of("ok"))["id"] == "here"
            # The engine's tick, as it runs every few seconds, once the charger sat idle long
            # enough (ten minutes from now).
            sent = await services.offers.idle_check(datetime.now(UTC) + timedelta(minutes=11))
            got = await app.next_of("offer", timeout=5)
    assert sent == 1
    assert (got["offer_id"], got["station_id"], got["trigger"]) == (
        offer["id"],
        station_id,
        "idle_station",
    )
    assert got["seq"] >= 1


async def test_a_driver_whose_app_is_closed_gets_the_offer_as_a_web_push(
    base: str,
    http: httpx.AsyncClient,
    engine: AsyncEngine,
    services: Services,
    operator: Headers,
    push_service: LocalPushService,
) -> None:
    site_id = await new_site(engine, *DEPOT)
    async with station(http, operator, base, site_id) as (_, charger):
        await report_now(charger, 1, "Available")
        offer = await make_offer(http, operator, value=30)
        _, who = await consenting_driver(engine, services)
        key = (await http.get("/api/v1/push/key")).json()["public_key"]
        endpoint, browser = push_service.subscribe(key)
        subscribed = await http.post(
            "/api/v1/push/subscriptions",
            json={"endpoint": endpoint, "keys": {"p256dh": browser.p256dh, "auth": browser.auth}},
            headers=who,
        )
        assert subscribed.status_code == 201, subscribed.text
        async with live(base, who) as app:
            await app.send({"type": "location", "id": "here", "lat": NEAR[0], "lon": NEAR[1]})
            await app.next_of("ok")
        # The app is closed now; the charger sits idle.
        await asyncio.sleep(0.2)
        assert await services.offers.idle_check(datetime.now(UTC) + timedelta(minutes=11)) == 1
        async with asyncio.timeout(10):
            while not push_service.to(endpoint):
                await asyncio.sleep(0.05)
    [received] = push_service.to(endpoint)
    message = json.loads(received.plaintext)
    assert (message["type"], message["offer_id"], message["value"]) == ("offer", offer["id"], 30)
    assert received.ttl is not None
    assert received.ttl > 0


async def test_an_app_entering_an_offers_area_hears_the_offer_once(
    base: str, http: httpx.AsyncClient, engine: AsyncEngine, services: Services, operator: Headers
) -> None:
    offer = await make_offer(
        http,
        operator,
        trigger="area_entry",
        idle_minutes=None,
        title=f"Welcome {secrets.token_hex(2)}",
    )
    _, who = await consenting_driver(engine, services)
    async with live(base, who) as app:
        heard: list[dict[str, Any]] = []
        for n, (lat, lon) in enumerate((FAR, NEAR, NEAR, FAR, NEAR)):
            await app.send({"type": "location", "id": n, "lat": lat, "lon": lon})
            while (message := await app.receive())["type"] != "ok":
                heard.append(message)
        with contextlib.suppress(TimeoutError):  # and whatever is still on its way
            while True:
                heard.append(await app.receive(1.0))
    offers = [m for m in heard if m["type"] == "offer"]
    assert [m["offer_id"] for m in offers] == [offer["id"]]  # capped at one per driver
