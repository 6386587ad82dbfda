"""What the stations area needs from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

from voltbook.stations.model import NearbyQuery, PowerType, Site, SiteDetails, SitePoint
from voltbook.stations.standards import Standard


@dataclass(frozen=True, slots=True)
class ConnectorPlan:
    evse_id: int
    connector_id: int
    standard: Standard
    power_type: PowerType
    max_power_kw: float | None


@dataclass(frozen=True, slots=True)
class SitePlan:
    """A site as a data source describes it, with the one station and connectors it implies."""

    details: SiteDetails
    station_id: str
    connectors: tuple[ConnectorPlan, ...]


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    created: int = 0
    updated: int = 0


class SiteRepository(Protocol):
    async def nearest_candidates(self, query: NearbyQuery) -> list[SitePoint]:
        """Sites with a connector matching the query that may be among its `limit` nearest.

        Must contain every matching site that is among the exact nearest within the radius;
        may contain more. The caller ranks them with the exact distance.
        """
        ...

    async def get_many(self, site_ids: Sequence[int]) -> dict[int, Site]:
        """Sites with their stations and connectors, keyed by id; unknown ids are left out."""
        ...

    async def upsert_imported(self, plans: Sequence[SitePlan]) -> UpsertCounts:
        """Create or update sites keyed by (source, source_id), never duplicating one."""
        ...

    async def count(self) -> int:
        """Number of sites."""
        ...


class StationsUnitOfWork(Protocol):
    @property
    def sites(self) -> SiteRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""
        ...

    async def commit(self) -> None: ...


class StationsUowFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> StationsUnitOfWork: ...
