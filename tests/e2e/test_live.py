"""The live channel: the app authenticates, follows topics, answers the server's questions and
hears its notices in order, once, across reconnects."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import ClientConnection

from tests.e2e.ocpp_client import ScriptedStation, connect
from tests.e2e.test_offers import account
from tests.e2e.test_reservations import ACCEPT_ALL, NOW, Headers, new_drivers
from voltbook.core.errors import TimedOut, Unavailable
from voltbook.drivers.model import Role
from voltbook.services import Services
from voltbook.storage.tables import sites


@pytest.fixture
def engine(own_database: tuple[str, AsyncEngine]) -> AsyncEngine:
    """This module's tests run against a server of their own, on a database of their own."""
    return own_database[1]


class App:
    """A driver's app on the live channel."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.welcome: dict[str, Any] = {}

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.socket.send(message if isinstance(message, str) else json.dumps(message))

    async def receive(self, timeout: float = 5.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            message: dict[str, Any] = json.loads(await self.socket.recv())
            return message

    async def next_of(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next message of one type, skipping others."""
        async with asyncio.timeout(timeout):
            while True:
                message = await self.receive(timeout)
                if message["type"] == kind:
                    return message

    async def silent(self, seconds: float = 0.5) -> bool:
        try:
            await self.receive(seconds)
        except TimeoutError:
            return True
        return False


@asynccontextmanager
async def live(
    base: str,
    who: Headers | None,
    *,
    since: int | None = None,
    first: Any = None,
    welcome: bool = True,
) -> AsyncIterator[App]:
    url = base.replace("http://", "ws://") + "/api/v1/live"
    if since is not None:
        url += f"?since={since}"
    async with websockets.connect(url, additional_headers=who or {}) as socket:
        app = App(socket)
        if first is not None:
            await app.send(first)
        if welcome and (who is not None or first is not None):
            app.welcome = await app.receive()
            assert app.welcome["type"] == "welcome", app.welcome
        yield app


async def new_site(engine: AsyncEngine, lat: float, lon: float) -> int:
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        made = await connection.execute(
            sites.insert()
            .values(
                source="test", source_id=secrets.token_hex(4), name="Depot", country="FR",
                lat=lat, lon=lon, created_at=now, updated_at=now,
            )
            .returning(sites.c.id)
        )  # fmt: skip
        return int(made.scalar_one())


@asynccontextmanager
async def station(
    http: httpx.AsyncClient, operator: Headers, base: str, site_id: int | None = None
) -> AsyncIterator[tuple[str, ScriptedStation]]:
    station_id = f"LIVE-{secrets.token_hex(3)}"
    made = await http.post(
        "/api/v1/operator/stations", json={"id": station_id, "site_id": site_id}, headers=operator
    )
    assert made.status_code == 201, made.text
    async with connect(base, station_id, made.json()["password"]) as charger:
        charger.answers = dict(ACCEPT_ALL)
        await charger.call("BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"})
        yield station_id, charger


async def report(charger: ScriptedStation, evse: int, status: str) -> None:
    await charger.call(
        "StatusNotification",
        {"connectorId": evse, "errorCode": "NoError", "status": status, "timestamp": NOW},
    )


@pytest.fixture
async def operator(engine: AsyncEngine) -> Headers:
    _, headers = await account(engine, Role.OPERATOR)
    return headers


# --- who may connect -----------------------------------------------------------------------


async def test_an_app_without_a_token_is_closed_with_4401(base: str) -> None:
    async with live(base, None) as app:
        await app.send({"type": "subscribe", "topic": "reservations"})
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await app.receive()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


async def test_an_app_with_a_forged_token_is_closed_with_4401(base: str) -> None:
    async with live(base, {"Authorization": "Bearer not.a.token"}, welcome=False) as app:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await app.receive()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


async def test_a_browser_authenticates_with_its_first_message(
    base: str, engine: AsyncEngine
) -> None:
    [driver] = await new_drivers(engine, 1)
    token = driver["Authorization"].removeprefix("Bearer ")
    async with live(base, None, first={"type": "auth", "token": token}) as app:
        await app.send({"type": "ping", "id": 7})
        assert await app.next_of("pong") == {"type": "pong", "id": 7}


