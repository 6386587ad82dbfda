"""Use case: which chargers should this vehicle go to now?

Candidates are connectors that fit one of the vehicle's plugs, that a live station reports
Available, and that lie within the vehicle's reach (range less the safety margin) of the
driver's position: the one given, else the driver's last shared position. They are ranked by
the score in `recommendations.model` (distance, power, active offers).
"""

from __future__ import annotations

import math

from voltbook.core.errors import Conflict, InvalidInput
from voltbook.recommendations.model import Recommendation, rank, reach_m
from voltbook.recommendations.ports import ActiveOffers, Chargers, Positions, Vehicles

MAX_RECOMMENDATIONS = 50


class PositionUnknown(InvalidInput):
    code = "position-unknown"


class RangeUnknown(Conflict):
    code = "range-unknown"


class RecommendationService:
    def __init__(
        self,
        vehicles: Vehicles,
        positions: Positions,
        chargers: Chargers,
        offers: ActiveOffers,
        margin_percent: float = 15.0,
    ) -> None:
        self._vehicles = vehicles
        self._positions = positions
        self._chargers = chargers
        self._offers = offers
        self._margin = margin_percent

    async def recommend(
        self,
        driver_id: str,
        vehicle_id: str,
        lat: float | None = None,
        lon: float | None = None,
        limit: int = 10,
    ) -> list[Recommendation]:
        if not 1 <= limit <= MAX_RECOMMENDATIONS:
            raise InvalidInput(f"limit must be between 1 and {MAX_RECOMMENDATIONS}")
        if (lat is None) != (lon is None):
            raise InvalidInput("give both lat and lon, or neither")
        vehicle = await self._vehicles.facts(driver_id, vehicle_id)
        if vehicle.range_km is None:
            raise RangeUnknown(
                "the vehicle's range and state of charge are unknown: report them first "
                f"(POST /api/v1/vehicles/{vehicle_id}/state)"
            )
        if lat is None or lon is None:
            shared = await self._positions.last(driver_id)
            if shared is None:
                raise PositionUnknown(
                    "no position known: send lat and lon, or share your position "
                    "(consent_location on, then PUT /api/v1/me/location)"
                )
            lat, lon = shared
        if not (
            math.isfinite(lat) and -90 <= lat <= 90 and math.isfinite(lon) and -180 <= lon <= 180
        ):
            raise InvalidInput("lat must be between -90 and 90, lon between -180 and 180")
        reach = reach_m(vehicle.range_km, self._margin)
        points = await self._chargers.available(lat, lon, reach, vehicle.standards)
        within = [p for p in points if p.distance_m <= reach and p.standard in vehicle.standards]
        stations = sorted({p.station_id for p in within})
        offers = await self._offers.at_stations(stations) if stations else {}
        return rank(within, vehicle, reach, offers, limit)
