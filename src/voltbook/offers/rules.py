"""The rules offers follow, apart from the engine that applies them: what an operator may
create or change, which chargers an offer covers and which is nearest for a driver, how long
a connector sat idle, and the event an outgoing notice becomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from voltbook.core.errors import InvalidInput
from voltbook.offers.events import OfferSent
from voltbook.offers.model import (
    Area,
    Charger,
    DriverProfile,
    Evse,
    Offer,
    OfferKind,
    Trigger,
    idle_minutes,
)
from voltbook.offers.ports import ChargerFacts

CHANGEABLE = frozenset(
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
    # An idle-station offer names, of the fitting chargers idle long enough within this
    # distance of the driver, the one idle longest: the discount goes where it fills the most
    # idle time, not to the charger the driver would have taken anyway (docs/adr/0007).
    idle_reach_m: float = 3_000.0


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
class Target:
    """One driver an offer is about to go to."""

    offer: Offer
    profile: DriverProfile
    station_id: str | None
    told: tuple[Any, ...] | None = None  # the idle episode this notice is about


@dataclass(slots=True)
class IdleState:
    """When each connector this node sees went Available, and its last idle stretch."""

    available_since: dict[tuple[str, int], datetime] = field(default_factory=dict)
    last_stretch: dict[tuple[str, int], tuple[datetime, datetime]] = field(default_factory=dict)

    def filled(
        self, handover: timedelta, station_id: str, evse_id: int | None, offer: Offer, at: datetime
    ) -> float:
        """Minutes the session's connector had sat Available (since the later of going
        Available and the offer's start) when the session took it; 0 when this node did not
        see the connector's idle stretch end within `handover` of the session start."""
        if evse_id is None:
            return 0.0
        key = (station_id, evse_id)
        since = self.available_since.get(key)
        if since is not None:
            return idle_minutes(max(since, offer.starts_at), at)
        stretch = self.last_stretch.get(key)
        if stretch is None or not (at - handover <= stretch[1] <= at + handover):
            return 0.0
        return idle_minutes(max(stretch[0], offer.starts_at), stretch[1])


def new_offer(spec: OfferSpec, created_by: str | None, now: datetime) -> Offer:
    """The offer an operator's spec makes, checked."""
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
    return offer


def check_changeable(changes: dict[str, Any]) -> None:
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise InvalidInput(f"these fields cannot be changed: {', '.join(sorted(unknown))}")


def changed_offer(offer: Offer, changes: dict[str, Any], now: datetime) -> Offer:
    """`offer` with an operator's `changes`, checked."""
    if "station_ids" in changes:
        changes["station_ids"] = tuple(dict.fromkeys(changes["station_ids"] or ()))
    changed = offer.with_changes(**changes)
    changed.check()
    if changed.ends_at <= now:
        raise InvalidInput("ends_at lies in the past")
    return changed


async def scope(chargers: ChargerFacts, offer: Offer) -> list[Charger]:
    """The chargers an offer is for: the ones it names, else every one in its area."""
    if offer.station_ids:
        return await chargers.of(offer.station_ids)
    area = offer.area
    return await chargers.within(area.lat, area.lon, area.radius_m)


def nearest(
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


def longest_idle(
    idle: list[tuple[Charger, Evse, datetime]], lat: float, lon: float, reach_m: float
) -> tuple[Charger, Evse, datetime]:
    """Of idle EVSEs (charger, EVSE, Available since), the one Available longest within
    `reach_m` of the driver (the nearer on a tie); the nearest when none is that close."""
    in_reach = [i for i in idle if i[0].distance_m(lat, lon) <= reach_m]
    if not in_reach:
        return min(idle, key=lambda i: i[0].distance_m(lat, lon))
    return min(in_reach, key=lambda i: (i[2], i[0].distance_m(lat, lon)))


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
