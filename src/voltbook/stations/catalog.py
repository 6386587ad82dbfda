"""Every site in memory, so that a nearby search needs no database round trip.

The catalog holds the same immutable `Site` objects the repository builds, by id, with a
`SiteIndex` of their positions; a search is an index lookup and the exact ranking, and its
answer is the one the SQL search gives for the same rows (docs/adr/0022). What keeps it
current is `CatalogSync`; until the catalog has been filled, or when it has not been
brought up to date within its staleness bound, `fresh` says so and searches go to the
database instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from voltbook.stations.index import SiteIndex
from voltbook.stations.model import ConnectorStatus, NearbyQuery, NearbySite, Site
from voltbook.stations.standards import Standard


class SiteCatalog:
    """Sites by id with a spatial index; the stations each belongs to, by station id."""

    def __init__(self, max_age_s: float = 1.0) -> None:
        self.max_age_s = max_age_s
        self._sites: dict[int, Site] = {}
        # Per site, the standards of its connectors, and of those a live station reports
        # Available: what the common filters ask, answered by one set operation.
        self._kinds: dict[int, tuple[frozenset[Standard | None], frozenset[Standard | None]]] = {}
        self._station_sites: dict[str, int] = {}
        self._index = SiteIndex()
        self._checked_at: float | None = None  # monotonic time the data was last known current

    def __len__(self) -> int:
        return len(self._sites)

    def fresh(self, now: float) -> bool:
        """Whether every change committed `max_age_s` ago or earlier is in the catalog."""
        return self._checked_at is not None and now - self._checked_at <= self.max_age_s

    def checked(self, as_of: float) -> None:
        """Every change committed before monotonic time `as_of` is in the catalog now."""
        if self._checked_at is None or as_of > self._checked_at:
            self._checked_at = as_of

    def get(self, site_id: int) -> Site | None:
        return self._sites.get(site_id)

    def site_of_station(self, station_id: str) -> int | None:
        return self._station_sites.get(station_id)

    def site_ids(self) -> set[int]:
        return set(self._sites)

    def load(self, sites: Iterable[Site]) -> None:
        """Replace everything with these sites (the index is built once, not site by site)."""
        self._sites = {site.id: site for site in sites}
        self._kinds = {site.id: _kinds(site) for site in self._sites.values()}
        self._station_sites = {
            station.id: site.id for site in self._sites.values() for station in site.stations
        }
        self._index = SiteIndex(
            (site.id, site.details.lat, site.details.lon) for site in self._sites.values()
        )

    def put(self, site: Site) -> None:
        """Add a site, or replace what the catalog holds of it."""
        old = self._sites.get(site.id)
        if old is not None:
            for station in old.stations:
                self._station_sites.pop(station.id, None)
        self._sites[site.id] = site
        self._kinds[site.id] = _kinds(site)
        for station in site.stations:
            self._station_sites[station.id] = site.id
        self._index.put(site.id, site.details.lat, site.details.lon)

    def put_many(self, sites: Iterable[Site]) -> None:
        """`put` each; many at once (an import) build the index once instead."""
        sites = list(sites)
        if len(sites) <= max(256, len(self._sites) // 16):
            for site in sites:
                self.put(site)
            return
        merged = dict(self._sites)
        merged.update((site.id, site) for site in sites)
        self.load(merged.values())

    def remove(self, site_id: int) -> None:
        old = self._sites.pop(site_id, None)
        self._kinds.pop(site_id, None)
        if old is not None:
            for station in old.stations:
                if self._station_sites.get(station.id) == site_id:
                    del self._station_sites[station.id]
            self._index.discard(site_id)

    def nearby(self, query: NearbyQuery) -> list[NearbySite]:
        """What `StationService.nearby` answers, from memory: the matching sites within the
        radius, nearest first by great-circle distance, ties by id."""
        sites = self._sites
        found = self._index.nearest(
            query.lat, query.lon, query.radius_m, query.limit, self._filter(query)
        )
        return [NearbySite(site=sites[site_id], distance_m=distance) for site_id, distance in found]

    def _filter(self, query: NearbyQuery) -> Callable[[int], bool] | None:
        """Whether a site has a connector the query accepts, by site id (None: every site)."""
        if not query.filters_connectors:
            return None
        kinds, wanted = self._kinds, query.standards
        if query.min_power_kw is None and query.power_type is None:
            if query.available_only and not wanted:
                return lambda site_id: bool(kinds[site_id][1])
            if query.available_only:
                return lambda site_id: not kinds[site_id][1].isdisjoint(wanted)
            return lambda site_id: not kinds[site_id][0].isdisjoint(wanted)
        sites = self._sites

        def matches(site_id: int) -> bool:
            return any(
                query.connector_matches(connector, station.online)
                for station in sites[site_id].stations
                for connector in station.connectors
            )

        return matches


def _kinds(site: Site) -> tuple[frozenset[Standard | None], frozenset[Standard | None]]:
    plugs = [(station, connector) for station in site.stations for connector in station.connectors]
    return (
        frozenset(connector.standard for _, connector in plugs),
        frozenset(
            connector.standard
            for station, connector in plugs
            if station.online and connector.status is ConnectorStatus.AVAILABLE
        ),
    )
