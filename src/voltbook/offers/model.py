"""Offers and their deliveries as plain data, with the rules an offer must keep."""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from voltbook.core.errors import InvalidInput
from voltbook.core.geo import great_circle_m
from voltbook.core.hours import zone_of

MIN_RADIUS_M = 1_000.0
MAX_RADIUS_M = 50_000.0
MAX_TITLE = 120
MAX_STATIONS = 200
MAX_IDLE_MINUTES = 7 * 24 * 60
_QUIET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_UTC = ZoneInfo("UTC")


class OfferKind(StrEnum):
    PERCENT_OFF = "percent_off"  # value: percent taken off the usual price, 0 < v <= 100
    PRICE_PER_KWH = "price_per_kwh"  # value: the price per kWh during the offer, >= 0


class Trigger(StrEnum):
    AREA_ENTRY = "area_entry"  # a driver's position enters the area
    IDLE_STATION = "idle_station"  # a connector in scope sat Available for idle_minutes
    LOW_SOC = "low_soc"  # a vehicle in the area reports a state of charge below soc_below


class OfferState(StrEnum):
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    ENDED = "ended"  # ended by an operator
    EXPIRED = "expired"  # its window passed


@dataclass(frozen=True, slots=True)
class Area:
    """A circle on the Earth's surface."""

    lat: float
    lon: float
    radius_m: float

    def check(self) -> None:
        if not (
            math.isfinite(self.lat)
            and math.isfinite(self.lon)
            and -90 <= self.lat <= 90
            and -180 <= self.lon <= 180
        ):
            raise InvalidInput("the area's centre must be a valid latitude and longitude")
        if not MIN_RADIUS_M <= self.radius_m <= MAX_RADIUS_M:
            raise InvalidInput(
                f"the area's radius_m lies between {MIN_RADIUS_M:g} and {MAX_RADIUS_M:g}"
            )

    def contains(self, lat: float, lon: float) -> bool:
        return great_circle_m(self.lat, self.lon, lat, lon) <= self.radius_m


@dataclass(frozen=True, slots=True)
class Offer:
    title: str
    kind: OfferKind
    value: float
    area: Area
    trigger: Trigger
    starts_at: datetime
    ends_at: datetime
    station_ids: tuple[str, ...] = ()  # empty: every station inside the area
    idle_minutes: int | None = None
    soc_below: float | None = None
    max_per_driver: int = 1
    max_redemptions: int | None = None  # None: no limit
    created_by: str | None = None
    created_at: datetime | None = None
    ended_at: datetime | None = None
    id: int | None = None

    def check(self) -> None:
        """InvalidInput naming the first rule this offer breaks."""
        if not self.title.strip() or len(self.title) > MAX_TITLE:
            raise InvalidInput(f"title must have 1 to {MAX_TITLE} characters")
        if not math.isfinite(self.value):
            raise InvalidInput("value must be a finite number")
        if self.kind is OfferKind.PERCENT_OFF and not 0 < self.value <= 100:
            raise InvalidInput("a percent_off value lies above 0 and at most 100")
        if self.kind is OfferKind.PRICE_PER_KWH and self.value < 0:
            raise InvalidInput("a price_per_kwh value is 0 or more")
        self.area.check()
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise InvalidInput("starts_at and ends_at must carry a time zone offset")
        if self.starts_at >= self.ends_at:
            raise InvalidInput("starts_at must lie before ends_at")
        if len(self.station_ids) > MAX_STATIONS:
            raise InvalidInput(f"an offer names at most {MAX_STATIONS} stations")
        self._check_trigger()
        if self.max_per_driver < 1:
            raise InvalidInput("max_per_driver is 1 or more")
        if self.max_redemptions is not None and self.max_redemptions < 1:
            raise InvalidInput("max_redemptions is 1 or more (leave it out for no limit)")

    def _check_trigger(self) -> None:
        if self.trigger is Trigger.IDLE_STATION:
            if self.idle_minutes is None or not 1 <= self.idle_minutes <= MAX_IDLE_MINUTES:
                raise InvalidInput(
                    f"an idle_station offer needs idle_minutes from 1 to {MAX_IDLE_MINUTES}"
                )
        elif self.idle_minutes is not None:
            raise InvalidInput("idle_minutes belongs to idle_station offers only")
        if self.trigger is Trigger.LOW_SOC:
            if self.soc_below is None or not 0 < self.soc_below <= 100:
                raise InvalidInput("a low_soc offer needs soc_below above 0 and at most 100")
        elif self.soc_below is not None:
            raise InvalidInput("soc_below belongs to low_soc offers only")

    def state(self, now: datetime) -> OfferState:
        if self.ended_at is not None:
            return OfferState.ENDED
        if now >= self.ends_at:
            return OfferState.EXPIRED
        if now < self.starts_at:
            return OfferState.SCHEDULED
        return OfferState.ACTIVE

    def live(self, at: datetime) -> bool:
        """Whether the offer may be sent (and redeemed) at `at`."""
        return self.starts_at <= at < self.ends_at and (self.ended_at is None or at < self.ended_at)

    def with_changes(self, **changes: object) -> Offer:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class OfferDelivery:
    offer_id: int
    driver_id: str
    station_id: str | None
    channel: str
    sent_at: datetime
    opened_at: datetime | None = None
    redeemed_at: datetime | None = None
    session_id: int | None = None
    idle_minutes_filled: float | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class OfferStats:
    sent: int = 0
    opened: int = 0
    redeemed: int = 0
    idle_minutes_filled: float = 0.0


