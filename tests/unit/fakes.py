"""In-memory implementations of the ports, for unit tests (no database, no network).

Every fake keeps to the contract its port documents, and no more:

- `FakeClock` gives a wall clock and a monotonic clock that move only when a test says so.
- `SequentialIds` hands out predictable ids.
- `InMemoryStationsStore` holds the *committed* sites. Its `uow` method is the unit-of-work
  factory the services take (`read_only=` keyword), on the generic `MemoryUnitOfWork` (see
  memory_uow.py). Accounts and sign-ins are in account_fakes.py.
- `InMemorySiteRepository.nearest_candidates` returns every site with a matching connector,
  wherever it is (the port allows a superset) and in no useful order, so the domain has to
  do the ranking and the radius check itself.
- `PlainHasher` is a cheap stand-in for argon2 that still never stores the password.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from tests.unit.memory_uow import MemoryStore, MemoryUnitOfWork
from voltbook.core.bus import Event
from voltbook.stations.model import (
    Connector,
    NearbyQuery,
    NearbySite,
    Site,
    SitePoint,
    Station,
    rank_nearest,
)
from voltbook.stations.ports import SitePlan, UpsertCounts

# A fixed, ordinary instant; tests that verify JWTs use the real time instead (see
# `FakeClock.at_real_time`), because PyJWT checks `exp` against the system clock as well.
DEFAULT_START = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

E = TypeVar("E", bound=Event)


class FakeClock:
    """A clock that only moves when told to. `now()` is timezone-aware UTC."""

    def __init__(self, start: datetime = DEFAULT_START, monotonic_start: float = 10_000.0) -> None:
        self._now = _as_utc(start)
        self._monotonic = monotonic_start

    @classmethod
    def at_real_time(cls) -> FakeClock:
        """A fake clock that starts at the current real time, in whole seconds."""
        return cls(datetime.now(UTC).replace(microsecond=0))

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float) -> None:
        """Move both clocks forward."""
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        self._now += timedelta(seconds=seconds)
        self._monotonic += seconds

    def set_now(self, when: datetime) -> None:
        """Set the wall clock (it may jump either way); the monotonic clock stays put."""
        self._now = _as_utc(when)


def _as_utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("FakeClock needs a timezone-aware datetime")
    return when.astimezone(UTC)


class SequentialIds:
    """Ids `<prefix>-000001`, `<prefix>-000002`, … (unique and URL-safe)."""

    def __init__(self, prefix: str = "id") -> None:
        self._prefix = prefix
        self._next = 1
        self.issued: list[str] = []

    def new_id(self) -> str:
        value = f"{self._prefix}-{self._next:06d}"
        self._next += 1
        self.issued.append(value)
        return value


class EventRecorder:
    """A bus handler that keeps every event it is given: `bus.subscribe(Event, recorder)`."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of_type(self, event_type: type[E]) -> list[E]:
        return [event for event in self.events if isinstance(event, event_type)]


class PlainHasher:
    """Cheap PasswordHasher: "plain$" + sha256 hex. Records what it was asked to verify."""

    PREFIX = "plain$"

    def __init__(self) -> None:
        self.hashed: list[str] = []
        self.verified: list[str] = []

    def hash(self, password: str) -> str:
        self.hashed.append(password)
        return self.PREFIX + hashlib.sha256(password.encode()).hexdigest()

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        if not password_hash.startswith(self.PREFIX):
            return False
        expected = self.PREFIX + hashlib.sha256(password.encode()).hexdigest()
        return hmac.compare_digest(expected, password_hash)


# --- stations ---------------------------------------------------------------------------


@dataclass(slots=True)
class SitesState:
    sites: dict[int, Site] = field(default_factory=dict)
    keys: dict[tuple[str, str], int] = field(default_factory=dict)  # (source, id) -> site id

    def copy(self) -> SitesState:
        return SitesState(dict(self.sites), dict(self.keys))


class InMemoryStationsStore(MemoryStore[SitesState]):
    """Committed sites. `uow` is a StationsUowFactory; `put` seeds a site directly."""

    def __init__(self) -> None:
        super().__init__(SitesState())
        # Runs after every candidate search: lets a test act as a concurrent writer.
        self.after_candidates: Callable[[], None] | None = None
        self._last_id = 0

    @property
    def sites(self) -> dict[int, Site]:
        return self.state.sites

    @property
    def keys(self) -> dict[tuple[str, str], int]:
        return self.state.keys

    def copy_state(self, state: SitesState) -> SitesState:
        return state.copy()

    def uow(self, *, read_only: bool = False) -> InMemoryStationsUow:
        return InMemoryStationsUow(self, read_only=read_only)

    def allocate_id(self) -> int:
        """Like a database sequence: never reused, not rolled back."""
        self._last_id += 1
        return self._last_id

    def put(self, site: Site) -> Site:
        """Store a site as committed (for seeding states an import cannot produce)."""
        self.sites[site.id] = site
        self.keys[(site.details.source, site.details.source_id)] = site.id
        self._last_id = max(self._last_id, site.id)
        return site

    def delete(self, site_id: int) -> None:
        """Remove a committed site, as another transaction might."""
        site = self.sites.pop(site_id)
        del self.keys[(site.details.source, site.details.source_id)]


