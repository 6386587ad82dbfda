"""Facts the charging area publishes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from voltbook.core.bus import Event


@dataclass(frozen=True, slots=True)
class SessionStarted(Event):
    session_id: int
    station_id: str
    evse_id: int
    id_tag: str | None
    reservation_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class SessionIdentified(Event):
    """A running session that began without an id tag (OCPP 2.0.1, cable first) was
    authorized for one: what a start with that tag would have told."""

    session_id: int
    station_id: str
    evse_id: int
    id_tag: str
    reservation_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class SessionMetered(Event):
    session_id: int
    station_id: str
    energy_wh: float
    power_w: float | None
    soc_percent: float | None
    at: datetime


@dataclass(frozen=True, slots=True)
class SessionStopped(Event):
    session_id: int
    station_id: str
    energy_wh: float
    reason: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class SessionSocMeasured(Event):
    """A meter sample of a running session carried the vehicle's state of charge."""

    session_id: int
    station_id: str
    evse_id: int
    id_tag: str | None
    reservation_id: int | None
    started_at: datetime
    soc_percent: float
    at: datetime
