"""In-memory implementations of the ports, for unit tests (no database, no network).

Every fake keeps to the contract its port documents, and no more:

- `FakeClock` gives a wall clock and a monotonic clock that move only when a test says so.
- `SequentialIds` hands out predictable ids.
- `InMemoryStationsStore` / `InMemoryDriverStore` hold the *committed* state. Their `uow`
  method is the unit-of-work factory the services take (`read_only=` keyword). A unit of
  work stages its writes; they become visible to other units of work only on `commit`, and
  are thrown away when the block is left without one.
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
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Self, TypeVar

from tests.unit.memory_uow import ReadOnlyViolation
from voltbook.core.bus import Event
from voltbook.core.errors import Conflict
from voltbook.drivers.model import Driver, Role
from voltbook.drivers.ports import SignInRepository
from voltbook.drivers.sign_ins import SignIn
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


class InMemoryStationsStore:
    """Committed sites. `uow` is a StationsUowFactory; `put` seeds a site directly."""

    def __init__(self) -> None:
        self.sites: dict[int, Site] = {}
        self.keys: dict[tuple[str, str], int] = {}
        self.commits = 0
        self.read_only_flags: list[bool] = []
        # Runs after every candidate search: lets a test act as a concurrent writer.
        self.after_candidates: Callable[[], None] | None = None
        self._last_id = 0

    def uow(self, *, read_only: bool = False) -> InMemoryStationsUow:
        self.read_only_flags.append(read_only)
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

    def apply(self, sites: dict[int, Site], keys: dict[tuple[str, str], int]) -> None:
        self.sites.update(sites)
        self.keys.update(keys)
        self.commits += 1


class InMemorySiteRepository:
    """SiteRepository over a store; writes are staged in this object until `publish`."""

    def __init__(
        self, store: InMemoryStationsStore | None = None, *, writable: bool = True
    ) -> None:
        self._store = store if store is not None else InMemoryStationsStore()
        self._writable = writable
        self._written: dict[int, Site] = {}
        self._new_keys: dict[tuple[str, str], int] = {}
        self.get_many_calls: list[list[int]] = []
        self.upsert_calls: list[int] = []

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
        matching = [site for site in self._visible().values() if _site_matches(query, site)]
        # The port promises no order: hand them out by descending id.
        matching.sort(key=lambda site: site.id, reverse=True)
        points = [SitePoint(site.id, site.details.lat, site.details.lon) for site in matching]
        if self._store.after_candidates is not None:
            self._store.after_candidates()
        return points

    async def get_many(self, site_ids: Sequence[int]) -> dict[int, Site]:
        self.get_many_calls.append(list(site_ids))
        visible = self._visible()
        return {site_id: visible[site_id] for site_id in site_ids if site_id in visible}

    async def upsert_imported(self, plans: Sequence[SitePlan]) -> UpsertCounts:
        if not self._writable:
            raise ReadOnlyViolation("upsert_imported in a read-only unit of work")
        self.upsert_calls.append(len(plans))
        by_key = {(plan.details.source, plan.details.source_id): plan for plan in plans}
        created = updated = 0
        for key, plan in by_key.items():
            site_id = self._new_keys.get(key, self._store.keys.get(key))
            if site_id is None:
                site_id = self._store.allocate_id()
                self._new_keys[key] = site_id
                previous = None
                created += 1
            else:
                previous = self._visible().get(site_id)
                updated += 1
            self._written[site_id] = site_from_plan(site_id, plan, previous)
        return UpsertCounts(created=created, updated=updated)

    async def count(self) -> int:
        return len(self._visible())

    # --- unit-of-work support -----------------------------------------------------------

    @property
    def has_staged_writes(self) -> bool:
        return bool(self._written or self._new_keys)

    def publish(self) -> None:
        """Make the staged writes visible to everyone (commit)."""
        self._store.apply(self._written, self._new_keys)
        self.discard()

    def discard(self) -> None:
        self._written = {}
        self._new_keys = {}

    def _visible(self) -> dict[int, Site]:
        return self._store.sites | self._written


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


class InMemoryStationsUow:
    def __init__(self, store: InMemoryStationsStore, *, read_only: bool = False) -> None:
        self._store = store
        self.read_only = read_only
        self._repository: InMemorySiteRepository | None = None
        self.committed = False

    @property
    def sites(self) -> InMemorySiteRepository:
        if self._repository is None:
            raise RuntimeError("the unit of work is not open")
        return self._repository

    async def __aenter__(self) -> Self:
        self._repository = InMemorySiteRepository(self._store, writable=not self.read_only)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._repository is not None:
            self._repository.discard()
        self._repository = None

    async def commit(self) -> None:
        self.sites.publish()
        self.committed = True


# --- drivers ----------------------------------------------------------------------------


class InMemoryDriverStore:
    """Committed accounts. `uow` is a DriversUowFactory."""

    def __init__(self) -> None:
        self.drivers: dict[str, Driver] = {}
        self.deleted: set[str] = set()  # tombstones: erased accounts
        self.sign_ins: dict[str, SignIn] = {}
        self.refresh_tokens: dict[str, tuple[str, datetime, datetime | None]] = {}
        self.commits = 0
        self.read_only_flags: list[bool] = []

    def uow(self, *, read_only: bool = False) -> InMemoryDriversUow:
        self.read_only_flags.append(read_only)
        return InMemoryDriversUow(self, read_only=read_only)

    def by_email(self, email: str) -> Driver | None:
        return next((d for d in self.drivers.values() if d.email == email), None)

    def apply(self, added: dict[str, Driver]) -> None:
        taken = {driver.email for driver in self.drivers.values()}
        clash = [driver.email for driver in added.values() if driver.email in taken]
        if clash:
            raise Conflict("an account with this e-mail address exists already")
        self.drivers.update(added)
        self.commits += 1


class InMemoryDriverRepository:
    """DriverRepository over a store; new accounts are staged until `publish`."""

    def __init__(self, store: InMemoryDriverStore | None = None, *, writable: bool = True) -> None:
        self._store = store if store is not None else InMemoryDriverStore()
        self._writable = writable
        self._added: dict[str, Driver] = {}

    async def add(self, driver: Driver) -> None:
        if not self._writable:
            raise ReadOnlyViolation("add in a read-only unit of work")
        if await self.by_email(driver.email) is not None:
            raise Conflict("an account with this e-mail address exists already")
        if await self.get(driver.id) is not None:
            raise Conflict(f"driver id {driver.id} exists already")
        self._added[driver.id] = driver

    async def by_email(self, email: str) -> Driver | None:
        staged = next((d for d in self._added.values() if d.email == email), None)
        return staged if staged is not None else self._store.by_email(email)

    async def get(self, driver_id: str) -> Driver | None:
        if driver_id in self._store.deleted:
            return None
        return self._added.get(driver_id) or self._store.drivers.get(driver_id)

    async def set_password(self, driver_id: str, password_hash: str) -> None:
        self._change(driver_id, password_hash=password_hash)

    async def set_role(self, driver_id: str, role: Role) -> None:
        self._change(driver_id, role=role)

    async def set_blocked(self, driver_id: str, blocked: bool) -> None:
        self._change(driver_id, blocked=blocked)

    async def erase(self, driver_id: str, at: datetime) -> None:
        self._change(driver_id, email=f"deleted-{driver_id}@deleted.invalid", password_hash="!")
        self._store.deleted.add(driver_id)

    def _change(self, driver_id: str, **changes: object) -> None:
        if not self._writable:
            raise ReadOnlyViolation("a change in a read-only unit of work")
        driver = self._store.drivers[driver_id]
        self._store.drivers[driver_id] = dataclasses.replace(driver, **changes)  # type: ignore[arg-type]

    def publish(self) -> None:
        added, self._added = self._added, {}
        self._store.apply(added)

    def discard(self) -> None:
        self._added = {}


class InMemoryDriversUow:
    def __init__(self, store: InMemoryDriverStore, *, read_only: bool = False) -> None:
        self._store = store
        self.read_only = read_only
        self._repository: InMemoryDriverRepository | None = None

    @property
    def drivers(self) -> InMemoryDriverRepository:
        if self._repository is None:
            raise RuntimeError("the unit of work is not open")
        return self._repository

    @property
    def sign_ins(self) -> SignInRepository:
        if self._repository is None:
            raise RuntimeError("the unit of work is not open")
        from tests.unit.sign_in_fakes import InMemorySignInRepository

        return InMemorySignInRepository(self._store, writable=not self.read_only)

    async def __aenter__(self) -> Self:
        self._repository = InMemoryDriverRepository(self._store, writable=not self.read_only)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._repository is not None:
            self._repository.discard()
        self._repository = None

    async def commit(self) -> None:
        self.drivers.publish()


if TYPE_CHECKING:
    # mypy checks here that every fake satisfies its port.
    from voltbook.core.clock import Clock
    from voltbook.core.ids import IdSource
    from voltbook.core.secrets import PasswordHasher
    from voltbook.drivers.ports import DriverRepository, DriversUnitOfWork, DriversUowFactory
    from voltbook.stations.ports import SiteRepository, StationsUnitOfWork, StationsUowFactory

    _clock: Clock = FakeClock()
    _ids: IdSource = SequentialIds()
    _hasher: PasswordHasher = PlainHasher()
    _sites: SiteRepository = InMemorySiteRepository()
    _stations_uow: StationsUnitOfWork = InMemoryStationsUow(InMemoryStationsStore())
    _stations_factory: StationsUowFactory = InMemoryStationsStore().uow
    _drivers: DriverRepository = InMemoryDriverRepository()
    _drivers_uow: DriversUnitOfWork = InMemoryDriversUow(InMemoryDriverStore())
    _drivers_factory: DriversUowFactory = InMemoryDriverStore().uow
