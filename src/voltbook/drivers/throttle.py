"""Sliding-window count of failed sign-ins, per account and per client address."""

from __future__ import annotations

import math
from collections import deque

from voltbook.core.clock import Clock

# Many distinct keys (a spray of addresses) must not grow memory without bound.
_SWEEP_ABOVE = 50_000


class SlidingWindowThrottle:
    """Refuses a key once it has `max_failures` failures within `window_s` seconds."""

    def __init__(self, clock: Clock, max_failures: int = 10, window_s: float = 60.0) -> None:
        self._clock = clock
        self._max = max_failures
        self._window = window_s
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, keys: list[str]) -> int:
        now = self._clock.monotonic()
        wait = 0.0
        for key in keys:
            times = self._prune(key, now)
            if times is not None and len(times) >= self._max:
                wait = max(wait, times[len(times) - self._max] + self._window - now)
        return math.ceil(wait) if wait > 0 else 0

    def record_failure(self, keys: list[str]) -> None:
        now = self._clock.monotonic()
        if len(self._failures) > _SWEEP_ABOVE:
            for stale in list(self._failures):
                self._prune(stale, now)
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)
            self._prune(key, now)

    def reset(self, keys: list[str]) -> None:
        for key in keys:
            self._failures.pop(key, None)

    def _prune(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times
