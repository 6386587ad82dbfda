"""What the alarms area hears from other areas."""

from __future__ import annotations

from voltbook.alarms.service import AlarmService
from voltbook.core.connectors import ConnectorRef
from voltbook.stations.events import ConnectorStatusChanged, StationConnected, StationDisconnected
from voltbook.stations.model import ConnectorStatus


class AlarmReactions:
    def __init__(self, alarms: AlarmService) -> None:
        self._alarms = alarms

    async def connector_status(self, event: ConnectorStatusChanged) -> None:
        connector = ConnectorRef(event.station_id, event.evse_id, event.connector_id)
        faulted = event.status is ConnectorStatus.FAULTED
        await self._alarms.connector_status(connector, faulted, event.error_code, event.at)

    async def station_offline(self, event: StationDisconnected) -> None:
        await self._alarms.station_offline(event.station_id, event.at)

    async def station_online(self, event: StationConnected) -> None:
        if event.resumed:  # no alarm was raised: it never counted as offline
            return
        await self._alarms.station_online(event.station_id, event.at)
