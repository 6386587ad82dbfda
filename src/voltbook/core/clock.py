"""Time comes from an injected clock so that tests control it.

`ScaledClock` runs faster than real time, for a city simulation only (see ADR 0020): its
`now()` and `monotonic()` advance `scale` simulated seconds per real second, and
`real_seconds` turns a domain interval (a background loop's period, a scheduled job's
poll) into the real seconds to sleep for. Network time-outs and pings stay in real time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

# The shortest real pause a scaled loop takes, so that a fast clock does not spin a core.
MIN_REAL_PAUSE_S = 0.02


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary point, never going backwards."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class ScaledClock:
    """Simulated time: `origin` at the real (Unix) instant `anchor`, then `scale` times
    faster than real time. Two processes given the same three numbers read the same time."""

    def __init__(self, scale: float, origin: datetime | None = None, anchor: float | None = None):
        if not scale > 0:
            raise ValueError("the time scale must be positive")
        self.scale = float(scale)
        self.anchor = time.time() if anchor is None else float(anchor)
        self.origin = origin or datetime.fromtimestamp(self.anchor, UTC)
        if self.origin.tzinfo is None:
            raise ValueError("the time origin must carry a timezone")
        self._mono0 = time.monotonic() - (time.time() - self.anchor)

    def now(self) -> datetime:
        return self.origin + timedelta(seconds=(time.time() - self.anchor) * self.scale)

    def monotonic(self) -> float:
        return (time.monotonic() - self._mono0) * self.scale


def real_seconds(clock: object, seconds: float) -> float:
    """The real pause that lasts `seconds` on `clock` (no shorter than MIN_REAL_PAUSE_S once
    scaled); any other clock runs in real time."""
    if isinstance(clock, ScaledClock) and clock.scale != 1.0:
        return max(MIN_REAL_PAUSE_S, seconds / clock.scale)
    return seconds
