"""Facts the stations area publishes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

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
    """`resumed`: back within the offline grace period (ADR 0034); it was never written
    offline, so nothing that follows "offline" (an alarm, a history span) happened."""

    station_id: str
    ocpp_version: str
    at: datetime
    resumed: bool = False


@dataclass(frozen=True, slots=True)
class StationDisconnected(Event):
    """The station is offline: gone, and not back within the grace period (ADR 0034)."""

    station_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class StationConnectionClosed(Event):
    """The station's connection to this node ended, at once (where its socket is: the
    cluster's routing of commands); it may be back soon, so it is not yet offline."""

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


class HoldEnd(StrEnum):
    """Why a charger stopped holding a reservation on its own (OCPP 2.0.1 tells; 1.6 not)."""

    EXPIRED = "expired"  # its expiry time passed
    REMOVED = "removed"  # dropped for a reason of its own (a fault, out of service)


@dataclass(frozen=True, slots=True)
class ChargerHoldEnded(Event):
    """The charger says it no longer holds the reservation with this id."""

    station_id: str
    reservation_id: int
    why: HoldEnd
    at: datetime


@dataclass(frozen=True, slots=True)
class StationNotice(Event):
    """Something a station told that needs no state change: firmware, diagnostics, security."""

    station_id: str
    kind: str
    detail: str
    at: datetime


@dataclass(frozen=True, slots=True)
class SitesChanged(Event):
    """What a search shows of these sites changed on the node that publishes this (a
    connector's status, a station connecting, leaving or booting): every other node's site
    catalog reads them again (docs/adr/0022)."""

    cluster_wide: ClassVar[bool] = True
    site_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class StationPasswordChanged(Event):
    """A station's accepted password changed (a rotation ended, or a new one was given):
    every node forgets the password it had checked for that station (docs/adr/0025)."""

    cluster_wide: ClassVar[bool] = True
    station_id: str
