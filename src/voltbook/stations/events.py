"""Facts the stations area publishes."""

from __future__ import annotations

from dataclasses import dataclass

from voltbook.core.bus import Event


@dataclass(frozen=True, slots=True)
class SitesImported(Event):
    source: str
    created: int
    updated: int
    skipped: int
