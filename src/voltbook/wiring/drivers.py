"""What the drivers area (vehicles) hears from other areas."""

from __future__ import annotations

from voltbook.charging.events import SessionSocMeasured, SessionStopped
from voltbook.drivers.vehicle_model import ChargingSessionRef
from voltbook.drivers.vehicles import VehicleService


class VehicleReactions:
    """A charger's SoC reading reaches the vehicle being charged (which one: see
    `ChargingSessionRef`)."""

    def __init__(self, vehicles: VehicleService) -> None:
        self._vehicles = vehicles

    async def soc_measured(self, event: SessionSocMeasured) -> None:
        session = ChargingSessionRef(
            event.station_id,
            event.session_id,
            event.evse_id,
            event.id_tag,
            event.reservation_id,
            event.started_at,
        )
        await self._vehicles.charger_soc(session, event.soc_percent, event.at)

    async def session_stopped(self, event: SessionStopped) -> None:
        self._vehicles.session_ended(event.station_id, event.session_id)
