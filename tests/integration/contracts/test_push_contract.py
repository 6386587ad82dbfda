"""What every PushSubscriptionRepository does, the fake's as well as SQL's."""

from __future__ import annotations

from datetime import UTC, datetime

from voltbook.notices.model import PushSubscription
from voltbook.notices.ports import PushUowFactory

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
ENDPOINT = "https://push.example.org/send/abc"


def subscription(driver: str = "D1", keys: str = "k", endpoint: str = ENDPOINT) -> PushSubscription:
    return PushSubscription(driver, endpoint, f"p256dh-{keys}", f"auth-{keys}", created_at=WHEN)


async def add(uow: PushUowFactory, wanted: PushSubscription) -> PushSubscription | None:
    async with uow() as writing:
        saved = await writing.push_subscriptions.add(wanted)
        await writing.commit()
    return saved


async def test_one_subscription_per_endpoint_kept_by_its_owner(push_uow: PushUowFactory) -> None:
    first = await add(push_uow, subscription())
    again = await add(push_uow, subscription())
    new_keys = await add(push_uow, subscription(keys="new"))
    assert first is not None
    assert again == first
    assert new_keys is not None
    assert new_keys.id == first.id
    async with push_uow(read_only=True) as uow:
        assert await uow.push_subscriptions.of_driver("D1") == [new_keys]


async def test_another_driver_takes_an_endpoint_only_with_its_keys(
    push_uow: PushUowFactory,
) -> None:
    mine = await add(push_uow, subscription())
    assert await add(push_uow, subscription("D2", keys="guessed")) is None
    theirs = await add(push_uow, subscription("D2"))  # the same browser, signed in as D2
    assert mine is not None
    assert theirs is not None
    assert theirs.id == mine.id
    async with push_uow(read_only=True) as uow:
        assert await uow.push_subscriptions.of_driver("D1") == []
        assert await uow.push_subscriptions.drivers_among(["D1", "D2"]) == {"D2"}


async def test_remove_and_forget(push_uow: PushUowFactory) -> None:
    one = await add(push_uow, subscription())
    two = await add(push_uow, subscription(endpoint=ENDPOINT + "/2"))
    assert one is not None
    assert two is not None
    async with push_uow() as uow:
        assert not await uow.push_subscriptions.remove("D2", ENDPOINT)  # not theirs
        assert await uow.push_subscriptions.remove("D1", ENDPOINT)
        await uow.push_subscriptions.forget(two.id or 0)
        await uow.push_subscriptions.forget(10_000)  # unknown: nothing happens
        await uow.commit()
    async with push_uow(read_only=True) as uow:
        assert await uow.push_subscriptions.of_driver("D1") == []
        assert await uow.push_subscriptions.drivers_among(["D1"]) == set()


async def test_a_subscription_without_commit_is_dropped(push_uow: PushUowFactory) -> None:
    async with push_uow() as uow:
        await uow.push_subscriptions.add(subscription())
    async with push_uow(read_only=True) as uow:
        assert await uow.push_subscriptions.of_driver("D1") == []
