"""Identifiers come from an injected source so that tests control them."""

from __future__ import annotations

import secrets
import time
from typing import Protocol


class IdSource(Protocol):
    def new_id(self) -> str:
        """A new unique, URL-safe identifier."""
        ...


class TimeOrderedIds:
    """UUIDv7-like ids: time-ordered (good for B-tree inserts) and unguessable."""

    def new_id(self) -> str:
        millis = time.time_ns() // 1_000_000
        rand = secrets.randbits(74)
        value = (
            (millis << 80)
            | (0x7 << 76)
            | ((rand >> 62) << 64)
            | (0b10 << 62)
            | (rand & ((1 << 62) - 1))
        )
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
