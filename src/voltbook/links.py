"""Adapters that let one domain area use another's use cases, wired by bootstrap.

Areas never import each other; where one needs what another does (a reservation needs a
charger to hold a connector), a small adapter here speaks both.
"""

from __future__ import annotations

from voltbook.core.bus import EventBus
from voltbook.core.clock import Clock
from voltbook.core.errors import DomainError
from voltbook.offers.model import Offer
from voltbook.offers.service import outgoing
from voltbook.reservations.model import Reservation
from voltbook.stations.commands import CancelReservation, GetConfiguration, ReserveNow
from voltbook.stations.fleet import FleetService
from voltbook.stations.model import NearbyQuery
from voltbook.stations.service import StationService
from voltbook.stations.standards import Standard

NO_ANSWER = "NoAnswer"
_STANDARDS = frozenset(s.value for s in Standard)


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


class NearbyAlternatives:
    """The nearest other sites with a free connector of a fitting standard."""

    def __init__(self, stations: StationService, fleet: FleetService, radius_m: float = 25_000):
        self._stations = stations
        self._fleet = fleet
        self._radius = radius_m

    async def near(self, station_id: str, plugs: frozenset[str], limit: int) -> list[str]:
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
            f"{item.site.stations[0].id} {item.site.details.name} ({item.distance_m:.0f} m)"
            for item in found
            if item.site.id != site.id and item.site.stations
        ][:limit]


class BusOfferOutlet:
    """Hands an offer to the notices side as an `OfferSent` event on the bus.

    Whoever subscribes to OfferSent (the notices area) turns it into a live notice, or a
    Web Push message when the app is closed. The channel recorded is "notice": handed to the
    notice outbox, which picks live or push.
    """

    CHANNEL = "notice"

    def __init__(self, bus: EventBus, clock: Clock) -> None:
        self._bus = bus
        self._clock = clock

    async def send(
        self, driver_id: str, offer: Offer, station_id: str | None, delivery_id: int
    ) -> str:
        await self._bus.publish(
            outgoing(offer, delivery_id, driver_id, station_id, self._clock.now())
        )
        return self.CHANNEL
