"""Sites, stations and connectors as plain data, and the nearby-search rules."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from voltbook.core.errors import InvalidInput
from voltbook.core.geo import HALF_CIRCUMFERENCE_M, great_circle_m
from voltbook.stations.standards import Standard

MAX_NEARBY_LIMIT = 100
MAX_RADIUS_M = 20_037_509.0  # half the equator: every point on Earth is within it


class PowerType(StrEnum):
    AC = "AC"
    DC = "DC"


class ConnectorStatus(StrEnum):
    """OCPP 1.6 connector status, plus Unknown for places no station has reported for."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"
    UNKNOWN = "Unknown"


@dataclass(frozen=True, slots=True)
class Connector:
    station_id: str
    evse_id: int
    connector_id: int
    standard: Standard | None  # None: a live station reported it, no data set describes it
    power_type: PowerType | None
    max_power_kw: float | None
    status: ConnectorStatus = ConnectorStatus.UNKNOWN
    status_since: datetime | None = None
    error_code: str | None = None


@dataclass(frozen=True, slots=True)
class Station:
    id: str
    site_id: int | None
    online: bool = False
    last_seen: datetime | None = None
    vendor: str | None = None
    model: str | None = None
    firmware: str | None = None
    ocpp_version: str | None = None
    connectors: tuple[Connector, ...] = ()


@dataclass(frozen=True, slots=True)
class StationPlace:
    """A station where it stands, with its connectors' live status: one point of the
    operator's network map."""

    station_id: str
    site_id: int | None
    name: str | None  # the site's name; None for a station registered without a site
    city: str | None
    lat: float | None
    lon: float | None
    online: bool
    statuses: tuple[ConnectorStatus, ...]


@dataclass(frozen=True, slots=True)
class SiteDetails:
    """What a data source says about a place, independent of storage ids."""

    source: str
    source_id: str
    name: str
    address: str
    city: str
    region: str
    postal_code: str
    country: str
    lat: float
    lon: float
    operator: str | None
    access: str
    opening_hours: str | None
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class Site:
    id: int
    details: SiteDetails
    stations: tuple[Station, ...] = ()


@dataclass(frozen=True, slots=True)
class NearbyQuery:
    lat: float
    lon: float
    radius_m: float
    limit: int
    standards: frozenset[Standard] = field(default_factory=frozenset)
    min_power_kw: float | None = None
    power_type: PowerType | None = None
    available_only: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat) and -90.0 <= self.lat <= 90.0):
            raise InvalidInput("lat must be between -90 and 90")
        if not (math.isfinite(self.lon) and -180.0 <= self.lon <= 180.0):
            raise InvalidInput("lon must be between -180 and 180")
        if not (math.isfinite(self.radius_m) and 0.0 <= self.radius_m <= MAX_RADIUS_M):
            raise InvalidInput(f"radius_m must be between 0 and {MAX_RADIUS_M:.0f}")
        if not 1 <= self.limit <= MAX_NEARBY_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_NEARBY_LIMIT}")
        if self.min_power_kw is not None and not (
            math.isfinite(self.min_power_kw) and self.min_power_kw >= 0
        ):
            raise InvalidInput("min_power_kw must be a non-negative number")

    @property
    def search_radius_m(self) -> float:
        """The radius the storage has to cover: never more than half the Earth's circumference."""
        return min(self.radius_m, HALF_CIRCUMFERENCE_M)

    def connector_matches(self, connector: Connector, station_online: bool) -> bool:
        """Whether one connector satisfies every connector filter of this query."""
        if self.standards and connector.standard not in self.standards:
            return False
        if self.power_type is not None and connector.power_type is not self.power_type:
            return False
        if self.min_power_kw is not None and (
            connector.max_power_kw is None or connector.max_power_kw < self.min_power_kw
        ):
            return False
        return not self.available_only or (
            station_online and connector.status is ConnectorStatus.AVAILABLE
        )

    @property
    def filters_connectors(self) -> bool:
        return bool(
            self.standards
            or self.power_type is not None
            or self.min_power_kw is not None
            or self.available_only
        )


@dataclass(frozen=True, slots=True)
class SitePoint:
    """A candidate site from storage: just enough to rank it."""

    site_id: int
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class NearbySite:
    site: Site
    distance_m: float


def rank_nearest(query: NearbyQuery, candidates: list[SitePoint]) -> list[tuple[SitePoint, float]]:
    """The `limit` candidates within the radius, nearest first, ties broken by site id."""
    scored = [
        (point, great_circle_m(query.lat, query.lon, point.lat, point.lon)) for point in candidates
    ]
    return rank_scored(query, scored)


def rank_scored(
    query: NearbyQuery, scored: list[tuple[SitePoint, float]]
) -> list[tuple[SitePoint, float]]:
    """`rank_nearest` of candidates whose great-circle distance from the query's point is
    known already (each with its `great_circle_m`)."""
    within = [item for item in scored if item[1] <= query.radius_m]
    within.sort(key=lambda item: (item[1], item[0].site_id))
    return within[: query.limit]