@dataclass(frozen=True, slots=True)
class Evse:
    """One EVSE of a charger in an offer's scope, as storage last knew it."""

    evse_id: int
    standards: frozenset[str]
    available: bool
    available_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Charger:
    station_id: str
    lat: float | None
    lon: float | None
    evses: tuple[Evse, ...] = ()

    def distance_m(self, lat: float, lon: float) -> float:
        if self.lat is None or self.lon is None:
            return math.inf
        return great_circle_m(lat, lon, self.lat, self.lon)


@dataclass(frozen=True, slots=True)
class Vehicle:
    id: str
    standards: frozenset[str]
    soc_percent: float | None = None


@dataclass(frozen=True, slots=True)
class DriverProfile:
    """What the engine needs to know about a driver before it sends an offer."""

    driver_id: str
    consent_offers: bool
    quiet_hours: str | None = None  # "22:00-07:00", local time
    time_zone: str | None = None
    vehicles: tuple[Vehicle, ...] = field(default=())

    def quiet_at(self, at: datetime) -> bool:
        """Whether `at` falls in the driver's quiet hours (their time zone; UTC if unknown)."""
        window = parse_quiet_hours(self.quiet_hours)
        if window is None:
            return False
        start, end = window
        local = at.astimezone(zone_of(self.time_zone, None) or _UTC).time()
        if start <= end:
            return start <= local < end
        return local >= start or local < end

    def fits(self, evse: Evse) -> bool:
        """Whether one of the driver's vehicles takes one of the EVSE's plugs. An EVSE whose
        plugs nobody stated (a station known only from OCPP) is not ruled out."""
        if not evse.standards:
            return bool(self.vehicles)
        return any(v.standards & evse.standards for v in self.vehicles)


def parse_quiet_hours(text: str | None) -> tuple[time, time] | None:
    """("22:00", "07:00") from "22:00-07:00"; None for no quiet hours, an unreadable text, or
    an empty span ("08:00-08:00")."""
    if not text:
        return None
    match = _QUIET.match(text.strip())
    if match is None:
        return None
    start = time(int(match.group(1)), int(match.group(2)))
    end = time(int(match.group(3)), int(match.group(4)))
    return None if start == end else (start, end)


def idle_minutes(since: datetime, until: datetime) -> float:
    return max(0.0, (until - since) / timedelta(minutes=1))
