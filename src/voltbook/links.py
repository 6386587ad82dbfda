"""Adapters that let one domain area use another's use cases, wired by bootstrap.

Areas never import each other; where one needs what another does (a reservation needs a
charger to hold a connector), a small adapter here speaks both.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

from voltbook.core.bus import EventBus
from voltbook.core.clock import Clock
from voltbook.core.errors import DomainError
from voltbook.drivers.privacy import PrivacyService
from voltbook.drivers.vehicles import VehicleService
from voltbook.offers.model import Offer
from voltbook.offers.service import outgoing
from voltbook.recommendations.model import ChargePoint, VehicleFacts
from voltbook.reservations.model import Alternative, Reservation
from voltbook.reservations.ports import NO_ANSWER
from voltbook.stations.commands import CancelReservation, GetConfiguration, ReserveNow
from voltbook.stations.fleet import FleetService
from voltbook.stations.model import MAX_NEARBY_LIMIT, NearbyQuery
from voltbook.stations.service import StationService
from voltbook.stations.standards import Standard

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


# --- recommendations: vehicles and positions (drivers), chargers (stations), offers -------


class AppQuery(Protocol):
    """Asks the driver's open app (the live channel's `ask`)."""

    async def __call__(
        self, driver_id: str, kind: str, timeout_s: float | None = None, **extra: Any
    ) -> dict[str, Any]: ...


# A vehicle state older than this is asked for again when the app is open.
FRESH_STATE = timedelta(minutes=15)


class DriverVehicles:
    """A driver's vehicle as recommendations need it; the range estimated from the SoC
    (at `kwh_per_km`) when the app or charger gave none. When the state is unknown or stale
    and the driver's app is open, the app is asked first (its answer is stored on the way)."""

    def __init__(
        self,
        vehicles: VehicleService,
        kwh_per_km: float,
        ask: AppQuery | None = None,
        clock: Clock | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        self._vehicles = vehicles
        self._kwh_per_km = kwh_per_km
        self._ask = ask
        self._clock = clock
        self._timeout = timeout_s

    async def facts(self, driver_id: str, vehicle_id: str) -> VehicleFacts:
        vehicle = await self._vehicles.get(driver_id, vehicle_id)
        stale = (
            vehicle.reported_at is None
            or self._clock is None
            or self._clock.now() - vehicle.reported_at > FRESH_STATE
        )
        if stale and self._ask is not None:
            try:
                await self._ask(driver_id, "vehicle", self._timeout, vehicle_id=vehicle_id)
            except DomainError:
                pass  # no app open, or it did not answer: what is stored will do
            else:
                vehicle = await self._vehicles.get(driver_id, vehicle_id)
        return VehicleFacts(
            id=vehicle.id,
            standards=frozenset(vehicle.standards),
            max_ac_kw=vehicle.max_ac_kw,
            max_dc_kw=vehicle.max_dc_kw,
            range_km=vehicle.estimated_range_km(self._kwh_per_km),
        )


class DriverPositions:
    """The driver's last shared position; when none is kept and the driver shares their
    position, their open app is asked where it is (the answer is kept on the way)."""

    def __init__(
        self, privacy: PrivacyService, ask: AppQuery | None = None, timeout_s: float = 5.0
    ) -> None:
        self._privacy = privacy
        self._ask = ask
        self._timeout = timeout_s

    async def last(self, driver_id: str) -> tuple[float, float] | None:
        position = await self._privacy.last_position(driver_id)
        if position is None and self._ask is not None:
            driver = await self._privacy.preferences(driver_id)
            if driver.consent_location:
                try:
                    await self._ask(driver_id, "location", self._timeout)
                except DomainError:
                    return None
                position = await self._privacy.last_position(driver_id)
        return None if position is None else (position.lat, position.lon)


class AvailableChargers:
    """Available connectors of fitting plugs at the nearest sites (the nearby search)."""

    def __init__(self, stations: StationService, max_sites: int = MAX_NEARBY_LIMIT) -> None:
        self._stations = stations
        self._max_sites = max_sites

    async def available(
        self, lat: float, lon: float, radius_m: float, standards: frozenset[str]
    ) -> list[ChargePoint]:
        plugs = frozenset(Standard(p) for p in standards if p in _STANDARDS)
        if not plugs:
            return []
        query = NearbyQuery(
            lat, lon, radius_m, self._max_sites, standards=plugs, available_only=True
        )
        return [
            ChargePoint(
                site_id=found.site.id,
                site_name=found.site.details.name,
                address=found.site.details.address,
                city=found.site.details.city,
                lat=found.site.details.lat,
                lon=found.site.details.lon,
                station_id=station.id,
                evse_id=connector.evse_id,
                connector_id=connector.connector_id,
                standard=connector.standard.value,
                power_type=connector.power_type.value if connector.power_type else None,
                max_power_kw=connector.max_power_kw,
                distance_m=found.distance_m,
            )
            for found in await self._stations.nearby(query)
            for station in found.site.stations
            for connector in station.connectors
            if connector.standard is not None and query.connector_matches(connector, station.online)
        ]