class InMemorySiteRepository:
    """SiteRepository in a unit of work; without one, it writes to the store at once."""

    def __init__(
        self,
        store: InMemoryStationsStore | None = None,
        *,
        uow: MemoryUnitOfWork[SitesState] | None = None,
    ) -> None:
        self._store = store if store is not None else InMemoryStationsStore()
        self._uow = uow
        self.get_many_calls: list[list[int]] = []
        self.upsert_calls: list[int] = []

    def _state(self) -> SitesState:
        return self._store.state if self._uow is None else self._uow.state

    # --- SiteRepository -----------------------------------------------------------------

    async def nearby(self, query: NearbyQuery) -> list[NearbySite]:
        ranked = rank_nearest(query, await self.nearest_candidates(query))
        found = await self.get_many([point.site_id for point, _ in ranked])
        return [
            NearbySite(site=found[point.site_id], distance_m=distance)
            for point, distance in ranked
            if point.site_id in found
        ]

    async def nearest_candidates(self, query: NearbyQuery) -> list[SitePoint]:
        matching = [site for site in self._state().sites.values() if _site_matches(query, site)]
        # The port promises no order: hand them out by descending id.
        matching.sort(key=lambda site: site.id, reverse=True)
        points = [SitePoint(site.id, site.details.lat, site.details.lon) for site in matching]
        if self._store.after_candidates is not None:
            self._store.after_candidates()
        return points

    async def get_many(self, site_ids: Sequence[int]) -> dict[int, Site]:
        self.get_many_calls.append(list(site_ids))
        visible = self._state().sites
        return {site_id: visible[site_id] for site_id in site_ids if site_id in visible}

    async def upsert_imported(self, plans: Sequence[SitePlan]) -> UpsertCounts:
        state = self._state() if self._uow is None else self._uow.writable("upsert_imported")
        self.upsert_calls.append(len(plans))
        by_key = {(plan.details.source, plan.details.source_id): plan for plan in plans}
        created = updated = 0
        for key, plan in by_key.items():
            site_id = state.keys.get(key)
            if site_id is None:
                site_id = state.keys[key] = self._store.allocate_id()
                created += 1
            else:
                updated += 1
            state.sites[site_id] = site_from_plan(site_id, plan, state.sites.get(site_id))
        return UpsertCounts(created=created, updated=updated)

    async def count(self) -> int:
        return len(self._state().sites)


def _site_matches(query: NearbyQuery, site: Site) -> bool:
    if not query.filters_connectors:
        return True
    return any(
        query.connector_matches(connector, station.online)
        for station in site.stations
        for connector in station.connectors
    )


def site_from_plan(site_id: int, plan: SitePlan, previous: Site | None) -> Site:
    """The site a plan describes; a station that has spoken OCPP keeps its own connectors."""
    connectors = tuple(
        Connector(
            station_id=plan.station_id,
            evse_id=c.evse_id,
            connector_id=c.connector_id,
            standard=c.standard,
            power_type=c.power_type,
            max_power_kw=c.max_power_kw,
        )
        for c in plan.connectors
    )
    stations = {station.id: station for station in (previous.stations if previous else ())}
    old = stations.get(plan.station_id)
    if old is None:
        stations[plan.station_id] = Station(
            id=plan.station_id, site_id=site_id, connectors=connectors
        )
    elif old.ocpp_version is None:
        stations[plan.station_id] = dataclasses.replace(old, connectors=connectors)
    return Site(
        id=site_id,
        details=plan.details,
        stations=tuple(stations[key] for key in sorted(stations)),
    )


class InMemoryStationsUow(MemoryUnitOfWork[SitesState]):
    store: InMemoryStationsStore
    _repository: InMemorySiteRepository | None = None

    @property
    def sites(self) -> InMemorySiteRepository:
        if self._repository is None:
            raise RuntimeError("the unit of work is not open")
        return self._repository

    def open_repositories(self) -> None:
        self._repository = InMemorySiteRepository(self.store, uow=self)

    def close_repositories(self) -> None:
        self._repository = None


if TYPE_CHECKING:
    # mypy checks here that every fake satisfies its port.
    from voltbook.core.clock import Clock
    from voltbook.core.ids import IdSource
    from voltbook.core.secrets import PasswordHasher
    from voltbook.stations.ports import SiteRepository, StationsUnitOfWork, StationsUowFactory

    _clock: Clock = FakeClock()
    _ids: IdSource = SequentialIds()
    _hasher: PasswordHasher = PlainHasher()
    _sites: SiteRepository = InMemorySiteRepository()
    _stations_uow: StationsUnitOfWork = InMemoryStationsUow(InMemoryStationsStore())
    _stations_factory: StationsUowFactory = InMemoryStationsStore().uow
