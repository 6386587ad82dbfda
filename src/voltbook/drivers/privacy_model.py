"""Location privacy as plain data: consents, quiet hours, and the one last position.

voltbook keeps at most one position per driver (the last one), only while the driver has
consented to share it, and only until it expires (a time-to-live). It keeps no history.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from voltbook.core.errors import InvalidInput

QUIET_HOURS_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$"
_QUIET = re.compile(QUIET_HOURS_PATTERN)
MAX_ZONE = 64
MAX_ACCURACY_M = 100_000.0


@dataclass(frozen=True, slots=True)
class Preferences:
    """What a driver has agreed to (both off by default) and when not to be disturbed."""

    consent_location: bool = False
    consent_offers: bool = False
    quiet_hours: str | None = None  # "22:00-07:00" in local time; may span midnight
    time_zone: str | None = None  # IANA name

    def validated(self) -> Preferences:
        if self.quiet_hours is not None:
            start, _, end = self.quiet_hours.partition("-")
            if not _QUIET.match(self.quiet_hours) or start == end:
                raise InvalidInput("quiet_hours must look like 22:00-07:00 (start and end differ)")
        if self.time_zone is not None:
            zone_name(self.time_zone)
        return self


def zone_name(name: str) -> str:
    """An IANA time zone name this machine knows, or InvalidInput."""
    if not 1 <= len(name) <= MAX_ZONE or name.startswith(("/", ".")) or ".." in name:
        raise InvalidInput("time_zone must be an IANA time zone name such as Europe/Berlin")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            "time_zone must be an IANA time zone name such as Europe/Berlin"
        ) from None
    return name


@dataclass(frozen=True, slots=True)
class Position:
    """A driver's last known position. Never logged; forgotten at `expires_at`."""

    driver_id: str
    lat: float
    lon: float
    accuracy_m: float | None
    reported_at: datetime
    expires_at: datetime

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat) and -90.0 <= self.lat <= 90.0):
            raise InvalidInput("lat must be between -90 and 90")
        if not (math.isfinite(self.lon) and -180.0 <= self.lon <= 180.0):
            raise InvalidInput("lon must be between -180 and 180")
        if self.accuracy_m is not None and not (
            math.isfinite(self.accuracy_m) and 0.0 <= self.accuracy_m <= MAX_ACCURACY_M
        ):
            raise InvalidInput(f"accuracy_m must be between 0 and {MAX_ACCURACY_M:g}")

    def live(self, now: datetime) -> bool:
        return now < self.expires_at