# --- bad input never closes the channel ------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("not json", "invalid-json"),
        ("[1, 2]", "invalid-message"),
        ({"no": "type"}, "invalid-message"),
        ({"type": "teleport"}, "unknown-type"),
        ({"type": "subscribe", "topic": "weather:paris"}, "invalid-input"),
        ({"type": "subscribe", "topic": "area:91,0,100"}, "invalid-input"),
        ({"type": "location", "lat": "north", "lon": 2}, "invalid-message"),
        ({"type": "ack", "seq": -1}, "invalid-message"),
        ({"type": "ack", "seq": 999}, "unknown-notice"),
        ({"type": "auth", "token": "again"}, "already-authenticated"),
        ("x" * 10_000, "too-large"),
    ],
)
async def test_a_bad_message_gets_an_error_and_the_channel_stays_open(
    base: str, engine: AsyncEngine, message: dict[str, Any] | str, code: str
) -> None:
    [driver] = await new_drivers(engine, 1)
    async with live(base, driver) as app:
        await app.send(message)
        error = await app.next_of("error")
        assert error["code"] == code, error
        await app.socket.send(b"\x00binary")
        assert (await app.next_of("error"))["code"] == "invalid-message"
        await app.send({"type": "ping", "id": "still-there"})
        assert (await app.next_of("pong"))["id"] == "still-there"


# --- notices: in order, once, across reconnects ------------------------------------------------


async def test_reservation_notices_arrive_live_in_sequence(
    base: str, http: httpx.AsyncClient, engine: AsyncEngine, operator: Headers
) -> None:
    [driver] = await new_drivers(engine, 1)
    async with station(http, operator, base) as (station_id, charger), live(base, driver) as app:
        await report(charger, 1, "Available")
        made = await http.post(
            "/api/v1/reservations",
            json={"station_id": station_id, "connector_id": 1, "minutes": 30},
            headers=driver | {"Idempotency-Key": "booking-1"},
        )
        assert made.status_code == 201, made.text
        created = await app.next_of("reservation.updated")
        held = await app.next_of("reservation.updated")
    assert (created["seq"], created["event"]) == (1, "created")
    assert (held["seq"], held["event"]) == (2, "held")
    assert held["reservation"]["id"] == made.json()["id"]
    assert held["reservation"]["status"] == "held"


async def test_a_reconnecting_app_gets_what_it_missed_once_and_in_order(
    base: str, http: httpx.AsyncClient, engine: AsyncEngine, operator: Headers
) -> None:
    [driver] = await new_drivers(engine, 1)
    async with station(http, operator, base) as (station_id, charger):
        await report(charger, 1, "Available")
        # Two minutes ahead: within the lead time, so the charger is told at once and the
        # driver hears "held" and then "starting_soon".
        start = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
        async with live(base, driver) as app:
            await http.post(
                "/api/v1/reservations",
                json={"station_id": station_id, "connector_id": 1, "minutes": 30, "start": start},
                headers=driver | {"Idempotency-Key": "booking-1"},
            )
            seen = (await app.next_of("reservation.updated"))["seq"]
        # The app is closed: the hand-off and a cancel happen meanwhile.
        booking = (await http.get("/api/v1/reservations", headers=driver)).json()["items"][0]
        async with asyncio.timeout(10):
            while (await http.get(f"/api/v1/reservations/{booking['id']}", headers=driver)).json()[
                "status"
            ] != "held":
                await asyncio.sleep(0.05)
        cancelled = await http.delete(f"/api/v1/reservations/{booking['id']}", headers=driver)
        assert cancelled.status_code in (200, 204), cancelled.text
        async with live(base, driver, since=seen) as app:
            missed = [await app.next_of("reservation.updated") for _ in range(3)]
            assert await app.silent()
            await app.send({"type": "resume", "since": seen + 2})
            again = await app.next_of("reservation.updated")
            await app.send({"type": "ack", "seq": again["seq"]})
            assert await app.silent()
    assert [m["seq"] for m in missed] == [seen + 1, seen + 2, seen + 3]
    assert [m["event"] for m in missed] == ["held", "starting_soon", "cancelled"]
    assert again["seq"] == seen + 3


