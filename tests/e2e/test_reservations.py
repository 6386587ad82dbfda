"""Drivers book a charger now or later; the charger holds it; nobody else gets it."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.conftest import running_server, server_settings
from tests.e2e.ocpp_client import ScriptedStation, connect
from tests.e2e.sign_ins import tokens_for
from tests.polling import eventually
from voltbook.ocpp.protocol import Version
from voltbook.ocpp.validation import SchemaValidator
from voltbook.storage.tables import drivers, id_tokens

Headers = dict[str, str]
NOW = "2026-11-26T10:00:00Z"
SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
ACCEPT_ALL: dict[str, dict[str, Any]] = {
    "ReserveNow": {"status": "Accepted"},
    "CancelReservation": {"status": "Accepted"},
    "GetConfiguration": {
        "configurationKey": [
            {"key": "ReserveConnectorZeroSupported", "readonly": True, "value": "false"}
        ]
    },
}


async def new_drivers(engine: AsyncEngine, count: int) -> list[Headers]:
    """Driver accounts made straight in the database (hashing 200 passwords would be slow),
    with tokens signed by the server's own secret."""
    ids = [f"drv-{secrets.token_hex(6)}" for _ in range(count)]
    async with engine.begin() as connection:
        await connection.execute(
            drivers.insert(),
            [
                {
                    "id": i,
                    "email": f"{i}@example.org",
                    "password_hash": "unused",
                    "role": "driver",
                    "created_at": datetime.now(UTC),
                }
                for i in ids
            ],
        )
        tokens = await tokens_for(connection, SECRET, ids)
    return [{"Authorization": f"Bearer {token}"} for token in tokens]


class Site:
    """A registered station with two connectors, connected and answering like a charger."""

    def __init__(self, station_id: str, charger: ScriptedStation) -> None:
        self.id = station_id
        self.charger = charger

    def calls(self, action: str) -> list[dict[str, Any]]:
        return [frame[3] for frame in self.charger.received_calls if frame[2] == action]


@pytest.fixture
async def site(
    client: httpx.AsyncClient, operator: Headers, server_url: str
) -> AsyncIterator[Site]:
    station_id = f"RES-{secrets.token_hex(3)}"
    made = await client.post("/api/v1/operator/stations", json={"id": station_id}, headers=operator)
    async with connect(server_url, station_id, made.json()["password"]) as charger:
        charger.answers = dict(ACCEPT_ALL)
        await charger.call("BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"})
        for evse in (1, 2):
            await charger.call(
                "StatusNotification",
                {
                    "connectorId": evse,
                    "errorCode": "NoError",
                    "status": "Available",
                    "timestamp": NOW,
                },
            )
        yield Site(station_id, charger)


async def book(
    client: httpx.AsyncClient, who: Headers, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    """A booking with its own Idempotency-Key, or `key`."""
    headers = who | {"Idempotency-Key": key or secrets.token_hex(8)}
    return await client.post("/api/v1/reservations", json=body, headers=headers)


async def status_of(client: httpx.AsyncClient, who: Headers, reservation_id: int) -> str:
    found = await client.get(f"/api/v1/reservations/{reservation_id}", headers=who)
    return str(found.json()["status"])


async def test_a_booking_for_now_is_held_by_the_charger_and_fulfilled_by_its_holder(
    client: httpx.AsyncClient, engine: AsyncEngine, site: Site
) -> None:
    [driver] = await new_drivers(engine, 1)
    await register_card(engine, "STRANGER")  # in good standing: only the hold refuses it
    made = await book(client, driver, {"station_id": site.id, "connector_id": 1, "minutes": 30})
    assert made.status_code == 201, made.text
    reservation = made.json()
    assert reservation["status"] == "scheduled"

    async def held() -> bool:
        return await status_of(client, driver, reservation["id"]) == "held"

    await eventually(held)
    [reserve] = site.calls("ReserveNow")
    assert reserve["connectorId"] == 1
    assert reserve["idTag"] == reservation["id_tag"]
    assert reserve["reservationId"] == reservation["id"]

    # Someone else's card on the held connector is refused; the holder's is welcome.
    stranger = await site.charger.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": "STRANGER", "meterStart": 0, "timestamp": NOW},
    )
    assert stranger[2]["idTagInfo"]["status"] == "Invalid"
    holder = await site.charger.call(
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": reservation["id_tag"],
            "meterStart": 0,
            "timestamp": "2026-11-26T10:01:00Z",
            "reservationId": reservation["id"],
        },
    )
    assert holder[2]["idTagInfo"]["status"] == "Accepted"
    assert await status_of(client, driver, reservation["id"]) == "fulfilled"
    history = (await client.get(f"/api/v1/reservations/{reservation['id']}", headers=driver)).json()
    assert [h["status"] for h in history["history"]] == ["scheduled", "held", "fulfilled"]


