"""What the reservations area hears from other areas, and the bridges it uses: the charger
hold (through the fleet's commands) and the nearby alternatives (through the station search)."""

from __future__ import annotations

from voltbook.charging.events import SessionIdentified, SessionStarted
from voltbook.core.errors import DomainError
from voltbook.reservations.model import Alternative, Reservation
from voltbook.reservations.ports import NO_ANSWER
from voltbook.reservations.service import ReservationService
from voltbook.stations.commands import CancelReservation, Command, HoldConnector
from voltbook.stations.events import (
    ChargerHoldEnded,
    ConnectorStatusChanged,
    HoldEnd,
    StationConnected,
)
from voltbook.stations.fleet import FleetService
from voltbook.stations.model import ConnectorStatus, NearbyQuery
from voltbook.stations.service import StationService
from voltbook.stations.standards import Standard

_STANDARDS = frozenset(s.value for s in Standard)


class ReservationReactions:
    def __init__(self, reservations: ReservationService) -> None:
        self._reservations = reservations

    async def connector_lost(self, event: ConnectorStatusChanged) -> None:
        if event.status in (ConnectorStatus.FAULTED, ConnectorStatus.UNAVAILABLE):
            await self._reservations.connector_lost(
                event.station_id, event.evse_id, event.status.value.lower()
            )

    async def session_started(self, event: SessionStarted | SessionIdentified) -> None:
        """A session identified after it began (2.0.1, cable first) counts as started with
        its tag: it fulfils the holder's booking."""
        await self._reservations.session_started(
            event.station_id, event.evse_id, event.id_tag, event.reservation_id, event.at
        )

    async def hold_ended(self, event: ChargerHoldEnded) -> None:
        if event.why is HoldEnd.EXPIRED:
            await self._reservations.hold_expired(event.station_id, event.reservation_id)
        else:
            await self._reservations.hold_removed(event.station_id, event.reservation_id)

    async def station_back(self, event: StationConnected) -> None:
        await self._reservations.station_back(event.station_id)


class DriverBookings:
    """An account being deleted: its live bookings are cancelled first, so the chargers'
    holds are released before its data goes (a closing step of the accounts)."""

    def __init__(self, reservations: ReservationService) -> None:
        self._reservations = reservations

    async def cancel_live(self, driver_id: str) -> None:
        after: int | None = None
        while page := await self._reservations.page(driver_id, after=after, limit=100):
            for booking in page:
                if booking.status.live:
                    await self._reservations.cancel(booking.id, driver_id)
            after = page[-1].id


class FleetChargerHold:
    """The reservations area's `ChargerHold`: a hold and a release through the fleet's
    command link (how each OCPP version says "any connector" is the gateway's business)."""

    def __init__(self, fleet: FleetService, timeout_s: float = 30.0) -> None:
        self._fleet = fleet
        self._timeout = timeout_s

    async def reserve(self, reservation: Reservation) -> str:
        command = HoldConnector(
            reservation_id=reservation.id,
            id_tag=reservation.id_tag,
            expires_at=reservation.ends_at,
            evse_id=reservation.evse_id,
            any_evse=reservation.any_evse,
        )
        return await self._ask(reservation.station_id, command)

    async def release(self, station_id: str, reservation_id: int) -> str:
        return await self._ask(station_id, CancelReservation(reservation_id))

    async def _ask(self, station_id: str, command: Command) -> str:
        try:
            answer = await self._fleet.command(station_id, command, self._timeout)
        except DomainError:  # offline, silent or a broken answer: the charger does not hold it
            return NO_ANSWER
        return answer.status or "Rejected"


class NearbyAlternatives:
    """The nearest other sites with a free connector of a fitting standard."""

    def __init__(self, stations: StationService, fleet: FleetService, radius_m: float = 25_000):
        self._stations = stations
        self._fleet = fleet
        self._radius = radius_m

    async def near(self, station_id: str, plugs: frozenset[str], limit: int) -> list[Alternative]:
        try:
            station = await self._fleet.get(station_id)
            if station.site_id is None:
                return []
            site = await self._stations.get_site(station.site_id)
            query = NearbyQuery(
                site.details.lat,
                site.details.lon,
                self._radius,
                limit + 1,
                standards=frozenset(Standard(p) for p in plugs if p in _STANDARDS),
                available_only=True,
            )
            found = await self._stations.nearby(query)
        except DomainError:
            return []
        return [
            Alternative(item.site.stations[0].id, item.site.details.name, item.distance_m)
            for item in found
            if item.site.id != site.id and item.site.stations
        ][:limit]
