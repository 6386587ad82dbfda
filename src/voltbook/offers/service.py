"""Use cases of offers: operators create and end them; the engine decides who gets one.

The engine keeps the live offers in memory (an `OfferIndex`, loaded by `refresh` at start,
kept current on create/update/end and refreshed periodically for changes made on other
nodes), so a reported position costs a grid lookup and a few distance checks, never a
database round trip. Storage is read only when an offer is about to be sent (consent, quiet
hours, caps) or redeemed, which is rare next to position reports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from voltbook.core.bus import EventBus
from voltbook.core.clock import Clock
from voltbook.core.errors import Conflict, InvalidInput, NotFound
from voltbook.offers.events import OfferRedeemed, OfferSent
from voltbook.offers.geofence import OfferIndex, Presence
from voltbook.offers.model import (
    Area,
    Charger,
    DriverProfile,
    Evse,
    Offer,
    OfferDelivery,
    OfferKind,
    OfferState,
    OfferStats,
    Trigger,
    idle_minutes,
)
from voltbook.offers.ports import ChargerFacts, OfferOutlet, OffersUnitOfWork, OffersUowFactory

AVAILABLE = "Available"
PENDING_CHANNEL = "pending"
_CHANGEABLE = frozenset(
    {
        "title",
        "kind",
        "value",
        "area",
        "station_ids",
        "trigger",
        "idle_minutes",
        "soc_below",
        "starts_at",
        "ends_at",
        "max_per_driver",
        "max_redemptions",
    }
)


@dataclass(frozen=True, slots=True)
class EngineRules:
    max_per_hour: int = 3  # offers any one driver gets in an hour, across all offers
    position_ttl: timedelta = timedelta(minutes=30)  # a position older than this is gone
    # A redeeming session's connector must have left Available at most this long before
    # the session started for its idle stretch to count as filled by the offer.
    idle_handover: timedelta = timedelta(minutes=15)
    redeem_lookback: int = 50  # unredeemed deliveries of a driver looked at per session


@dataclass(frozen=True, slots=True)
class OfferSpec:
    """An operator's new offer; `starts_at` None means now."""

    title: str
    kind: OfferKind
    value: float
    area: Area
    trigger: Trigger
    ends_at: datetime
    starts_at: datetime | None = None
    station_ids: tuple[str, ...] = ()
    idle_minutes: int | None = None
    soc_below: float | None = None
    max_per_driver: int = 1
    max_redemptions: int | None = None


@dataclass(slots=True)
class _Target:
    offer: Offer
    profile: DriverProfile
    station_id: str | None
    told: tuple[Any, ...] | None = None  # the idle episode this notice is about


@dataclass(slots=True)
class _IdleState:
    available_since: dict[tuple[str, int], datetime] = field(default_factory=dict)
    last_stretch: dict[tuple[str, int], tuple[datetime, datetime]] = field(default_factory=dict)


