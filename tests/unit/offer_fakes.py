"""In-memory ports of the offers area, for unit tests (no database, no network).

They keep to what `storage/offers.py` promises, and no more:

- `OfferStore` holds the *committed* state; `uow` is the OffersUowFactory the service takes.
  A write unit of work works on a private copy and publishes it on `commit`; leaving without
  a commit throws its writes away. A read-only unit of work refuses every write.
- Drivers, vehicles, positions (with their expiry) and chargers are set up by the test
  directly on the store (`driver`, `position`, `charger`): they belong to other areas.
- `near` returns consenting drivers with an unexpired position inside the circle, like the
  SQL query; `within` returns chargers whose site lies inside the circle.
- `RecordingOutlet` records every notice and answers with the channel "live".
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tests.unit.memory_uow import MemoryStore, MemoryUnitOfWork
from voltbook.core.geo import great_circle_m
from voltbook.offers.model import (
    Charger,
    DriverProfile,
    Evse,
    Offer,
    OfferDelivery,
    OfferStats,
    Vehicle,
)


@dataclass(slots=True)
class _State:
    offers: dict[int, Offer] = field(default_factory=dict)
    deliveries: dict[int, OfferDelivery] = field(default_factory=dict)


@dataclass(slots=True)
class _Position:
    lat: float
    lon: float
    expires_at: datetime


class OfferStore(MemoryStore[_State]):
    def __init__(self) -> None:
        super().__init__(_State())
        self.ids = itertools.count(1)
        self.profiles: dict[str, DriverProfile] = {}
        self.positions: dict[str, _Position] = {}
        self.id_tags: dict[str, str] = {}
        self.chargers: dict[str, Charger] = {}

    def uow(self, *, read_only: bool = False) -> OffersUow:
        return OffersUow(self, read_only=read_only)

    # --- set-up of other areas' facts -----------------------------------------------------

    def driver(
        self,
        driver_id: str,
        *,
        consent: bool = True,
        plugs: tuple[str, ...] = ("IEC_62196_T2_COMBO",),
        quiet_hours: str | None = None,
        time_zone: str | None = None,
        vehicle_id: str = "car-1",
        id_tag: str | None = None,
    ) -> None:
        vehicles = (Vehicle(vehicle_id, frozenset(plugs)),) if plugs else ()
        self.profiles[driver_id] = DriverProfile(
            driver_id, consent, quiet_hours, time_zone, vehicles
        )
        if id_tag:
            self.id_tags[id_tag] = driver_id

    def position(self, driver_id: str, lat: float, lon: float, expires_at: datetime) -> None:
        self.positions[driver_id] = _Position(lat, lon, expires_at)

    def charger(
        self,
        station_id: str,
        lat: float,
        lon: float,
        *,
        plug: str = "IEC_62196_T2_COMBO",
        available_since: datetime | None = None,
        available: bool = True,
    ) -> None:
        evse = Evse(1, frozenset({plug} - {""}), available, available_since if available else None)
        self.chargers[station_id] = Charger(station_id, lat, lon, (evse,))

    def deliveries(self) -> list[OfferDelivery]:
        return sorted(self.state.deliveries.values(), key=lambda d: d.id or 0)


class OffersUow(MemoryUnitOfWork[_State]):
    store: OfferStore

    def __init__(self, store: OfferStore, *, read_only: bool) -> None:
        super().__init__(store, read_only=read_only)
        self.offers = _Offers(self)
        self.offer_deliveries = _Deliveries(self)
        self.offer_drivers = _Drivers(store)
        self.offer_chargers = _Chargers(store)


class _Offers:
    def __init__(self, uow: OffersUow) -> None:
        self._uow = uow

    async def add(self, offer: Offer) -> Offer:
        stored = offer.with_changes(id=next(self._uow.store.ids))
        self._uow.writable().offers[stored.id] = stored  # type: ignore[index]
        return stored

    async def get(self, offer_id: int) -> Offer | None:
        return self._uow.state.offers.get(offer_id)

    async def save(self, offer: Offer) -> None:
        assert offer.id is not None
        self._uow.writable().offers[offer.id] = offer

    async def page(self, after: int | None, limit: int) -> list[Offer]:
        ids = sorted(
            (i for i in self._uow.state.offers if after is None or i < after), reverse=True
        )
        return [self._uow.state.offers[i] for i in ids[:limit]]

    async def active(self, now: datetime) -> list[Offer]:
        return [
            o for o in self._uow.state.offers.values() if o.ended_at is None and o.ends_at > now
        ]


class _Deliveries:
    def __init__(self, uow: OffersUow) -> None:
        self._uow = uow

    def _all(self) -> list[OfferDelivery]:
        return list(self._uow.state.deliveries.values())

    async def add(self, delivery: OfferDelivery) -> OfferDelivery:
        stored = OfferDelivery(
            delivery.offer_id,
            delivery.driver_id,
            delivery.station_id,
            delivery.channel,
            delivery.sent_at,
            id=next(self._uow.store.ids),
        )
        self._uow.writable().deliveries[stored.id] = stored  # type: ignore[index]
        return stored

    async def set_channel(self, delivery_id: int, channel: str) -> None:
        state = self._uow.writable()
        old = state.deliveries[delivery_id]
        state.deliveries[delivery_id] = _replace(old, channel=channel)

    async def get(self, delivery_id: int) -> OfferDelivery | None:
        return self._uow.state.deliveries.get(delivery_id)

    async def count_for(self, offer_id: int, driver_id: str) -> int:
        return sum(1 for d in self._all() if d.offer_id == offer_id and d.driver_id == driver_id)

    async def count_since(self, driver_id: str, since: datetime) -> int:
        return sum(1 for d in self._all() if d.driver_id == driver_id and d.sent_at >= since)

    async def redemptions(self, offer_id: int) -> int:
        return sum(1 for d in self._all() if d.offer_id == offer_id and d.redeemed_at is not None)

    async def unredeemed(self, driver_id: str, limit: int) -> list[OfferDelivery]:
        mine = [d for d in self._all() if d.driver_id == driver_id and d.redeemed_at is None]
        return sorted(mine, key=lambda d: (d.sent_at, d.id or 0), reverse=True)[:limit]

    async def opened(self, delivery_id: int, at: datetime) -> None:
        state = self._uow.writable()
        old = state.deliveries[delivery_id]
        if old.opened_at is None:
            state.deliveries[delivery_id] = _replace(old, opened_at=at)

    async def redeem(
        self, delivery_id: int, at: datetime, session_id: int, idle_minutes_filled: float
    ) -> bool:
        state = self._uow.writable()
        old = state.deliveries[delivery_id]
        if old.redeemed_at is not None:
            return False
        state.deliveries[delivery_id] = _replace(
            old, redeemed_at=at, session_id=session_id, idle_minutes_filled=idle_minutes_filled
        )
        return True

    async def stats(self, offer_id: int) -> OfferStats:
        mine = [d for d in self._all() if d.offer_id == offer_id]
        return OfferStats(
            sent=len(mine),
            opened=sum(1 for d in mine if d.opened_at),
            redeemed=sum(1 for d in mine if d.redeemed_at),
            idle_minutes_filled=sum(d.idle_minutes_filled or 0.0 for d in mine),
        )


def _replace(delivery: OfferDelivery, **changes: object) -> OfferDelivery:
    import dataclasses

    return dataclasses.replace(delivery, **changes)  # type: ignore[arg-type]


class _Drivers:
    def __init__(self, store: OfferStore) -> None:
        self._store = store

    async def profile(self, driver_id: str) -> DriverProfile | None:
        return self._store.profiles.get(driver_id)

    async def consenting(self) -> set[str]:
        return {d for d, p in self._store.profiles.items() if p.consent_offers}

    async def near(
        self, lat: float, lon: float, radius_m: float, now: datetime
    ) -> list[tuple[str, float, float]]:
        return [
            (driver, p.lat, p.lon)
            for driver, p in sorted(self._store.positions.items())
            if p.expires_at > now
            and (profile := self._store.profiles.get(driver)) is not None
            and profile.consent_offers
            and great_circle_m(lat, lon, p.lat, p.lon) <= radius_m
        ]

    async def position(self, driver_id: str, now: datetime) -> tuple[float, float] | None:
        p = self._store.positions.get(driver_id)
        return None if p is None or p.expires_at <= now else (p.lat, p.lon)

    async def driver_of_id_tag(self, id_tag: str) -> str | None:
        return self._store.id_tags.get(id_tag)


class _Chargers:
    def __init__(self, store: OfferStore) -> None:
        self._store = store

    async def within(self, lat: float, lon: float, radius_m: float) -> list[Charger]:
        return [c for c in self._store.chargers.values() if c.distance_m(lat, lon) <= radius_m]

    async def of(self, station_ids: tuple[str, ...]) -> list[Charger]:
        return [self._store.chargers[s] for s in station_ids if s in self._store.chargers]


@dataclass(slots=True)
class Sent:
    driver_id: str
    offer_id: int
    station_id: str | None
    delivery_id: int


class RecordingOutlet:
    def __init__(self) -> None:
        self.sent: list[Sent] = []

    async def send(
        self, driver_id: str, offer: Offer, station_id: str | None, delivery_id: int
    ) -> str:
        assert offer.id is not None
        self.sent.append(Sent(driver_id, offer.id, station_id, delivery_id))
        return "live"


HOUR = timedelta(hours=1)
