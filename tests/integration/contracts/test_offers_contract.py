"""What every offer and offer-delivery repository does, the fake's as well as SQL's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.integration.contracts.conftest import DRIVERS, STATION
from voltbook.offers.model import Area, Offer, OfferDelivery, OfferKind, OfferStats, Trigger
from voltbook.offers.ports import OffersUowFactory

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
D1, D2 = DRIVERS


def offer(title: str = "Half price", *, days: int = 7) -> Offer:
    return Offer(
        title=title,
        kind=OfferKind.PERCENT_OFF,
        value=50.0,
        area=Area(42.36, -71.06, 2_000.0),
        trigger=Trigger.IDLE_STATION,
        starts_at=WHEN,
        ends_at=WHEN + timedelta(days=days),
        station_ids=(STATION,),
        idle_minutes=30,
        max_per_driver=2,
        max_redemptions=10,
        created_at=WHEN,
    )


async def add_offers(uow: OffersUowFactory, *offers: Offer) -> list[Offer]:
    async with uow() as writing:
        stored = [await writing.offers.add(o) for o in offers]
        await writing.commit()
    return stored


async def send(uow: OffersUowFactory, offer_id: int, driver_id: str, at: datetime) -> int:
    async with uow() as writing:
        sent = await writing.offer_deliveries.add(
            OfferDelivery(offer_id, driver_id, STATION, "pending", at)
        )
        await writing.commit()
    assert sent.id is not None
    return sent.id


async def test_an_offer_gets_an_id_and_is_read_back_as_stored(offers_uow: OffersUowFactory) -> None:
    (stored,) = await add_offers(offers_uow, offer())
    assert stored.id is not None
    async with offers_uow(read_only=True) as uow:
        assert await uow.offers.get(stored.id) == stored
        assert await uow.offers.get(stored.id + 1000) is None


async def test_pages_are_newest_first_below_the_cursor(offers_uow: OffersUowFactory) -> None:
    *_, three = await add_offers(offers_uow, offer("one"), offer("two"), offer("three"))
    async with offers_uow(read_only=True) as uow:
        assert [o.title for o in await uow.offers.page(None, 10)] == ["three", "two", "one"]
        assert [o.title for o in await uow.offers.page(three.id, 1)] == ["two"]


async def test_active_offers_are_the_ones_not_ended_whose_window_has_not_passed(
    offers_uow: OffersUowFactory,
) -> None:
    _, ended, _ = await add_offers(
        offers_uow, offer("short", days=1), offer("ended"), offer("later")
    )
    async with offers_uow() as uow:
        await uow.offers.save(ended.with_changes(ended_at=WHEN + timedelta(hours=1)))
        await uow.commit()
    async with offers_uow(read_only=True) as uow:
        assert {o.title for o in await uow.offers.active(WHEN)} == {"short", "later"}
        assert {o.title for o in await uow.offers.active(WHEN + timedelta(days=2))} == {"later"}


async def test_deliveries_are_counted_per_offer_and_driver_and_since_a_time(
    offers_uow: OffersUowFactory,
) -> None:
    first, second = await add_offers(offers_uow, offer("first"), offer("second"))
    assert first.id is not None
    assert second.id is not None
    await send(offers_uow, first.id, D1, WHEN)
    await send(offers_uow, first.id, D1, WHEN + timedelta(hours=1))
    await send(offers_uow, second.id, D1, WHEN + timedelta(hours=2))
    await send(offers_uow, first.id, D2, WHEN + timedelta(hours=2))
    async with offers_uow(read_only=True) as uow:
        deliveries = uow.offer_deliveries
        assert await deliveries.count_for(first.id, D1) == 2
        assert await deliveries.count_for(second.id, D2) == 0
        assert await deliveries.count_since(D1, WHEN + timedelta(hours=1)) == 2
        assert await deliveries.count_since(D1, WHEN + timedelta(hours=3)) == 0


async def test_a_delivery_is_opened_once_and_redeemed_once_and_the_figures_add_up(
    offers_uow: OffersUowFactory,
) -> None:
    (stored,) = await add_offers(offers_uow, offer())
    assert stored.id is not None
    early = await send(offers_uow, stored.id, D1, WHEN)
    late = await send(offers_uow, stored.id, D1, WHEN + timedelta(minutes=5))
    other = await send(offers_uow, stored.id, D2, WHEN)
    async with offers_uow() as uow:
        deliveries = uow.offer_deliveries
        await deliveries.set_channel(early, "live")
        await deliveries.opened(early, WHEN + timedelta(minutes=1))
        await deliveries.opened(early, WHEN + timedelta(minutes=9))  # changes nothing
        assert await deliveries.redeem(early, WHEN + timedelta(minutes=20), 7, 42.5)
        assert not await deliveries.redeem(early, WHEN + timedelta(minutes=30), 8, 1.0)
        assert await deliveries.redeem(other, WHEN + timedelta(minutes=25), 9, 10.0)
        await uow.commit()
    async with offers_uow(read_only=True) as uow:
        deliveries = uow.offer_deliveries
        opened = await deliveries.get(early)
        assert opened is not None
        assert (opened.channel, opened.opened_at) == ("live", WHEN + timedelta(minutes=1))
        assert (opened.redeemed_at, opened.session_id) == (WHEN + timedelta(minutes=20), 7)
        assert await deliveries.redemptions(stored.id) == 2
        assert [d.id for d in await deliveries.unredeemed(D1, 10)] == [late]
        assert await deliveries.stats(stored.id) == OfferStats(
            sent=3, opened=1, redeemed=2, idle_minutes_filled=52.5
        )
        assert await deliveries.get(late + other + 1000) is None