async def test_one_connector_and_slot_wanted_by_200_drivers_goes_to_exactly_one(
    client: httpx.AsyncClient, engine: AsyncEngine, site: Site
) -> None:
    everyone = await new_drivers(engine, 200)
    start = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    body = {"station_id": site.id, "connector_id": 2, "start": start, "minutes": 60}
    answers = await asyncio.gather(*(book(client, who, body) for who in everyone))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(201) == 1
    assert codes.count(409) == 199
    refused = next(a for a in answers if a.status_code == 409).json()
    assert refused["type"] == "urn:voltbook:problem:slot-taken"
    assert refused["next_free"]
    assert datetime.fromisoformat(refused["next_free"][0]["start"]) >= datetime.fromisoformat(start)
    assert refused["next_free"][0]["connector_id"] == 2  # the connector asked for


async def test_idempotency_keys_return_the_same_booking_and_refuse_another_body(
    client: httpx.AsyncClient, engine: AsyncEngine, site: Site
) -> None:
    [driver] = await new_drivers(engine, 1)
    start = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    body = {"station_id": site.id, "start": start, "minutes": 45}
    answers = await asyncio.gather(*(book(client, driver, body, key="k-1") for _ in range(20)))
    created = [a for a in answers if a.status_code == 201]
    assert created
    assert {a.json()["id"] for a in created} == {created[0].json()["id"]}
    assert all(a.status_code in (201, 409) for a in answers)
    refused = {a.json()["type"] for a in answers if a.status_code == 409}
    assert refused <= {"urn:voltbook:problem:idempotency-key-in-flight"}
    again = await book(client, driver, body, key="k-1")
    assert again.status_code == 201
    assert again.json()["id"] == created[0].json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    other = await book(client, driver, body | {"minutes": 50}, key="k-1")
    assert other.status_code == 422
    mine = (await client.get("/api/v1/reservations", headers=driver)).json()["items"]
    assert len(mine) == 1


async def test_a_booking_without_an_idempotency_key_is_refused_and_nothing_is_booked(
    client: httpx.AsyncClient, engine: AsyncEngine, site: Site
) -> None:
    [driver] = await new_drivers(engine, 1)
    body = {"station_id": site.id, "connector_id": 1, "minutes": 30}

    refused = await client.post("/api/v1/reservations", json=body, headers=driver)

    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert "Idempotency-Key" in refused.text
    assert (await client.get("/api/v1/reservations", headers=driver)).json()["items"] == []


async def test_a_refusing_charger_moves_the_booking_or_fails_it(
    client: httpx.AsyncClient, engine: AsyncEngine, site: Site
) -> None:
    first, second = await new_drivers(engine, 2)
    site.charger.answers["ReserveNow"] = {"status": "Occupied"}
    made = (
        await book(client, first, {"station_id": site.id, "connector_id": 1, "minutes": 30})
    ).json()

    async def failed() -> bool:
        return await status_of(client, first, made["id"]) == "failed"

    await eventually(failed)  # connector 2 was tried as well, and it was "occupied" too
    found = (await client.get(f"/api/v1/reservations/{made['id']}", headers=first)).json()
    assert "moved" in [h["change"] for h in found["history"]]
    assert {c["connectorId"] for c in site.calls("ReserveNow")} == {1, 2}

    site.charger.answers["ReserveNow"] = {"status": "Accepted"}
    ok = (
        await book(client, second, {"station_id": site.id, "connector_id": 1, "minutes": 30})
    ).json()

    async def held() -> bool:
        return await status_of(client, second, ok["id"]) == "held"

    await eventually(held)
    # The held connector faults: the booking moves to the other connector.
    await site.charger.call(
        "StatusNotification",
        {"connectorId": 1, "errorCode": "GroundFailure", "status": "Faulted", "timestamp": NOW},
    )
    await eventually(held)  # again, now on connector 2
    moved = (await client.get(f"/api/v1/reservations/{ok['id']}", headers=second)).json()
    assert moved["connector_id"] == 2
    steps = [(h["change"], h["connector_id"]) for h in moved["history"]]
    assert steps == [(None, 1), ("held", 1), ("moved", 1), ("held", 2)]
    assert moved["history"][2]["reason"] == "connector faulted"
    assert site.calls("ReserveNow")[-1]["connectorId"] == 2


