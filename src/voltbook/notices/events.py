"""Facts the notices area publishes; both cross nodes, since the app may be connected anywhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from voltbook.core.bus import Event


@dataclass(frozen=True, slots=True)
class NoticeQueued(Event):
    """A notice is in a driver's outbox; the node holding the driver's live channel sends it."""

    cluster_wide: ClassVar[bool] = True
    driver_id: str
    seq: int
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StationStatusBroadcast(Event):
    """A connector changed status: live channels following the station or its area hear it.

    The position is the site's (a public place), never a driver's.
    """

    cluster_wide: ClassVar[bool] = True
    station_id: str
    evse_id: int
    connector_id: int
    status: str
    at: datetime
    lat: float | None
    lon: float | None

    def message(self) -> dict[str, Any]:
        return {
            "type": "station.status",
            "station_id": self.station_id,
            "evse_id": self.evse_id,
            "connector_id": self.connector_id,
            "status": self.status,
            "at": self.at.isoformat(),
        }
