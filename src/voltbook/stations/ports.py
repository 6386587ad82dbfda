"""What the stations area needs from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from voltbook.core.uow import UnitOfWork, UowFactory
from voltbook.stations.commands import Command, CommandAnswer
from voltbook.stations.model import (
    ConnectorStatus,
    NearbyQuery,
    NearbySite,
    PowerType,
    Site,
    SiteDetails,
    SitePoint,
    Station,
    StationPlace,
)
from voltbook.stations.standards import Standard
from voltbook.stations.states import StateChange


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
    async def nearby(self, query: NearbyQuery) -> list[NearbySite]:
        """The nearby search, the one port it is served through: matching sites within the
        radius, nearest first by great-circle distance (`rank_nearest` of the candidates)."""
        ...

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

    async def sites_of(self, station_ids: list[str]) -> dict[str, int | None]:
        """Each station's site (None: a station of no site); unknown stations left out."""
        ...


class StationsUnitOfWork(UnitOfWork, Protocol):
    @property
    def sites(self) -> SiteRepository: ...


StationsUowFactory = UowFactory[StationsUnitOfWork]


@dataclass(frozen=True, slots=True)
class StationCredentials:
    station_id: str
    password_hash: str | None
    # A rotation's new password, accepted beside the old one until the charger uses it.
    pending_password_hash: str | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    evse_id: int
    connector_id: int
    previous: ConnectorStatus


class StationRepository(Protocol):
    async def credentials(self, station_id: str) -> StationCredentials | None: ...

    async def add(self, station_id: str, site_id: int | None, password_hash: str) -> None:
        """Register a station; Conflict when the id is taken, NotFound for an unknown site."""
        ...

    async def set_password(self, station_id: str, password_hash: str) -> bool:
        """Replace the password (and forget any pending one); False when there is no such
        station."""
        ...

    async def set_pending_password(
        self, station_id: str, pending_hash: str | None, *, only_if: str | None = None
    ) -> bool:
        """Set (or with None clear) the pending password; with `only_if`, only while the
        pending one is still that hash. False when nothing changed."""
        ...

    async def promote_password(self, station_id: str, pending_hash: str) -> bool:
        """The pending password becomes the password, the old one is dropped; only while
        `pending_hash` is still the pending one. False when nothing changed."""
        ...

    async def record_boot(
        self, station_id: str, vendor: str, model: str, firmware: str | None, version: str
    ) -> None: ...

    async def set_online(self, station_id: str, at: datetime) -> None:
        """Write the station online (connected), heard from at `at`."""
        ...

    async def set_offline(self, station_id: str, since: datetime) -> bool:
        """Write the station offline as of `since`, unless it was heard from after that (a
        newer connection, maybe on another node); whether it was written."""
        ...

    async def touch(self, station_id: str, at: datetime) -> None:
        """Record that the station was heard from."""
        ...

    async def set_status(
        self,
        station_id: str,
        evse_id: int,
        connector_id: int | None,
        status: ConnectorStatus,
        error_code: str | None,
        at: datetime,
    ) -> list[StatusChange]:
        """Set the status of one connector, or of every connector of the EVSE when
        connector_id is None; create the connector when the station has none there.
        Returns the connectors whose status changed."""
        ...

    async def get(self, station_id: str) -> Station | None: ...

    async def page(self, after: str | None, limit: int) -> list[Station]:
        """Stations ordered by id, after the given id."""
        ...

    async def places(self) -> list[StationPlace]:
        """Every station with its site's place and its connectors' status, by id."""
        ...


class FleetUnitOfWork(UnitOfWork, Protocol):
    @property
    def stations(self) -> StationRepository: ...


FleetUowFactory = UowFactory[FleetUnitOfWork]


class StationLink(Protocol):
    """Reaches a station's live connection, wherever it is."""

    async def send(self, station_id: str, command: Command, timeout_s: float) -> CommandAnswer:
        """The station's answer; Unavailable when it is not connected, TimedOut when silent."""
        ...


class StatusHistoryRepository(Protocol):
    async def add_many(self, changes: list[StateChange]) -> None: ...

    async def changes(
        self, station_ids: list[str] | None, start: datetime, end: datetime
    ) -> list[StateChange]:
        """Changes within the range in time order, with each connector's and station's last
        change at or before `start`."""
        ...

    async def sites_of(self, station_ids: list[str]) -> dict[str, int | None]: ...

    async def purge(self, older_than: datetime) -> int: ...


class HistoryUnitOfWork(UnitOfWork, Protocol):
    @property
    def status_history(self) -> StatusHistoryRepository: ...


HistoryUowFactory = UowFactory[HistoryUnitOfWork]
