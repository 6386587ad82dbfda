"""The time buckets operator figures come in (a query parameter of several routes)."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum


class Bucket(StrEnum):
    HOUR = "hour"
    DAY = "day"

    @property
    def size(self) -> timedelta:
        return timedelta(hours=1) if self is Bucket.HOUR else timedelta(days=1)