async def test_cancelling_releases_the_connector_at_the_charger(
    client: httpx.AsyncClient, engine: AsyncEngine, site: Site
) -> None:
    [driver] = await new_drivers(engine, 1)
    made = (await book(client, driver, {"station_id": site.id, "minutes": 30})).json()

    async def held() -> bool:
        return await status_of(client, driver, made["id"]) == "held"

    await eventually(held)
    cancelled = await client.delete(f"/api/v1/reservations/{made['id']}", headers=driver)
    assert cancelled.json()["status"] == "cancelled"

    async def released() -> bool:
        return any(c["reservationId"] == made["id"] for c in site.calls("CancelReservation"))

    await eventually(released)
    again = await client.delete(f"/api/v1/reservations/{made['id']}", headers=driver)
    assert again.status_code == 409


async def test_drivers_see_only_their_own_and_operators_see_all(
    client: httpx.AsyncClient, engine: AsyncEngine, operator: Headers, site: Site
) -> None:
    mine, theirs = await new_drivers(engine, 2)
    start = (datetime.now(UTC) + timedelta(hours=5)).isoformat()
    made = (await book(client, mine, {"station_id": site.id, "start": start, "minutes": 30})).json()
    assert (
        await client.get(f"/api/v1/reservations/{made['id']}", headers=theirs)
    ).status_code == 404
    assert (
        await client.delete(f"/api/v1/reservations/{made['id']}", headers=theirs)
    ).status_code == 404
    assert (await client.get("/api/v1/reservations", headers=theirs)).json()["items"] == []
    everyone = (await client.get("/api/v1/reservations", headers=operator)).json()["items"]
    assert made["id"] in [r["id"] for r in everyone]
    assert (await client.get("/api/v1/reservations")).status_code == 401