async def test_notices_for_a_driver_with_no_open_app_wait_in_the_outbox(
    base: str, engine: AsyncEngine, services: Services
) -> None:
    [driver] = await new_drivers(engine, 1)
    driver_id = (await services.accounts.authenticate(driver["Authorization"][7:])).driver_id
    for n in range(3):
        await services.notices.notify(driver_id, "offer", {"n": n})
    async with live(base, driver, since=0) as app:
        got = [await app.next_of("offer") for _ in range(3)]
        assert app.welcome["seq"] == 3
        await services.notices.notify(driver_id, "offer", {"n": 3})
        live_one = await app.next_of("offer")
        assert await app.silent()
    assert [(m["seq"], m["n"]) for m in [*got, live_one]] == [(1, 0), (2, 1), (3, 2), (4, 3)]


async def test_two_open_apps_of_one_driver_both_hear_each_notice_once(
    base: str, engine: AsyncEngine, services: Services
) -> None:
    [driver] = await new_drivers(engine, 1)
    driver_id = (await services.accounts.authenticate(driver["Authorization"][7:])).driver_id
    async with live(base, driver) as phone, live(base, driver) as browser:
        await asyncio.gather(
            *(services.notices.notify(driver_id, "offer", {"n": n}) for n in range(5))
        )
        for app in (phone, browser):
            seqs = [(await app.next_of("offer"))["seq"] for _ in range(5)]
            assert seqs == [1, 2, 3, 4, 5]
            assert await app.silent(0.3)


# --- topics --------------------------------------------------------------------------------------


async def test_followers_of_a_station_or_its_area_hear_its_status_changes(
    base: str, http: httpx.AsyncClient, engine: AsyncEngine, operator: Headers
) -> None:
    [near, far, other] = await new_drivers(engine, 3)
    site_id = await new_site(engine, 48.8566, 2.3522)
    async with station(http, operator, base, site_id) as (station_id, charger):
        area_here = "area:48.857,2.352,1000"
        async with (
            live(base, near) as near_app,
            live(base, far) as far_app,
            live(base, other) as station_app,
        ):
            await near_app.send({"type": "subscribe", "id": 1, "topic": area_here})
            await far_app.send({"type": "subscribe", "id": 1, "topic": "area:40.7,-74.0,5000"})
            await station_app.send({"type": "subscribe", "id": 1, "topic": f"station:{station_id}"})
            for app in (near_app, far_app, station_app):
                assert (await app.next_of("subscribed"))["id"] == 1
            await report(charger, 1, "Charging")
            heard = await station_app.next_of("station.status")
            assert (heard["station_id"], heard["evse_id"], heard["status"]) == (
                station_id,
                1,
                "Charging",
            )
            assert (await near_app.next_of("station.status"))["status"] == "Charging"
            assert await far_app.silent()
            await station_app.send({"type": "unsubscribe", "topic": f"station:{station_id}"})
            await station_app.next_of("unsubscribed")
            await report(charger, 1, "Available")
            assert await station_app.silent()


async def test_followed_topics_outlive_the_connection(
    base: str, http: httpx.AsyncClient, engine: AsyncEngine, operator: Headers, services: Services
) -> None:
    [driver] = await new_drivers(engine, 1)
    driver_id = (await services.accounts.authenticate(driver["Authorization"][7:])).driver_id
    async with station(http, operator, base) as (station_id, charger):
        async with live(base, driver) as app:
            await app.send({"type": "subscribe", "topic": f"station:{station_id}"})
            await app.next_of("subscribed")
        await report(charger, 2, "Faulted")  # the app is closed: the outbox keeps it
        async with asyncio.timeout(5):
            while await services.notices.latest_seq(driver_id) < 1:
                await asyncio.sleep(0.02)
        async with live(base, driver, since=0) as app:
            kept = await app.next_of("station.status")
            assert (kept["seq"], kept["evse_id"], kept["status"]) == (1, 2, "Faulted")
            await report(charger, 2, "Available")  # open again: heard live
            heard = await app.next_of("station.status")
            assert (heard["status"], "seq" in heard) == ("Available", False)


