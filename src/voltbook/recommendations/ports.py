"""What the recommendations area needs from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from voltbook.recommendations.model import ChargePoint, OfferSummary, VehicleFacts


class Vehicles(Protocol):
    async def facts(self, driver_id: str, vehicle_id: str) -> VehicleFacts:
        """The driver's own vehicle; NotFound for anyone else's."""
        ...


class Positions(Protocol):
    async def last(self, driver_id: str) -> tuple[float, float] | None:
        """The driver's last shared position (lat, lon), None when unknown or expired."""
        ...


class Chargers(Protocol):
    async def available(
        self, lat: float, lon: float, radius_m: float, standards: frozenset[str]
    ) -> list[ChargePoint]:
        """Connectors of these standards that live stations report Available, within the
        radius, at the nearest sites first (the search may stop at a number of sites)."""
        ...


class ActiveOffers(Protocol):
    async def at_stations(self, station_ids: Sequence[str]) -> dict[str, list[OfferSummary]]:
        """Offers running now at each of these stations (stations without any left out)."""
        ...