async def test_a_later_slot_waits_for_its_lead_time_and_shows_in_availability(
    client: httpx.AsyncClient, engine: AsyncEngine, site: Site
) -> None:
    [driver] = await new_drivers(engine, 1)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=4)
    made = await book(
        client,
        driver,
        {"station_id": site.id, "connector_id": 2, "start": start.isoformat(), "minutes": 60},
    )
    assert made.status_code == 201
    await asyncio.sleep(1.5)
    assert site.calls("ReserveNow") == []
    assert await status_of(client, driver, made.json()["id"]) == "scheduled"
    free = await client.get(
        f"/api/v1/stations/{site.id}/availability",
        params={"from": start.isoformat(), "to": (start + timedelta(hours=3)).isoformat()},
    )
    by_connector = {c["connector_id"]: c["free"] for c in free.json()["connectors"]}
    assert len(by_connector[1]) == 1
    assert [datetime.fromisoformat(f["start"]) for f in by_connector[2]] == [
        start + timedelta(hours=1)
    ]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"minutes": 5}, 422),  # shorter than the minimum
        ({"minutes": 600}, 422),  # longer than the maximum
        ({"minutes": 30, "start": "2099-01-01T10:00:00Z"}, 422),  # beyond the horizon
        ({"minutes": 30, "start": "2020-01-01T10:00:00Z"}, 422),  # in the past
        ({"minutes": 30, "start": "2026-12-01T10:00:00"}, 422),  # no time zone
        ({"minutes": 30, "connector_id": 9}, 404),
        ({"minutes": 30, "vehicle_id": "not-mine"}, 404),
    ],
)
async def test_bookings_outside_the_rules_are_refused(
    client: httpx.AsyncClient, engine: AsyncEngine, site: Site, body: dict[str, Any], status: int
) -> None:
    [driver] = await new_drivers(engine, 1)
    answer = await book(client, driver, {"station_id": site.id} | body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


async def test_at_most_two_live_bookings_per_driver(
    client: httpx.AsyncClient, engine: AsyncEngine, site: Site
) -> None:
    [driver] = await new_drivers(engine, 1)
    soon = datetime.now(UTC) + timedelta(hours=6)
    for hours in (0, 1):
        start = (soon + timedelta(hours=hours)).isoformat()
        assert (
            await book(client, driver, {"station_id": site.id, "start": start, "minutes": 30})
        ).status_code == 201
    third = await book(
        client,
        driver,
        {"station_id": site.id, "start": (soon + timedelta(hours=2)).isoformat(), "minutes": 30},
    )
    assert third.status_code == 409


async def test_a_no_show_expires_after_the_grace_period_and_frees_the_charger(
    own_database: tuple[str, AsyncEngine], tmp_path: Path
) -> None:
    database_url, engine = own_database  # no other server polls this one's jobs
    settings = server_settings(database_url, tmp_path, reservation_grace_s=1)
    async with running_server(settings) as url, httpx.AsyncClient(base_url=url) as client:
        [driver] = await new_drivers(engine, 1)
        from voltbook.bootstrap import open_services

        async with open_services(settings) as services:
            made = await services.fleet.register("NOSHOW-1", "0123456789abcdef")
        async with connect(url, "NOSHOW-1", made.password) as charger:
            charger.answers = dict(ACCEPT_ALL)
            await charger.call(
                "StatusNotification",
                {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": NOW},
            )
            booked = (await book(client, driver, {"station_id": "NOSHOW-1", "minutes": 30})).json()

            async def expired() -> bool:
                return await status_of(client, driver, booked["id"]) == "expired"

            await eventually(expired)

            async def released() -> bool:
                cancels = [f for f in charger.received_calls if f[2] == "CancelReservation"]
                return [c[3]["reservationId"] for c in cancels] == [booked["id"]]

            await eventually(released)
            found = (
                await client.get(f"/api/v1/reservations/{booked['id']}", headers=driver)
            ).json()
            assert [h["status"] for h in found["history"]] == ["scheduled", "held", "expired"]

            async def no_job_left() -> bool:  # the release is marked done once answered
                async with engine.connect() as connection:
                    left = await connection.scalar(
                        sa.text("SELECT count(*) FROM reservation_jobs WHERE done_at IS NULL")
                    )
                return left == 0

            await eventually(no_job_left)


async def test_a_failed_booking_names_free_chargers_nearby(
    client: httpx.AsyncClient, engine: AsyncEngine, operator: Headers, server_url: str
) -> None:
    from tests.e2e.test_find_stations import import_bundled

    await import_bundled(engine)
    near = (
        await client.get(
            "/api/v1/stations/nearby", params={"lat": 42.3555, "lon": -71.0605, "limit": 2}
        )
    ).json()["items"]
    here, there = (item["stations"][0]["id"] for item in near[:2])
    [driver] = await new_drivers(engine, 1)
    passwords = {}
    for station_id in (here, there):
        made = await client.post(
            f"/api/v1/operator/stations/{station_id}/credentials", headers=operator
        )
        passwords[station_id] = made.json()["password"]
    async with (
        connect(server_url, here, passwords[here]) as refusing,
        connect(server_url, there, passwords[there]) as free,
    ):
        refusing.answers = dict(ACCEPT_ALL) | {"ReserveNow": {"status": "Rejected"}}
        for charger, evses in ((refusing, near[0]), (free, near[1])):
            for connector in evses["stations"][0]["connectors"]:
                await charger.call(
                    "StatusNotification",
                    {
                        "connectorId": connector["evse_id"],
                        "errorCode": "NoError",
                        "status": "Available",
                        "timestamp": NOW,
                    },
                )
        booked = (await book(client, driver, {"station_id": here, "minutes": 30})).json()

        async def failed() -> bool:
            return await status_of(client, driver, booked["id"]) == "failed"

        await eventually(failed)
        found = (await client.get(f"/api/v1/reservations/{booked['id']}", headers=driver)).json()
        assert f"free nearby: {there}" in found["history"][-1]["reason"]
        assert found["alternatives"][0]["station_id"] == there  # also as data, for the app
        assert found["alternatives"][0]["name"]


# --- enforcement at the charger: Authorize, late id tokens, the charger's own ends ----------

BOOT_201 = {"reason": "PowerUp", "chargingStation": {"vendorName": "A", "model": "B"}}
ACCEPT_ALL_201 = {
    "ReserveNow": {"status": "Accepted"},
    "CancelReservation": {"status": "Accepted"},
}
OTHER_CARD = "OTHER-CARD"


async def register_card(engine: AsyncEngine, token: str) -> None:
    """A card of someone without a booking, known and in good standing."""
    async with engine.begin() as connection:
        await connection.execute(
            id_tokens.insert().values(token=token, status="Accepted", created_at=datetime.now(UTC))
        )


@asynccontextmanager
async def charger_201(
    client: httpx.AsyncClient, operator: Headers, server_url: str, evses: int
) -> AsyncIterator[Site]:
    """A registered OCPP 2.0.1 station with `evses` EVSEs of one connector each, all free."""
    station_id = f"R201-{secrets.token_hex(3)}"
    made = await client.post("/api/v1/operator/stations", json={"id": station_id}, headers=operator)
    password = made.json()["password"]
    async with connect(server_url, station_id, password, "ocpp2.0.1") as charger:
        charger.answers = dict(ACCEPT_ALL_201)
        await charger.call("BootNotification", BOOT_201)
        for evse in range(1, evses + 1):
            await charger.call(
                "StatusNotification",
                {
                    "timestamp": NOW,
                    "connectorStatus": "Available",
                    "evseId": evse,
                    "connectorId": 1,
                },
            )
        yield Site(station_id, charger)


def transaction_event(kind: str, seq: int, transaction: str, **extra: Any) -> dict[str, Any]:
    return {
        "eventType": kind,
        "timestamp": NOW,
        "triggerReason": {"Started": "CablePluggedIn", "Ended": "StopAuthorized"}.get(
            kind, "Authorized"
        ),
        "seqNo": seq,
        "transactionInfo": {"transactionId": transaction, "chargingState": "EVConnected"},
        "evse": {"id": 1, "connectorId": 1},
    } | extra


def is_now(stamp: str) -> bool:
    return abs(datetime.fromisoformat(stamp) - datetime.now(UTC)) < timedelta(minutes=1)


async def test_a_16_charger_whose_only_connector_is_held_refuses_other_cards_at_authorize(
    client: httpx.AsyncClient, engine: AsyncEngine, operator: Headers, server_url: str
) -> None:
    [driver] = await new_drivers(engine, 1)
    await register_card(engine, OTHER_CARD)
    station_id = f"RES1-{secrets.token_hex(3)}"
    made = await client.post("/api/v1/operator/stations", json={"id": station_id}, headers=operator)
    async with connect(server_url, station_id, made.json()["password"]) as charger:
        charger.answers = dict(ACCEPT_ALL)
        await charger.call(
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": NOW},
        )
        free = await charger.call("Authorize", {"idTag": OTHER_CARD})
        assert free[2] == {"idTagInfo": {"status": "Accepted"}}
        booked = (await book(client, driver, {"station_id": station_id, "minutes": 30})).json()

        async def held() -> bool:
            return await status_of(client, driver, booked["id"]) == "held"

        await eventually(held)
        refused = (await charger.call("Authorize", {"idTag": OTHER_CARD}))[2]
        holder = (await charger.call("Authorize", {"idTag": booked["id_tag"]}))[2]

    # Invalid for now only: the charger's Authorization Cache drops it at once.
    assert refused["idTagInfo"]["status"] == "Invalid"
    assert is_now(refused["idTagInfo"]["expiryDate"])
    SchemaValidator().validate_response(Version.V16, "Authorize", refused)
    assert holder == {"idTagInfo": {"status": "Accepted"}}
    assert await status_of(client, driver, booked["id"]) == "held"


async def test_a_201_id_token_given_after_the_cable_is_refused_for_others_and_fulfils_the_holders(
    client: httpx.AsyncClient, engine: AsyncEngine, operator: Headers, server_url: str
) -> None:
    [driver] = await new_drivers(engine, 1)
    await register_card(engine, OTHER_CARD)
    async with charger_201(client, operator, server_url, evses=1) as site:
        booked = (await book(client, driver, {"station_id": site.id, "minutes": 30})).json()

        async def held() -> bool:
            return await status_of(client, driver, booked["id"]) == "held"

        await eventually(held)
        assert "evseId" not in site.calls("ReserveNow")[0]  # booked for any connector

        # Someone plugs in first, then shows a card that is not the holder's.
        plugged = await site.charger.call(
            "TransactionEvent", transaction_event("Started", 0, "tx-a")
        )
        assert plugged[2] == {}
        card = {"idToken": {"idToken": OTHER_CARD, "type": "ISO14443"}}
        refused = await site.charger.call(
            "TransactionEvent", transaction_event("Updated", 1, "tx-a", **card)
        )
        assert refused[2]["idTokenInfo"]["status"] == "NotAtThisTime"
        assert is_now(refused[2]["idTokenInfo"]["cacheExpiryDateTime"])
        SchemaValidator().validate_response(Version.V201, "TransactionEvent", refused[2])
        await site.charger.call("TransactionEvent", transaction_event("Ended", 2, "tx-a"))
        assert await status_of(client, driver, booked["id"]) == "held"

        # The holder plugs in, then shows their own.
        await site.charger.call("TransactionEvent", transaction_event("Started", 0, "tx-b"))
        mine = {"idToken": {"idToken": booked["id_tag"], "type": "Central"}}
        accepted = await site.charger.call(
            "TransactionEvent", transaction_event("Updated", 1, "tx-b", **mine)
        )
        assert accepted[2] == {"idTokenInfo": {"status": "Accepted"}}

        async def fulfilled() -> bool:
            return await status_of(client, driver, booked["id"]) == "fulfilled"

        await eventually(fulfilled)
        async with engine.connect() as connection:
            tags: dict[str, str] = dict(
                (
                    await connection.execute(
                        sa.text(
                            "SELECT external_id, id_tag FROM charging_sessions"
                            " WHERE station_id = :s"
                        ),
                        {"s": site.id},
                    )
                ).all()
            )
        assert tags == {"tx-a": OTHER_CARD, "tx-b": booked["id_tag"]}


async def test_a_201_charger_that_drops_a_hold_moves_the_booking_and_one_that_expires_it_ends_it(
    client: httpx.AsyncClient, engine: AsyncEngine, operator: Headers, server_url: str, site: Site
) -> None:
    [driver, elsewhere] = await new_drivers(engine, 2)
    async with charger_201(client, operator, server_url, evses=2) as charger:
        booked = (
            await book(client, driver, {"station_id": charger.id, "connector_id": 1, "minutes": 30})
        ).json()
        other = (await book(client, elsewhere, {"station_id": site.id, "minutes": 30})).json()

        async def held_at(connector: int) -> bool:
            found = (
                await client.get(f"/api/v1/reservations/{booked['id']}", headers=driver)
            ).json()
            return bool(found["status"] == "held" and found["connector_id"] == connector)

        async def other_held() -> bool:
            return await status_of(client, elsewhere, other["id"]) == "held"

        await eventually(lambda: held_at(1))
        await eventually(other_held)

        def update(reservation_id: int, status: str) -> dict[str, Any]:
            return {"reservationId": reservation_id, "reservationUpdateStatus": status}

        # Ids of no booking of this station are answered like any other, and change nothing.
        for foreign in (other["id"], 999_999_999):
            for status in ("Removed", "Expired"):
                answer = await charger.charger.call(
                    "ReservationStatusUpdate", update(foreign, status)
                )
                assert (answer[0], answer[2]) == (3, {})
        assert await status_of(client, elsewhere, other["id"]) == "held"

        removed = await charger.charger.call(
            "ReservationStatusUpdate", update(booked["id"], "Removed")
        )
        assert removed[2] == {}
        await eventually(lambda: held_at(2))  # moved, and the charger holds EVSE 2 now
        assert [c.get("evseId") for c in charger.calls("ReserveNow")] == [1, 2]

        await charger.charger.call("ReservationStatusUpdate", update(booked["id"], "Expired"))

        async def expired() -> bool:
            return await status_of(client, driver, booked["id"]) == "expired"

        await eventually(expired)
        found = (await client.get(f"/api/v1/reservations/{booked['id']}", headers=driver)).json()
        assert [h["change"] for h in found["history"]][-3:] == ["moved", "held", "expired"]
        assert found["history"][-3]["reason"] == "charger dropped the hold"
