"""Offers and deliveries in SQL, and what the engine reads about drivers and chargers,
on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from voltbook.core.bus import InProcessBus
from voltbook.core.clock import SystemClock
from voltbook.offers.model import Area, Offer, OfferDelivery, OfferKind, Trigger
from voltbook.offers.rules import OfferSpec
from voltbook.offers.service import OfferService
from voltbook.storage.tables import (
    connectors,
    driver_positions,
    drivers,
    id_tokens,
    sites,
    stations,
    vehicles,
)
from voltbook.storage.unit_of_work import SqlUnitOfWork

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
LAT, LON = 42.3601, -71.0589


class Clock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return 0.0


def uow_factory(engine: AsyncEngine) -> Callable[..., SqlUnitOfWork]:
    def uow(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, SystemClock(), read_only=read_only)

    return uow


def offer(**fields: object) -> Offer:
    values: dict[str, object] = {
        "title": "Half price",
        "kind": OfferKind.PERCENT_OFF,
        "value": 50.0,
        "area": Area(LAT, LON, 2_000.0),
        "trigger": Trigger.AREA_ENTRY,
        "starts_at": T0,
        "ends_at": T0 + timedelta(hours=2),
        "created_at": T0,
    }
    values.update(fields)
    return Offer(**values)


async def given_world(engine: AsyncEngine) -> None:
    """Two drivers (one consenting, with a CCS2 car), a site with a station near the centre
    and one far away, one station without a site."""
    async with engine.begin() as c:
        for driver, consent, quiet in (("ann", True, "22:00-07:00"), ("bob", False, None)):
            await c.execute(
                drivers.insert().values(
                    id=driver, email=f"{driver}@example.org", password_hash="x", role="driver",
                    consent_offers=consent, quiet_hours=quiet, time_zone="America/New_York",
                    created_at=T0,
                )
            )  # fmt: skip
        await c.execute(
            vehicles.insert().values(
                id="car-1", driver_id="ann", name="Car", battery_kwh=60.0,
                standards="IEC_62196_T2_COMBO;IEC_62196_T2", soc_percent=40.0, created_at=T0,
            )
        )  # fmt: skip
        await c.execute(
            id_tokens.insert().values(
                token="TAG-ANN", driver_id="ann", status="Accepted", created_at=T0
            )
        )
        for site_id, lat in ((1, LAT + 0.001), (2, LAT + 1.0)):
            await c.execute(
                sites.insert().values(
                    id=site_id, source="test", source_id=str(site_id), name=f"Site {site_id}",
                    country="US", lat=lat, lon=LON, created_at=T0, updated_at=T0,
                )
            )  # fmt: skip
        for station, site in (("NEAR", 1), ("FAR", 2), ("LOOSE", None)):
            await c.execute(stations.insert().values(id=station, site_id=site, created_at=T0))
        await c.execute(
            connectors.insert(),
            [
                {"station_id": "NEAR", "evse_id": 1, "connector_id": 1, "standard": "IEC_62196_T2_COMBO",
                 "status": "Available", "status_since": T0 - timedelta(minutes=30)},
                {"station_id": "NEAR", "evse_id": 1, "connector_id": 2, "standard": "CHADEMO",
                 "status": "Available", "status_since": T0 - timedelta(minutes=10)},
                {"station_id": "NEAR", "evse_id": 2, "connector_id": 1, "standard": "IEC_62196_T2",
                 "status": "Charging", "status_since": T0},
                {"station_id": "FAR", "evse_id": 1, "connector_id": 1, "standard": "IEC_62196_T2_COMBO",
                 "status": "Available", "status_since": T0},
            ],
        )  # fmt: skip
        await c.execute(
            driver_positions.insert(),
            [
                {"driver_id": "ann", "lat": LAT + 0.002, "lon": LON, "reported_at": T0,
                 "expires_at": T0 + timedelta(minutes=30)},
                {"driver_id": "bob", "lat": LAT, "lon": LON, "reported_at": T0,
                 "expires_at": T0 + timedelta(minutes=30)},
            ],
        )  # fmt: skip


async def test_offers_are_stored_changed_paged_and_listed_while_active(
    engine: AsyncEngine,
) -> None:
    uow = uow_factory(engine)
    async with uow() as u:
        first = await u.offers.add(offer(station_ids=("NEAR", "FAR"), max_redemptions=5))
        second = await u.offers.add(
            offer(trigger=Trigger.LOW_SOC, soc_below=25.0, kind=OfferKind.PRICE_PER_KWH, value=0.2)
        )
        third = await u.offers.add(offer(trigger=Trigger.IDLE_STATION, idle_minutes=15))
        await u.commit()
    async with uow() as u:
        await u.offers.save(third.with_changes(ended_at=T0 + timedelta(minutes=5), title="Done"))
        await u.commit()

    async with uow(read_only=True) as u:
        assert await u.offers.get(first.id) == first
        assert (await u.offers.get(third.id)).title == "Done"
        assert [o.id for o in await u.offers.page(None, 2)] == [third.id, second.id]
        assert [o.id for o in await u.offers.page(second.id, 2)] == [first.id]
        assert [o.id for o in await u.offers.active(T0)] == [first.id, second.id]
        assert await u.offers.active(T0 + timedelta(hours=2)) == []
        assert await u.offers.get(9999) is None


async def test_deliveries_count_for_the_caps_and_add_up_to_the_stats(engine: AsyncEngine) -> None:
    await given_world(engine)
    uow = uow_factory(engine)
    async with uow() as u:
        stored = await u.offers.add(offer())
        other = await u.offers.add(offer())
        one = await u.offer_deliveries.add(OfferDelivery(stored.id, "ann", "NEAR", "pending", T0))
        two = await u.offer_deliveries.add(
            OfferDelivery(other.id, "ann", None, "pending", T0 + timedelta(minutes=50))
        )
        await u.offer_deliveries.set_channel(one.id, "live")
        await u.commit()
    async with uow() as u:
        d = u.offer_deliveries
        await d.opened(one.id, T0 + timedelta(minutes=1))
        await d.opened(one.id, T0 + timedelta(minutes=9))
        assert await d.redeem(one.id, T0 + timedelta(minutes=20), 7, 12.5)
        assert not await d.redeem(one.id, T0 + timedelta(minutes=21), 8, 1.0)
        await u.commit()

    async with uow(read_only=True) as u:
        d = u.offer_deliveries
        got = await d.get(one.id)
        assert got is not None
        assert (got.channel, got.opened_at, got.session_id, got.idle_minutes_filled) == (
            "live", T0 + timedelta(minutes=1), 7, 12.5,
        )  # fmt: skip
        assert await d.count_for(stored.id, "ann") == 1
        assert await d.count_for(stored.id, "bob") == 0
        assert await d.count_since("ann", T0) == 2
        assert await d.count_since("ann", T0 + timedelta(minutes=1)) == 1
        assert await d.redemptions(stored.id) == 1
        assert [x.id for x in await d.unredeemed("ann", 10)] == [two.id]
        stats = await d.stats(stored.id)
        assert (stats.sent, stats.opened, stats.redeemed, stats.idle_minutes_filled) == (
            1, 1, 1, 12.5,
        )  # fmt: skip
        empty = await d.stats(other.id)
        assert (empty.sent, empty.opened, empty.redeemed, empty.idle_minutes_filled) == (
            1, 0, 0, 0.0,
        )  # fmt: skip


async def test_driver_facts_give_consent_vehicles_and_fresh_positions_of_consenting_drivers(
    engine: AsyncEngine,
) -> None:
    await given_world(engine)
    async with uow_factory(engine)(read_only=True) as u:
        facts = u.offer_drivers
        ann = await facts.profile("ann")
        assert ann is not None
        assert (ann.consent_offers, ann.quiet_hours, ann.time_zone) == (
            True, "22:00-07:00", "America/New_York",
        )  # fmt: skip
        [car] = ann.vehicles
        assert car.standards == {"IEC_62196_T2_COMBO", "IEC_62196_T2"}
        assert await facts.profile("nobody") is None

        near = await facts.near(LAT, LON, 1_000.0, T0)
        assert [d for d, _, _ in near] == ["ann"]  # bob is there but did not consent
        assert await facts.near(LAT, LON, 100.0, T0) == []  # ann is 220 m away
        assert await facts.near(LAT, LON, 1_000.0, T0 + timedelta(minutes=30)) == []  # expired
        assert await facts.position("ann", T0) == (LAT + 0.002, LON)
        assert await facts.position("ann", T0 + timedelta(hours=1)) is None
        assert await facts.driver_of_id_tag("TAG-ANN") == "ann"
        assert await facts.driver_of_id_tag("TAG-NOBODY") is None
        assert await facts.consenting() == {"ann"}


async def test_charger_facts_give_stations_in_a_circle_or_by_id_with_their_evses(
    engine: AsyncEngine,
) -> None:
    await given_world(engine)
    async with uow_factory(engine)(read_only=True) as u:
        chargers = u.offer_chargers
        [near] = await chargers.within(LAT, LON, 2_000.0)
        assert near.station_id == "NEAR"
        one, two = near.evses
        assert one.standards == {"IEC_62196_T2_COMBO", "CHADEMO"}
        assert one.available
        assert one.available_since == T0 - timedelta(minutes=30)
        assert not two.available
        by_id = await chargers.of(("LOOSE", "FAR", "GHOST"))
        assert {c.station_id: (c.lat, len(c.evses)) for c in by_id} == {
            "FAR": (LAT + 1.0, 1),
            "LOOSE": (None, 0),
        }
        assert await chargers.of(()) == []


async def test_the_engine_on_storage_sends_on_entry_and_a_session_redeems_it(
    engine: AsyncEngine,
) -> None:
    await given_world(engine)
    clock = Clock(T0)
    sent: list[tuple[str, str | None, int]] = []

    class Outlet:
        async def send(self, driver_id: str, o: Offer, station_id: str | None, d: int) -> str:
            sent.append((driver_id, station_id, d))
            return "push"

    service = OfferService(uow_factory(engine), Outlet(), clock, InProcessBus())
    made = await service.create(
        "op",
        OfferSpec(
            "Half price", OfferKind.PERCENT_OFF, 50.0, Area(LAT, LON, 2_000.0),
            Trigger.AREA_ENTRY, T0 + timedelta(hours=2),
        ),
    )  # fmt: skip
    assert made.id is not None
    assert await service.refresh() == 1

    await service.position_reported("ann", LAT + 0.5, LON, T0)
    assert await service.position_reported("ann", LAT + 0.002, LON, T0) == 1
    assert await service.position_reported("bob", LAT + 0.002, LON, T0) == 0  # no consent
    [(driver, station, delivery_id)] = sent
    assert (driver, station) == ("ann", "NEAR")

    clock.at = T0 + timedelta(minutes=10)
    assert await service.session_started_by_tag("NEAR", 1, "TAG-ANN", 5, clock.at)
    stats = await service.stats(made.id)
    assert (stats.sent, stats.redeemed) == (1, 1)
    async with uow_factory(engine)(read_only=True) as u:
        delivery = await u.offer_deliveries.get(delivery_id)
    assert delivery is not None
    assert (delivery.channel, delivery.session_id) == ("push", 5)