class OfferService:
    def __init__(
        self,
        uow: OffersUowFactory,
        outlet: OfferOutlet,
        clock: Clock,
        bus: EventBus,
        rules: EngineRules | None = None,
    ) -> None:
        self._uow = uow
        self._outlet = outlet
        self._clock = clock
        self._bus = bus
        self.rules = rules or EngineRules()
        self._index = OfferIndex()
        self._presence = Presence(self.rules.position_ttl)
        self._idle = _IdleState()
        self._idle_told: set[tuple[Any, ...]] = set()
        self._low_fired: dict[tuple[str, str], set[int]] = {}
        # Drivers who consent to offers, as of the last refresh and every consent change
        # since (`consent_changed`, from every node; None: not loaded yet, ask storage).
        # Keeps storage off the position path for everyone else; a withdrawn consent is
        # also checked in storage before anything is sent.
        self._consenting: set[str] | None = None
        self._exhausted: set[tuple[int, str]] = set()  # (offer, driver) at max_per_driver
        self.areas_entered = 0  # offers' areas entered by drivers, since start (a figure)
        self._send_lock = asyncio.Lock()

    # --- operators ----------------------------------------------------------------------

    async def create(self, created_by: str | None, spec: OfferSpec) -> Offer:
        now = self._clock.now()
        offer = Offer(
            title=spec.title,
            kind=spec.kind,
            value=spec.value,
            area=spec.area,
            trigger=spec.trigger,
            starts_at=spec.starts_at or now,
            ends_at=spec.ends_at,
            station_ids=tuple(dict.fromkeys(spec.station_ids)),
            idle_minutes=spec.idle_minutes,
            soc_below=spec.soc_below,
            max_per_driver=spec.max_per_driver,
            max_redemptions=spec.max_redemptions,
            created_by=created_by,
            created_at=now,
        )
        offer.check()
        if offer.ends_at <= now:
            raise InvalidInput("ends_at lies in the past")
        async with self._uow() as uow:
            stored = await uow.offers.add(offer)
            await uow.commit()
        self._index.put(stored)
        return stored

    async def page(self, after: int | None, limit: int) -> list[Offer]:
        async with self._uow(read_only=True) as uow:
            return await uow.offers.page(after, limit)

    async def get(self, offer_id: int) -> Offer:
        async with self._uow(read_only=True) as uow:
            offer = await uow.offers.get(offer_id)
        if offer is None:
            raise NotFound(f"offer {offer_id} does not exist")
        return offer

    async def stats(self, offer_id: int) -> OfferStats:
        async with self._uow(read_only=True) as uow:
            if await uow.offers.get(offer_id) is None:
                raise NotFound(f"offer {offer_id} does not exist")
            return await uow.offer_deliveries.stats(offer_id)

    async def update(self, offer_id: int, changes: dict[str, Any]) -> Offer:
        """Change fields of an offer that has not ended or expired."""
        unknown = set(changes) - _CHANGEABLE
        if unknown:
            raise InvalidInput(f"these fields cannot be changed: {', '.join(sorted(unknown))}")
        now = self._clock.now()
        async with self._uow() as uow:
            offer = await uow.offers.get(offer_id)
            if offer is None:
                raise NotFound(f"offer {offer_id} does not exist")
            state = offer.state(now)
            if state in (OfferState.ENDED, OfferState.EXPIRED):
                raise Conflict(f"offer {offer_id} has {state.value}; it can no longer change")
            if "station_ids" in changes:
                changes["station_ids"] = tuple(dict.fromkeys(changes["station_ids"] or ()))
            changed = offer.with_changes(**changes)
            changed.check()
            if changed.ends_at <= now:
                raise InvalidInput("ends_at lies in the past")
            await uow.offers.save(changed)
            await uow.commit()
        self._index.put(changed)
        self._exhausted = {e for e in self._exhausted if e[0] != offer_id}
        return changed

    async def end(self, offer_id: int) -> Offer:
        """End an offer now: it is sent no more and no longer redeems. Ending twice is fine."""
        now = self._clock.now()
        async with self._uow() as uow:
            offer = await uow.offers.get(offer_id)
            if offer is None:
                raise NotFound(f"offer {offer_id} does not exist")
            if offer.ended_at is None:
                offer = offer.with_changes(ended_at=now)
                await uow.offers.save(offer)
                await uow.commit()
        self._index.remove(offer_id)
        return offer

    async def refresh(self) -> int:
        """Reload the live offers (others nodes' changes) and who consents to offers from
        storage; returns how many offers are live."""
        now = self._clock.now()
        async with self._uow(read_only=True) as uow:
            current = await uow.offers.active(now)
            self._consenting = await uow.offer_drivers.consenting()
        fresh = {offer.id: offer for offer in current if offer.id is not None}
        for offer in self._index.offers():
            if offer.id is not None and offer.id not in fresh:
                self._index.remove(offer.id)
        for offer_id, offer in fresh.items():
            if self._index.get(offer_id) != offer:
                self._index.put(offer)
        return len(current)

    def now(self) -> datetime:
        """The service's clock (an offer's status depends on it)."""
        return self._clock.now()

    @property
    def live_offers(self) -> int:
        return len(self._index)

    def running_at(
        self, stations: Mapping[str, tuple[float, float] | None], at: datetime
    ) -> dict[str, list[Offer]]:
        """Per station (id → its position), the offers that may be sent at `at` and cover
        it: by name, or (offers that name none) by their area holding the position. From
        memory: one pass over the offers that name stations, the geofence for the rest."""
        named = [o for o in self._index.offers() if o.station_ids and o.live(at)]
        found: dict[str, list[Offer]] = {}
        for station_id, position in stations.items():
            covering = [o for o in named if station_id in o.station_ids]
            if position is not None:
                covering += [
                    o for o in self._index.containing(*position) if not o.station_ids and o.live(at)
                ]
            if covering:
                found[station_id] = covering
        return found

    # --- the engine: what drivers and stations report -----------------------------------

    def consent_changed(self, driver_id: str, consent_offers: bool) -> None:
        """A driver's offer consent as just stored (on any node): it counts from now."""
        if self._consenting is None:
            return  # not loaded: every report asks storage
        if consent_offers:
            self._consenting.add(driver_id)
        else:
            self._consenting.discard(driver_id)

    async def position_reported(self, driver_id: str, lat: float, lon: float, at: datetime) -> int:
        """A driver's app reported where it is; returns how many offers went out."""
        index = self._index
        entered = self._presence.move(driver_id, lat, lon, at, index.containing(lat, lon), index)
        if not entered:
            return 0
        self.areas_entered += len(entered)
        now = self._clock.now()
        due = [o for o in entered if o.trigger is Trigger.AREA_ENTRY and o.live(now)]
        due = [o for o in due if (o.id, driver_id) not in self._exhausted]
        if not due or (self._consenting is not None and driver_id not in self._consenting):
            return 0
        targets: list[_Target] = []
        async with self._uow(read_only=True) as uow:
            profile = await uow.offer_drivers.profile(driver_id)
            if profile is None or not profile.consent_offers:
                if self._consenting is not None:
                    self._consenting.discard(driver_id)
                return 0
            for offer in due:
                chargers = await _scope(uow.offer_chargers, offer)
                found = _nearest(chargers, lat, lon, profile, require_fit=False, free=False)
                if chargers and found is None:
                    continue  # none of the chargers takes the driver's vehicles
                targets.append(_Target(offer, profile, found.station_id if found else None))
        return await self._deliver_all(targets)

    async def vehicle_reported(
        self, driver_id: str, vehicle_id: str, soc_percent: float | None, at: datetime
    ) -> int:
        """A vehicle's state of charge; low enough inside a low_soc offer's area, the driver
        is told of the nearest free charger that takes it. Once per offer while the SoC stays
        below the threshold (it fires again after rising above)."""
        if soc_percent is None:
            return 0
        key = (driver_id, vehicle_id)
        fired = self._rearm_low_soc(key, soc_percent)
        if self._consenting is not None and driver_id not in self._consenting:
            return 0
        now = self._clock.now()
        position = self._presence.last(driver_id, now)
        if position is None:  # reported to another node: storage has the last one
            async with self._uow(read_only=True) as uow:
                position = await uow.offer_drivers.position(driver_id, now)
        if position is None:
            return 0
        lat, lon = position
        due = [
            o
            for o in self._index.containing(lat, lon)
            if o.trigger is Trigger.LOW_SOC
            and o.live(now)
            and o.soc_below is not None
            and soc_percent < o.soc_below
            and o.id not in fired
        ]
        if not due:
            return 0
        targets: list[_Target] = []
        async with self._uow(read_only=True) as uow:
            profile = await uow.offer_drivers.profile(driver_id)
            if profile is None or not profile.consent_offers:
                return 0
            vehicle = next((v for v in profile.vehicles if v.id == vehicle_id), None)
            if vehicle is None:
                return 0
            only_this = DriverProfile(
                driver_id,
                profile.consent_offers,
                profile.quiet_hours,
                profile.time_zone,
                (vehicle,),
            )
            for offer in due:
                chargers = await _scope(uow.offer_chargers, offer)
                best = _nearest(chargers, lat, lon, only_this, require_fit=True, free=True)
                if best is not None:
                    targets.append(_Target(offer, profile, best.station_id))
        sent = 0
        for target in targets:
            if await self._deliver(target):
                sent += 1
                assert target.offer.id is not None
                self._low_fired.setdefault(key, set()).add(target.offer.id)
        return sent

    def _rearm_low_soc(self, key: tuple[str, str], soc_percent: float) -> set[int]:
        """The low_soc offers already sent for this vehicle while its SoC stayed below their
        threshold; an offer whose threshold the SoC is back at or above may fire again."""
        fired = self._low_fired.get(key, set())
        for offer_id in list(fired):
            offer = self._index.get(offer_id)
            if offer is None or offer.soc_below is None or soc_percent >= offer.soc_below:
                fired.discard(offer_id)
        return fired

    def connector_status(self, station_id: str, evse_id: int, status: str, at: datetime) -> None:
        """A connector's status (OCPP 1.6 names): keeps when each went Available, and the
        last idle stretch each ended, for the idle minutes a redeeming session fills."""
        key = (station_id, evse_id)
        if status == AVAILABLE:
            self._idle.available_since.setdefault(key, at)
            return
        since = self._idle.available_since.pop(key, None)
        if since is not None:
            self._idle.last_stretch[key] = (since, at)

    async def idle_check(self, now: datetime | None = None) -> int:
        """Idle-station offers: for every connector in scope that has been Available for the
        offer's idle_minutes (counted from the later of when it became Available and the
        offer's start), tell the consenting drivers with a fresh position in the area whose
        vehicle fits. One notice per driver per idle stretch; returns how many went out."""
        now = now or self._clock.now()
        self._presence.forget_before(now - self.rules.position_ttl)
        offers = [
            o for o in self._index.offers() if o.trigger is Trigger.IDLE_STATION and o.live(now)
        ]
        live_ids = {o.id for o in offers}
        self._idle_told = {t for t in self._idle_told if t[0] in live_ids}
        self._exhausted = {e for e in self._exhausted if e[0] in self._index}
        self._low_fired = {
            key: fired
            for key, fired in self._low_fired.items()
            if any(offer_id in self._index for offer_id in fired)
        }
        if not offers:
            return 0
        here = self._presence.inside_of({o.id for o in offers if o.id is not None}, now)
        targets: list[_Target] = []
        async with self._uow(read_only=True) as uow:
            for offer in offers:
                seen = here.get(offer.id, []) if offer.id is not None else []
                targets += await self._idle_targets(uow, offer, now, seen)
        return await self._deliver_all(targets)

    async def _idle_targets(
        self,
        uow: OffersUnitOfWork,
        offer: Offer,
        now: datetime,
        seen_here: list[tuple[str, float, float]],
    ) -> list[_Target]:
        """Drivers to tell of an idle charger of the offer: those storage knows in the area
        (positions written by any node) and those who reported a position in it to this
        node, when they consent."""
        assert offer.idle_minutes is not None
        wanted = timedelta(minutes=offer.idle_minutes)
        idle: list[tuple[Charger, Evse, datetime]] = []
        for charger in await _scope(uow.offer_chargers, offer):
            for evse in charger.evses:
                if not evse.available:
                    continue
                since = evse.available_since or self._idle.available_since.get(
                    (charger.station_id, evse.evse_id)
                )
                if since is not None and now - max(since, offer.starts_at) >= wanted:
                    idle.append((charger, evse, since))
        if not idle:
            return []
        area = offer.area
        nearby = {
            driver_id: (lat, lon)
            for driver_id, lat, lon in seen_here
            if self._consenting is None or driver_id in self._consenting
        }
        for driver_id, lat, lon in await uow.offer_drivers.near(
            area.lat, area.lon, area.radius_m, now
        ):
            nearby[driver_id] = (lat, lon)
        targets: list[_Target] = []
        for driver_id, (lat, lon) in sorted(nearby.items()):
            profile = await uow.offer_drivers.profile(driver_id)
            if profile is None or not profile.consent_offers:
                continue
            fitting = [(c, e, s) for c, e, s in idle if profile.fits(e)]
            if not fitting:
                continue
            charger, evse, since = min(fitting, key=lambda f: f[0].distance_m(lat, lon))
            told = (offer.id, driver_id, charger.station_id, evse.evse_id, since)
            if told not in self._idle_told:
                targets.append(_Target(offer, profile, charger.station_id, told))
        return targets

    async def session_started(
        self,
        station_id: str,
        driver_id: str,
        session_id: int,
        at: datetime,
        evse_id: int | None = None,
    ) -> bool:
        """A session started: it redeems the driver's newest unredeemed delivery of an offer
        that covers the station and is valid at `at` (not ended, window open, redemptions
        left). Returns whether one was redeemed."""
        chosen: tuple[OfferDelivery, Offer] | None = None
        async with self._uow(read_only=True) as uow:
            deliveries = await uow.offer_deliveries.unredeemed(
                driver_id, self.rules.redeem_lookback
            )
            offers: dict[int, Offer | None] = {}
            here: list[Charger] | None = None
            for delivery in deliveries:
                if delivery.offer_id not in offers:
                    offers[delivery.offer_id] = await uow.offers.get(delivery.offer_id)
                offer = offers[delivery.offer_id]
                if offer is None or not offer.live(at) or delivery.sent_at > at:
                    continue
                covered = delivery.station_id == station_id or station_id in offer.station_ids
                if not covered and not offer.station_ids:
                    if here is None:
                        here = await uow.offer_chargers.of((station_id,))
                    covered = any(
                        c.distance_m(offer.area.lat, offer.area.lon) <= offer.area.radius_m
                        for c in here
                    )
                if not covered:
                    continue
                if offer.max_redemptions is not None and (
                    await uow.offer_deliveries.redemptions(delivery.offer_id)
                    >= offer.max_redemptions
                ):
                    continue
                chosen = (delivery, offer)
                break
        if chosen is None:
            return False
        delivery, offer = chosen
        assert delivery.id is not None
        assert offer.id is not None
        filled = self._idle_filled(station_id, evse_id, offer, at)
        async with self._uow() as uow:
            if not await uow.offer_deliveries.redeem(delivery.id, at, session_id, filled):
                return False
            await uow.commit()
        await self._bus.publish(
            OfferRedeemed(delivery.id, offer.id, driver_id, station_id, session_id, filled, at)
        )
        return True

    async def session_started_by_tag(
        self, station_id: str, evse_id: int, id_tag: str | None, session_id: int, at: datetime
    ) -> bool:
        """`session_started` for a session known by the id tag it started with."""
        if not id_tag:
            return False
        async with self._uow(read_only=True) as uow:
            driver_id = await uow.offer_drivers.driver_of_id_tag(id_tag)
        if driver_id is None:
            return False
        return await self.session_started(station_id, driver_id, session_id, at, evse_id)

    async def opened(self, driver_id: str, delivery_id: int) -> None:
        """The driver's app showed the offer (the first opening counts)."""
        async with self._uow() as uow:
            delivery = await uow.offer_deliveries.get(delivery_id)
            if delivery is None or delivery.driver_id != driver_id:
                raise NotFound(f"delivery {delivery_id} does not exist")
            await uow.offer_deliveries.opened(delivery_id, self._clock.now())
            await uow.commit()

    # --- sending ------------------------------------------------------------------------

    def _idle_filled(
        self, station_id: str, evse_id: int | None, offer: Offer, at: datetime
    ) -> float:
        """Minutes the session's connector had sat Available (since the later of going
        Available and the offer's start) when the session took it; 0 when this node did not
        see the connector's idle stretch end within `idle_handover` of the session start."""
        if evse_id is None:
            return 0.0
        key = (station_id, evse_id)
        since = self._idle.available_since.get(key)
        if since is not None:
            return idle_minutes(max(since, offer.starts_at), at)
        stretch = self._idle.last_stretch.get(key)
        if stretch is None or not (
            at - self.rules.idle_handover <= stretch[1] <= at + self.rules.idle_handover
        ):
            return 0.0
        return idle_minutes(max(stretch[0], offer.starts_at), stretch[1])

    async def _deliver_all(self, targets: Iterable[_Target]) -> int:
        sent = 0
        for target in targets:
            if await self._deliver(target):
                sent += 1
        return sent

    async def _deliver(self, target: _Target) -> bool:
        """Send one offer to one driver unless a rule says no: consent, quiet hours, the
        offer's per-driver cap, the hourly cap across offers, redemptions used up, or the
        offer ended, expired or changed meanwhile."""
        offer, profile = target.offer, target.profile
        driver_id = profile.driver_id
        assert offer.id is not None
        async with self._send_lock:  # one node's checks and writes for a driver never interleave
            now = self._clock.now()
            if not profile.consent_offers or profile.quiet_at(now):
                return False
            async with self._uow(read_only=True) as uow:
                current = await uow.offers.get(offer.id)
                if current is None or not current.live(now):
                    self._index.remove(offer.id)
                    return False
                deliveries = uow.offer_deliveries
                already = await deliveries.count_for(offer.id, driver_id)
                if already >= current.max_per_driver:
                    self._exhausted.add((offer.id, driver_id))
                    return False
                hour_ago = now - timedelta(hours=1)
                if await deliveries.count_since(driver_id, hour_ago) >= self.rules.max_per_hour:
                    return False
                if current.max_redemptions is not None and (
                    await deliveries.redemptions(offer.id) >= current.max_redemptions
                ):
                    return False
            async with self._uow() as uow:
                delivery = await uow.offer_deliveries.add(
                    OfferDelivery(offer.id, driver_id, target.station_id, PENDING_CHANNEL, now)
                )
                await uow.commit()
            assert delivery.id is not None
            if target.told is not None:
                self._idle_told.add(target.told)
            if already + 1 >= current.max_per_driver:
                self._exhausted.add((offer.id, driver_id))
            channel = await self._outlet.send(driver_id, current, target.station_id, delivery.id)
            async with self._uow() as uow:
                await uow.offer_deliveries.set_channel(delivery.id, channel)
                await uow.commit()
        return True


