"""What the stations area hears: the status history every connector state change, and every
station going and coming (see stations/history.py and stations/states.py); the message
journal a station gone; the fleet a station's password changed on any node."""

from __future__ import annotations

from voltbook.journal.service import JournalService
from voltbook.stations.events import (
    ConnectorStatusChanged,
    StationConnected,
    StationDisconnected,
    StationPasswordChanged,
)
from voltbook.stations.fleet import FleetService
from voltbook.stations.history import StatusHistoryService


class HistoryReactions:
    def __init__(self, history: StatusHistoryService, journal: JournalService) -> None:
        self._history = history
        self._journal = journal

    async def connector_status(self, event: ConnectorStatusChanged) -> None:
        self._history.connector_changed(
            event.station_id, event.evse_id, event.connector_id, event.status, event.at
        )

    async def station_online(self, event: StationConnected) -> None:
        if event.resumed:  # its online span never ended
            return
        self._history.station_online(event.station_id, True, event.at)

    async def station_offline(self, event: StationDisconnected) -> None:
        self._history.station_online(event.station_id, False, event.at)
        self._journal.forget(event.station_id)


class CredentialReactions:
    def __init__(self, fleet: FleetService) -> None:
        self._fleet = fleet

    async def password_changed(self, event: StationPasswordChanged) -> None:
        self._fleet.forget_password(event.station_id)
