"""Notices, topics and push subscriptions as plain data."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from voltbook.core.errors import InvalidInput

MAX_AREA_RADIUS_M = 50_000.0


class Urgency(StrEnum):
    """Web Push urgency (RFC 8030 section 5.3)."""

    VERY_LOW = "very-low"
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class Notice:
    """One message to one driver; `seq` orders a driver's notices and never repeats."""

    driver_id: str
    seq: int
    kind: str  # reservation.updated | station.status | offer | alarm
    payload: dict[str, Any]
    urgency: Urgency
    created_at: datetime
    expires_at: datetime

    def message(self) -> dict[str, Any]:
        """The live-channel (and push payload) form."""
        return {"type": self.kind, "seq": self.seq, **self.payload}


@dataclass(frozen=True, slots=True)
class PushSubscription:
    """A browser's Web Push subscription (the W3C PushSubscription JSON)."""

    driver_id: str
    endpoint: str
    p256dh: str
    auth: str
    id: int | None = None
    created_at: datetime | None = field(default=None, compare=False)


class PushOutcome(StrEnum):
    DELIVERED = "delivered"
    GONE = "gone"  # 404/410: the subscription is dead, forget it
    FAILED = "failed"  # anything else: try again with the next notice


@dataclass(frozen=True, slots=True)
class ReservationsTopic:
    def __str__(self) -> str:
        return "reservations"


@dataclass(frozen=True, slots=True)
class StationTopic:
    station_id: str

    def __str__(self) -> str:
        return f"station:{self.station_id}"


@dataclass(frozen=True, slots=True)
class AreaTopic:
    lat: float
    lon: float
    radius_m: float

    def __str__(self) -> str:
        return f"area:{self.lat:g},{self.lon:g},{self.radius_m:g}"


Topic = ReservationsTopic | StationTopic | AreaTopic


@functools.lru_cache(maxsize=4096)  # topics repeat; parsed ones are immutable
def parse_topic(raw: str) -> Topic:
    """`reservations`, `station:{id}` or `area:{lat},{lon},{radius_m}`; else InvalidInput."""
    if raw == "reservations":
        return ReservationsTopic()
    kind, _, rest = raw.partition(":")
    if kind == "station" and 0 < len(rest) <= 48 and rest.isprintable():
        return StationTopic(rest)
    if kind == "area":
        try:
            lat, lon, radius = (float(part) for part in rest.split(","))
        except ValueError:
            lat = lon = radius = math.nan
        if (
            all(math.isfinite(v) for v in (lat, lon, radius))
            and -90 <= lat <= 90
            and -180 <= lon <= 180
            and 0 < radius <= MAX_AREA_RADIUS_M
        ):
            return AreaTopic(lat, lon, radius)
        raise InvalidInput(
            f"an area topic is area:{{lat}},{{lon}},{{radius_m}} with a radius up to "
            f"{MAX_AREA_RADIUS_M:g} m"
        )
    raise InvalidInput("a topic is reservations, station:{id} or area:{lat},{lon},{radius_m}")
