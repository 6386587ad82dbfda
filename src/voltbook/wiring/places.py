"""Where a station is, for the areas that place things on a map (notices, recommendations)."""

from __future__ import annotations

from voltbook.core.errors import DomainError
from voltbook.stations.fleet import FleetService
from voltbook.stations.service import StationService


class StationPlaces:
    """Where a station is (its site's position), remembered: sites do not move, and a
    station's site is given when it is made (none: it is in no place, for good)."""

    def __init__(self, fleet: FleetService, stations: StationService) -> None:
        self._fleet = fleet
        self._stations = stations
        self._known: dict[str, tuple[float, float] | None] = {}

    async def position(self, station_id: str) -> tuple[float, float] | None:
        if station_id not in self._known:
            try:
                station = await self._fleet.get(station_id)
                if station.site_id is None:  # a station's site is set when it is made
                    self._known[station_id] = None
                    return None
                site = await self._stations.get_site(station.site_id)
            except DomainError:
                return None
            self._known[station_id] = (site.details.lat, site.details.lon)
        return self._known[station_id]
