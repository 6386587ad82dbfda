"""Operators make, change and end location-based offers over the API; apps report openings."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.sign_ins import tokens_for
from voltbook.drivers.model import Role
from voltbook.storage.tables import drivers, offer_deliveries

Headers = dict[str, str]
SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
OFFERS = "/api/v1/operator/offers"


async def account(engine: AsyncEngine, role: Role) -> tuple[str, Headers]:
    driver_id = f"{role.value}-{secrets.token_hex(6)}"
    async with engine.begin() as connection:
        await connection.execute(
            drivers.insert().values(
                id=driver_id, email=f"{driver_id}@example.org", password_hash="unused",
                role=role.value, consent_offers=True, created_at=datetime.now(UTC),
            )
        )  # fmt: skip
        [token] = await tokens_for(connection, SECRET, [driver_id], role)
    return driver_id, {"Authorization": f"Bearer {token}"}


def body(**fields: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "title": "Half price this afternoon",
        "kind": "percent_off",
        "value": 50,
        "area": {"lat": 42.3601, "lon": -71.0589, "radius_m": 3000},
        "trigger": "idle_station",
        "idle_minutes": 20,
        "ends_at": (now + timedelta(hours=4)).isoformat(),
        "max_per_driver": 2,
    }
    values.update(fields)
    return values


async def test_an_operator_makes_lists_changes_and_ends_an_offer(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    _, staff = await account(engine, Role.OPERATOR)

    made = await client.post(OFFERS, json=body(station_ids=["GARAGE-1"]), headers=staff)
    assert made.status_code == 201, made.text
    offer = made.json()
    assert made.headers["Location"] == f"{OFFERS}/{offer['id']}"
    assert (offer["status"], offer["station_ids"], offer["max_redemptions"]) == (
        "active", ["GARAGE-1"], None,
    )  # fmt: skip

    got = await client.get(made.headers["Location"], headers=staff)
    assert got.status_code == 200
    assert got.json()["stats"] == {"sent": 0, "opened": 0, "redeemed": 0, "idle_minutes_filled": 0}

    changed = await client.patch(
        f"{OFFERS}/{offer['id']}",
        json={"value": 30, "station_ids": None, "max_redemptions": 100},
        headers=staff,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["value"], changed.json()["station_ids"]) == (30, [])
    assert changed.json()["max_redemptions"] == 100
    assert changed.json()["title"] == offer["title"]

    ended = await client.post(f"{OFFERS}/{offer['id']}/end", headers=staff)
    assert ended.status_code == 200
    assert ended.json()["status"] == "ended"
    late = await client.patch(f"{OFFERS}/{offer['id']}", json={"value": 10}, headers=staff)
    assert late.status_code == 409
    assert late.headers["content-type"].startswith("application/problem+json")


async def test_offers_are_listed_newest_first_page_by_page(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    _, staff = await account(engine, Role.ADMIN)
    ids = []
    for number in range(3):
        made = await client.post(OFFERS, json=body(title=f"Offer {number}"), headers=staff)
        ids.append(made.json()["id"])

    first = (await client.get(OFFERS, params={"limit": 2}, headers=staff)).json()
    assert [o["id"] for o in first["items"]] == [ids[2], ids[1]]
    second = await client.get(
        OFFERS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=staff
    )
    assert [o["id"] for o in second.json()["items"]] == [ids[0]]
    assert second.json()["next_cursor"] is None


async def test_offers_that_break_the_rules_are_refused_with_a_problem(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    _, staff = await account(engine, Role.OPERATOR)
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    for wrong in (
        body(value=120),
        body(kind="price_per_kwh", value=-1),
        body(idle_minutes=None),
        body(trigger="low_soc"),  # no soc_below, and idle_minutes does not belong
        body(area={"lat": 42.36, "lon": -71.05, "radius_m": 60_000}),
        body(ends_at=past),
        body(max_per_driver=0),
        body(ends_at="2030-01-01T10:00:00"),  # no offset
    ):
        answer = await client.post(OFFERS, json=wrong, headers=staff)
        assert answer.status_code == 422, wrong
        assert answer.headers["content-type"].startswith("application/problem+json")
    made = (await client.post(OFFERS, json=body(), headers=staff)).json()
    nulled = await client.patch(f"{OFFERS}/{made['id']}", json={"title": None}, headers=staff)
    assert nulled.status_code == 422


async def test_only_staff_manage_offers(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    _, driver = await account(engine, Role.DRIVER)

    assert (await client.post(OFFERS, json=body(), headers=driver)).status_code == 403
    assert (await client.get(OFFERS, headers=driver)).status_code == 403
    assert (await client.get(OFFERS)).status_code == 401
    _, staff = await account(engine, Role.OPERATOR)
    assert (await client.get(f"{OFFERS}/999999", headers=staff)).status_code == 404
    assert (await client.post(f"{OFFERS}/999999/end", headers=staff)).status_code == 404


async def test_the_app_reports_an_opened_offer_and_it_counts_once(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    _, staff = await account(engine, Role.OPERATOR)
    ann, ann_headers = await account(engine, Role.DRIVER)
    _, ben_headers = await account(engine, Role.DRIVER)
    offer = (await client.post(OFFERS, json=body(), headers=staff)).json()
    async with engine.begin() as connection:
        delivery_id = await connection.scalar(
            offer_deliveries.insert()
            .values(
                offer_id=offer["id"], driver_id=ann, channel="notice", sent_at=datetime.now(UTC)
            )
            .returning(offer_deliveries.c.id)
        )
    opened = f"/api/v1/offers/deliveries/{delivery_id}/opened"

    assert (await client.post(opened, headers=ben_headers)).status_code == 404
    assert (await client.post(opened, headers=ann_headers)).status_code == 204
    assert (await client.post(opened, headers=ann_headers)).status_code == 204

    stats = (await client.get(f"{OFFERS}/{offer['id']}", headers=staff)).json()["stats"]
    assert (stats["sent"], stats["opened"]) == (1, 1)
