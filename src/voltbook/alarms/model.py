"""Alarms as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AlarmKind(StrEnum):
    FAULTED = "faulted"
    OFFLINE = "offline"


class Severity(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Alarm:
    id: int
    station_id: str
    evse_id: int | None
    connector_id: int | None
    kind: AlarmKind
    code: str
    severity: Severity
    raised_at: datetime
    cleared_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.cleared_at is None
