"""Use cases of offers: operators create and end them; the engine decides who gets one.

The engine keeps the live offers in memory (an `OfferIndex`, loaded by `refresh` at start,
kept current on create/update/end and refreshed periodically for changes made on other
nodes), so a reported position costs a grid lookup and a few distance checks, never a
database round trip. Storage is read only when an offer is about to be sent (consent, quiet
hours, caps) or redeemed, which is rare next to position reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from voltbook.core.bus import EventBus
from voltbook.core.clock import Clock
from voltbook.core.errors import Conflict, NotFound
from voltbook.offers.events import OfferRedeemed
from voltbook.offers.geofence import OfferIndex, Presence
from voltbook.offers.model import (
    Charger,
    DriverProfile,
    Evse,
    Offer,
    OfferDelivery,
    OfferState,
    OfferStats,
    Trigger,
)
from voltbook.offers.ports import OfferOutlet, OffersUnitOfWork, OffersUowFactory
from voltbook.offers.rules import (
    EngineRules,
    IdleState,
    OfferSpec,
    Target,
    changed_offer,
    check_changeable,
    longest_idle,
    nearest,
    new_offer,
    scope,
)
from voltbook.offers.sending import OfferSender

AVAILABLE = "Available"


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
        self._clock = clock
        self._bus = bus
        self.rules = rules or EngineRules()
        self._index = OfferIndex()
        self._presence = Presence(self.rules.position_ttl)
        self._idle = IdleState()
        self._low_fired: dict[tuple[str, str], set[int]] = {}
        # Drivers who consent to offers, as of the last refresh and every consent change
        # since (`consent_changed`, from every node; None: not loaded yet, ask storage).
        # Keeps storage off the position path for everyone else; a withdrawn consent is
        # also checked in storage before anything is sent.
        self._consenting: set[str] | None = None
        self.areas_entered = 0  # offers' areas entered by drivers, since start (a figure)
        self._sender = OfferSender(uow, outlet, clock, self.rules, self._index)

    # --- operators ----------------------------------------------------------------------

    async def create(self, created_by: str | None, spec: OfferSpec) -> Offer:
        offer = new_offer(spec, created_by, self._clock.now())
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
        check_changeable(changes)
        now = self._clock.now()
        async with self._uow() as uow:
            offer = await uow.offers.get(offer_id)
            if offer is None:
                raise NotFound(f"offer {offer_id} does not exist")
            state = offer.state(now)
            if state in (OfferState.ENDED, OfferState.EXPIRED):
                raise Conflict(f"offer {offer_id} has {state.value}; it can no longer change")
            changed = changed_offer(offer, changes, now)
            await uow.offers.save(changed)
            await uow.commit()
        self._index.put(changed)
        self._sender.exhausted = {e for e in self._sender.exhausted if e[0] != offer_id}
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
        self._index.prepare()
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
        entered = self._presence.move(driver_id, lat, lon, at, index.locate(lat, lon), index)
        if not entered:
            return 0
        self.areas_entered += len(entered)
        now = self._clock.now()
        due = [o for o in entered if o.trigger is Trigger.AREA_ENTRY and o.live(now)]
        due = [o for o in due if (o.id, driver_id) not in self._sender.exhausted]
        if not due or (self._consenting is not None and driver_id not in self._consenting):
            return 0
        targets: list[Target] = []
        async with self._uow(read_only=True) as uow:
            profile = await uow.offer_drivers.profile(driver_id)
            if profile is None or not profile.consent_offers:
                if self._consenting is not None:
                    self._consenting.discard(driver_id)
                return 0
            for offer in due:
                chargers = await scope(uow.offer_chargers, offer)
                found = nearest(chargers, lat, lon, profile, require_fit=False, free=False)
                if chargers and found is None:
                    continue  # none of the chargers takes the driver's vehicles
                targets.append(Target(offer, profile, found.station_id if found else None))
        return await self._sender.deliver_all(targets)

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
        targets: list[Target] = []
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
                chargers = await scope(uow.offer_chargers, offer)
                best = nearest(chargers, lat, lon, only_this, require_fit=True, free=True)
                if best is not None:
                    targets.append(Target(offer, profile, best.station_id))
        sent = 0
        for target in targets:
            if await self._sender.deliver(target):
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
        self._sender.idle_told = {t for t in self._sender.idle_told if t[0] in live_ids}
        self._sender.exhausted = {e for e in self._sender.exhausted if e[0] in self._index}
        self._low_fired = {
            key: fired
            for key, fired in self._low_fired.items()
            if any(offer_id in self._index for offer_id in fired)
        }
        if not offers:
            return 0
        here = self._presence.inside_of({o.id for o in offers if o.id is not None}, now)
        targets: list[Target] = []
        async with self._uow(read_only=True) as uow:
            for offer in offers:
                seen = here.get(offer.id, []) if offer.id is not None else []
                targets += await self._idle_targets(uow, offer, now, seen)
        return await self._sender.deliver_all(targets)

    async def _idle_targets(
        self,
        uow: OffersUnitOfWork,
        offer: Offer,
        now: datetime,
        seen_here: list[tuple[str, float, float]],
    ) -> list[Target]:
        """Drivers to tell of an idle charger of the offer: those storage knows in the area
        (positions written by any node) and those who reported a position in it to this
        node, when they consent."""
        assert offer.idle_minutes is not None
        wanted = timedelta(minutes=offer.idle_minutes)
        idle: list[tuple[Charger, Evse, datetime]] = []
        for charger in await scope(uow.offer_chargers, offer):
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
        targets: list[Target] = []
        for driver_id, (lat, lon) in sorted(nearby.items()):
            profile = await uow.offer_drivers.profile(driver_id)
            if profile is None or not profile.consent_offers:
                continue
            fitting = [(c, e, s) for c, e, s in idle if profile.fits(e)]
            if not fitting:
                continue
            charger, evse, since = longest_idle(fitting, lat, lon, self.rules.idle_reach_m)
            told = (offer.id, driver_id, charger.station_id, evse.evse_id, since)
            if told not in self._sender.idle_told:
                targets.append(Target(offer, profile, charger.station_id, told))
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
        filled = self._idle.filled(self.rules.idle_handover, station_id, evse_id, offer, at)
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