async def _scope(chargers: ChargerFacts, offer: Offer) -> list[Charger]:
    """The chargers an offer is for: the ones it names, else every one in its area."""
    if offer.station_ids:
        return await chargers.of(offer.station_ids)
    area = offer.area
    return await chargers.within(area.lat, area.lon, area.radius_m)


def _nearest(
    chargers: list[Charger],
    lat: float,
    lon: float,
    profile: DriverProfile,
    *,
    require_fit: bool,
    free: bool,
) -> Charger | None:
    """The nearest charger with an EVSE that takes one of the driver's vehicles (any EVSE
    when the driver has no vehicle and `require_fit` is off), Available ones only if `free`."""

    def usable(evse: Evse) -> bool:
        if free and not evse.available:
            return False
        if not profile.vehicles:
            return not require_fit
        return profile.fits(evse)

    fitting = [c for c in chargers if any(usable(e) for e in c.evses)]
    if not fitting:
        return None
    return min(fitting, key=lambda c: c.distance_m(lat, lon))


def outgoing(
    offer: Offer, delivery_id: int, driver_id: str, station_id: str | None, at: datetime
) -> OfferSent:
    """The OfferSent event for one notice (what an outlet that publishes on the bus sends)."""
    assert offer.id is not None
    return OfferSent(
        delivery_id=delivery_id,
        offer_id=offer.id,
        driver_id=driver_id,
        station_id=station_id,
        title=offer.title,
        kind=offer.kind.value,
        value=offer.value,
        ends_at=offer.ends_at,
        trigger=offer.trigger.value,
        at=at,
    )
