"""Alarms as plain data."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from voltbook.core.connectors import ConnectorRef
from voltbook.core.errors import Conflict


class AlarmKind(StrEnum):
    FAULTED = "faulted"
    OFFLINE = "offline"


class Severity(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Subject:
    """What an alarm is about: a whole station, or one connector of it."""

    station_id: str
    evse_id: int | None = None
    connector_id: int | None = None

    @classmethod
    def of(cls, connector: ConnectorRef) -> Subject:
        return cls(connector.station_id, connector.evse_id, connector.connector_id)


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
    # An operator saw it and took it in hand ("acknowledged"); it stays active until cleared.
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None  # the operator's account id

    @property
    def active(self) -> bool:
        return self.cleared_at is None

    def acknowledge(self, by: str, at: datetime) -> Alarm:
        """Taken in hand by operator `by`; once only (the first one stands)."""
        if self.acknowledged_at is not None:
            raise Conflict(f"alarm {self.id} is acknowledged already")
        return replace(self, acknowledged_at=at, acknowledged_by=by)

    @property
    def subject(self) -> Subject:
        return Subject(self.station_id, self.evse_id, self.connector_id)