async def test_operators_hear_alarms(base: str, http: httpx.AsyncClient, operator: Headers) -> None:
    async with station(http, operator, base) as (station_id, charger), live(base, operator) as app:
        await report(charger, 1, "Faulted")
        alarm = await app.next_of("alarm")
    assert alarm["alarm"]["station_id"] == station_id
    assert alarm["alarm"]["kind"] == "faulted"


# --- the server asks -------------------------------------------------------------------------------


async def test_the_server_asks_the_app_where_it_is_and_what_its_vehicle_says(
    base: str, engine: AsyncEngine, services: Services
) -> None:
    [driver] = await new_drivers(engine, 1)
    driver_id = (await services.accounts.authenticate(driver["Authorization"][7:])).driver_id
    async with live(base, driver) as app:
        asked = asyncio.create_task(services.live.ask(driver_id, "vehicle", vehicle_id="car-1"))
        query = await app.next_of("query.vehicle")
        assert query["vehicle_id"] == "car-1"
        await app.send(
            {"type": "vehicle", "id": query["id"], "vehicle_id": "car-1", "soc_percent": 41.5}
        )
        answer = await asked
        silent = asyncio.create_task(services.live.ask(driver_id, "location", timeout_s=0.3))
        await app.next_of("query.location")
        with pytest.raises(TimedOut):
            await silent
    assert answer["soc_percent"] == 41.5
    with pytest.raises(Unavailable):
        await services.live.ask(driver_id, "location")


async def test_an_app_sending_too_fast_is_slowed_down_not_cut_off(
    base: str, engine: AsyncEngine
) -> None:
    [driver] = await new_drivers(engine, 1)
    async with live(base, driver) as app:
        for n in range(60):
            await app.send({"type": "ping", "id": n})
        answers = [await app.receive() for _ in range(60)]
        assert {a["type"] for a in answers} == {"pong", "error"}
        assert {a["code"] for a in answers if a["type"] == "error"} == {"rate-limited"}
        assert sum(a["type"] == "pong" for a in answers) >= 40
        await asyncio.sleep(0.5)
        await app.send({"type": "ping", "id": "later"})
        assert (await app.next_of("pong"))["id"] == "later"


# --- what the app reports --------------------------------------------------------------------


async def test_a_position_without_consent_is_refused_and_nothing_is_kept(
    base: str, http: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    [driver] = await new_drivers(engine, 1)
    async with live(base, driver) as app:
        await app.send({"type": "location", "id": "p1", "lat": 48.85, "lon": 2.35})
        refused = await app.next_of("error")
        assert (refused["id"], refused["code"]) == ("p1", "location-consent-missing")
        shared = await http.patch("/api/v1/me", json={"consent_location": True}, headers=driver)
        assert shared.status_code == 200, shared.text
        await app.send({"type": "location", "id": "p2", "lat": 48.85, "lon": 2.35})
        assert (await app.next_of("ok"))["id"] == "p2"
    kept = await http.get("/api/v1/me/location", headers=driver)
    assert kept.status_code == 200, kept.text
    assert (kept.json()["lat"], kept.json()["lon"]) == (48.85, 2.35)


async def test_the_app_reports_its_vehicles_state_over_the_channel(
    base: str, http: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    [driver] = await new_drivers(engine, 1)
    made = await http.post(
        "/api/v1/vehicles",
        json={"name": "Ioniq", "battery_kwh": 77.4, "standards": ["CCS1"]},
        headers=driver,
    )
    assert made.status_code == 201, made.text
    car = made.json()["id"]
    async with live(base, driver) as app:
        await app.send(
            {"type": "vehicle", "id": 1, "vehicle_id": car, "soc_percent": 36, "range_km": 150}
        )
        assert (await app.next_of("ok"))["id"] == 1
        await app.send({"type": "vehicle", "id": 2, "vehicle_id": "not-mine", "soc_percent": 5})
        assert (await app.next_of("error"))["code"] == "not-found"
    state = (await http.get(f"/api/v1/vehicles/{car}", headers=driver)).json()
    assert (state["soc_percent"], state["range_km"]) == (36, 150)
