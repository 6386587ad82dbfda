"""Facts the stations area publishes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from voltbook.core.bus import Event
from voltbook.stations.model import ConnectorStatus


@dataclass(frozen=True, slots=True)
class SitesImported(Event):
    source: str
    created: int
    updated: int
    skipped: int


@dataclass(frozen=True, slots=True)
class StationConnected(Event):
    station_id: str
    ocpp_version: str
    at: datetime


@dataclass(frozen=True, slots=True)
class StationDisconnected(Event):
    station_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class StationBooted(Event):
    station_id: str
    vendor: str
    model: str
    firmware: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class ConnectorStatusChanged(Event):
    station_id: str
    evse_id: int
    connector_id: int
    status: ConnectorStatus
    previous: ConnectorStatus
    error_code: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class StationNotice(Event):
    """Something a station told that needs no state change: firmware, diagnostics, security."""

    station_id: str
    kind: str
    detail: str
    at: datetime
