"""Facts of the id-token area."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from voltbook.core.bus import Event


@dataclass(frozen=True, slots=True)
class IdTokenChanged(Event):
    """A token was added, blocked, unblocked, expired, renewed or assigned: stations'
    authorization lists may need an update."""

    token: str
    standing: str
    at: datetime


@dataclass(frozen=True, slots=True)
class IdTokenBlocked(IdTokenChanged):
    """Stations should forget the token from their authorization cache (ClearCache)."""
