"""Adapters that let one domain area use another's use cases, wired by bootstrap.

Areas never import each other; where one needs what another does (a reservation needs a
charger to hold a connector), a small adapter here speaks both.
"""

from __future__ import annotations

from voltbook.core.errors import DomainError
from voltbook.reservations.model import Reservation
from voltbook.stations.commands import CancelReservation, GetConfiguration, ReserveNow
from voltbook.stations.fleet import FleetService

NO_ANSWER = "NoAnswer"


class FleetChargerHold:
    """ReserveNow and CancelReservation through the fleet's command link."""

    def __init__(self, fleet: FleetService, timeout_s: float = 30.0) -> None:
        self._fleet = fleet
        self._timeout = timeout_s
        self._zero_supported: dict[str, bool] = {}

    async def reserve(self, reservation: Reservation) -> str:
        try:
            station = await self._fleet.get(reservation.station_id)
            evse: int | None = reservation.evse_id
            if reservation.any_evse and (
                station.ocpp_version == "2.0.1"
                or await self._reserves_connector_zero(reservation.station_id)
            ):
                evse = None  # the charger keeps any fitting connector free
            command = ReserveNow(
                reservation_id=reservation.id,
                id_tag=reservation.id_tag,
                expires_at=reservation.ends_at,
                evse_id=evse,
            )
            answer = await self._fleet.command(reservation.station_id, command, self._timeout)
        except DomainError:  # offline, silent or a broken answer: the charger does not hold it
            return NO_ANSWER
        return answer.status or "Rejected"

    async def release(self, station_id: str, reservation_id: int) -> str:
        try:
            answer = await self._fleet.command(
                station_id, CancelReservation(reservation_id), self._timeout
            )
        except DomainError:
            return NO_ANSWER
        return answer.status or "Rejected"

    async def _reserves_connector_zero(self, station_id: str) -> bool:
        """OCPP 1.6: may connectorId 0 reserve "any connector"? Asked once per station."""
        if station_id not in self._zero_supported:
            answer = await self._fleet.command(
                station_id, GetConfiguration(("ReserveConnectorZeroSupported",)), self._timeout
            )
            keys = answer.response.get("configurationKey") or []
            self._zero_supported[station_id] = any(
                k.get("key") == "ReserveConnectorZeroSupported"
                and str(k.get("value", "")).lower() == "true"
                for k in keys
            )
        return self._zero_supported[station_id]
