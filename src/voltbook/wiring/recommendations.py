"""The bridges recommendations use: the driver's vehicle and position (drivers area, and the
open app through the live channel), available chargers (stations) and running offers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Protocol

from voltbook.core.clock import Clock
from voltbook.core.errors import DomainError
from voltbook.drivers.privacy import PrivacyService
from voltbook.drivers.vehicles import VehicleService
from voltbook.offers.service import OfferService
from voltbook.recommendations.model import ChargePoint, OfferSummary, VehicleFacts
from voltbook.stations.model import MAX_NEARBY_LIMIT, NearbyQuery
from voltbook.stations.service import StationService
from voltbook.stations.standards import Standard
from voltbook.wiring.places import StationPlaces

_STANDARDS = frozenset(s.value for s in Standard)


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


class RunningOffers:
    """Which offers run now at a station, for ranking recommendations."""

    def __init__(self, offers: OfferService, places: StationPlaces, clock: Clock) -> None:
        self._offers = offers
        self._places = places
        self._clock = clock

    async def at_stations(self, station_ids: Sequence[str]) -> dict[str, list[OfferSummary]]:
        places = {sid: await self._places.position(sid) for sid in dict.fromkeys(station_ids)}
        running = self._offers.running_at(places, self._clock.now())
        return {
            station_id: [
                OfferSummary(o.id, o.title, o.kind.value, o.value, o.ends_at)
                for o in offers
                if o.id is not None
            ]
            for station_id, offers in running.items()
        }
