"""Web Push subscriptions in the database: one row per endpoint, owned by one driver."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from voltbook.core.clock import SystemClock
from voltbook.notices.model import PushSubscription
from voltbook.storage.tables import drivers, push_subscriptions
from voltbook.storage.unit_of_work import SqlUnitOfWork

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ENDPOINT = "https://push.example.org/send/abc"


async def given_drivers(engine: AsyncEngine, *ids: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            drivers.insert(),
            [
                {
                    "id": i,
                    "email": f"{i}@example.org",
                    "password_hash": "x",
                    "role": "driver",
                    "created_at": T0,
                }
                for i in ids
            ],
        )


def subscription(
    driver: str, endpoint: str = ENDPOINT, keys: str = "1", at: datetime = T0
) -> PushSubscription:
    return PushSubscription(
        driver_id=driver, endpoint=endpoint, p256dh=f"p256dh-{keys}", auth=f"auth-{keys}",
        created_at=at,
    )  # fmt: skip


async def add(engine: AsyncEngine, item: PushSubscription) -> PushSubscription:
    async with SqlUnitOfWork(engine, SystemClock()) as uow:
        saved = await uow.push_subscriptions.add(item)
        await uow.commit()
    assert saved is not None
    return saved


async def of_driver(engine: AsyncEngine, driver: str) -> list[PushSubscription]:
    async with SqlUnitOfWork(engine, SystemClock(), read_only=True) as uow:
        return await uow.push_subscriptions.of_driver(driver)


async def last_success(engine: AsyncEngine, subscription_id: int) -> datetime | None:
    async with SqlUnitOfWork(engine, SystemClock(), read_only=True) as uow:
        return await uow.push_subscriptions.last_success(subscription_id)


async def test_a_subscription_is_stored_and_read_back_for_its_driver_only(
    engine: AsyncEngine,
) -> None:
    await given_drivers(engine, "D1", "D2")
    saved = await add(engine, subscription("D1"))
    other = await add(engine, subscription("D1", "https://push.example.org/2", "2"))
    await add(engine, subscription("D2", "https://push.example.org/3", "3"))
    assert saved.id is not None
    assert saved == replace(subscription("D1"), id=saved.id)
    assert saved.created_at == T0
    assert await of_driver(engine, "D1") == [saved, other]
    assert [s.endpoint for s in await of_driver(engine, "D2")] == ["https://push.example.org/3"]
    assert await of_driver(engine, "nobody") == []
    async with SqlUnitOfWork(engine, SystemClock(), read_only=True) as uow:
        assert await uow.push_subscriptions.drivers_among(["D1", "D2", "nobody"]) == {"D1", "D2"}


async def test_a_known_endpoint_moves_to_another_driver_only_with_its_keys_in_the_same_row(
    engine: AsyncEngine,
) -> None:
    await given_drivers(engine, "D1", "D2")
    first = await add(engine, subscription("D1"))
    assert first.id is not None
    async with SqlUnitOfWork(engine, SystemClock()) as uow:
        await uow.push_subscriptions.delivered(first.id, T0 + timedelta(minutes=1))
        await uow.commit()
    later = T0 + timedelta(hours=1)
    # Without its keys, another driver cannot take it; with them (the same browser), it moves.
    async with SqlUnitOfWork(engine, SystemClock()) as uow:
        assert await uow.push_subscriptions.add(subscription("D2", keys="new", at=later)) is None
    moved = await add(engine, subscription("D2", at=later))
    assert moved.id == first.id
    assert (moved.driver_id, moved.p256dh, moved.auth) == ("D2", first.p256dh, first.auth)
    assert moved.created_at == later
    assert await last_success(engine, first.id) is None  # the new owner starts over
    assert await of_driver(engine, "D1") == []
    assert await of_driver(engine, "D2") == [moved]
    async with engine.connect() as connection:
        assert (
            await connection.scalar(sa.select(sa.func.count()).select_from(push_subscriptions)) == 1
        )


async def test_subscribing_the_same_browser_again_keeps_its_history(engine: AsyncEngine) -> None:
    await given_drivers(engine, "D1")
    first = await add(engine, subscription("D1"))
    assert first.id is not None
    success = T0 + timedelta(minutes=5)
    async with SqlUnitOfWork(engine, SystemClock()) as uow:
        await uow.push_subscriptions.delivered(first.id, success)
        await uow.commit()
    again = await add(engine, subscription("D1", at=T0 + timedelta(hours=2)))
    assert again == first
    assert again.created_at == T0
    assert await last_success(engine, first.id) == success


async def test_the_database_refuses_a_second_row_for_one_endpoint(engine: AsyncEngine) -> None:
    await given_drivers(engine, "D1", "D2")
    await add(engine, subscription("D1"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(
                push_subscriptions.insert().values(
                    driver_id="D2", endpoint=ENDPOINT, p256dh="p", auth="a", created_at=T0
                )
            )


async def test_two_drivers_subscribing_one_endpoint_at_once_leave_one_row(
    engine: AsyncEngine,
) -> None:
    await given_drivers(engine, "D1", "D2")
    results = await asyncio.gather(
        # One browser (the same keys) signed in to two accounts at once.
        add(engine, subscription("D1", keys="a")),
        add(engine, subscription("D2", keys="a")),
        return_exceptions=True,
    )
    assert not [r for r in results if isinstance(r, BaseException)]
    rows = await of_driver(engine, "D1") + await of_driver(engine, "D2")
    assert len(rows) == 1


async def test_a_driver_removes_only_their_own_subscription(engine: AsyncEngine) -> None:
    await given_drivers(engine, "D1", "D2")
    theirs = await add(engine, subscription("D2"))
    async with SqlUnitOfWork(engine, SystemClock()) as uow:
        assert await uow.push_subscriptions.remove("D1", ENDPOINT) is False
        assert await uow.push_subscriptions.remove("D2", "https://push.example.org/other") is False
        await uow.commit()
    assert await of_driver(engine, "D2") == [theirs]
    async with SqlUnitOfWork(engine, SystemClock()) as uow:
        assert await uow.push_subscriptions.remove("D2", ENDPOINT) is True
        await uow.commit()
    assert await of_driver(engine, "D2") == []


async def test_a_gone_subscription_is_forgotten_and_a_delivery_is_recorded(
    engine: AsyncEngine,
) -> None:
    await given_drivers(engine, "D1")
    gone = await add(engine, subscription("D1", "https://push.example.org/gone"))
    kept = await add(engine, subscription("D1", "https://push.example.org/kept", "2"))
    assert gone.id is not None
    assert kept.id is not None
    at = T0 + timedelta(minutes=3)
    async with SqlUnitOfWork(engine, SystemClock()) as uow:
        await uow.push_subscriptions.forget(gone.id)
        await uow.push_subscriptions.delivered(kept.id, at)
        await uow.commit()
    assert await of_driver(engine, "D1") == [kept]
    assert await last_success(engine, kept.id) == at
    assert await last_success(engine, gone.id) is None


async def test_nothing_is_kept_without_a_commit(engine: AsyncEngine) -> None:
    await given_drivers(engine, "D1")
    async with SqlUnitOfWork(engine, SystemClock()) as uow:
        await uow.push_subscriptions.add(subscription("D1"))
    assert await of_driver(engine, "D1") == []
