"""In-memory ports of the reservations area, for unit tests (no database, no network).

They keep to what `storage/reservations.py` and the database promise, and no more:

- `ReservationStore` holds the *committed* state; `uow` is the ReservationsUowFactory the
  service takes. A write unit of work works on a private copy of that state and publishes it
  on `commit`; leaving the block without a commit throws its writes away (ids handed out
  meanwhile are not reused, like a database sequence). Writers are serialized, as SQLite's
  BEGIN IMMEDIATE serializes them. A read-only unit of work sees the latest committed state
  and refuses every write.
- The overlap guard is the database's: `add` and `save` raise `SlotTaken` when a live booking
  would overlap another live one on the same (station_id, evse_id), half-open windows.
  `add` raises `Conflict` for a second booking with one (driver, Idempotency-Key).
- `save` stores what the SQL UPDATE stores (connector, window, status) and appends only
  the history entries beyond those already stored, like the real repository.
- Jobs are claimed when due (due_at <= now), not done and not leased; claiming leases them
  and counts the attempt. `finish` of a job that is gone does nothing (an UPDATE of no row).
- The chargers' side and the alternatives are in charger_fakes.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Self

from tests.unit.memory_uow import MemoryStore, MemoryUnitOfWork, ReadOnlyViolation
from voltbook.core.errors import Conflict
from voltbook.reservations.model import Reservation, Status
from voltbook.reservations.ports import Busy, Evse, Job, JobKind, NewJob, SiteHours, SlotTaken


@dataclass(slots=True)
class StoredJob:
    id: int
    reservation_id: int
    kind: JobKind
    due_at: datetime
    attempts: int = 0
    locked_until: datetime | None = None
    done_at: datetime | None = None
    station_id: str | None = None

    @property
    def pending(self) -> bool:
        return self.done_at is None


@dataclass(slots=True)
class _State:
    reservations: dict[int, Reservation] = field(default_factory=dict)
    jobs: dict[int, StoredJob] = field(default_factory=dict)
    id_tags: dict[str, str] = field(default_factory=dict)

    def copy(self) -> _State:
        return _State(
            dict(self.reservations),
            {job_id: dataclasses.replace(job) for job_id, job in self.jobs.items()},
            dict(self.id_tags),
        )


Hook = Callable[[], Awaitable[None]]


class ReservationStore(MemoryStore[_State]):
    """Committed bookings and jobs, plus the stations, EVSEs and vehicles they refer to."""

    def __init__(self) -> None:
        super().__init__(_State())
        self.sites: dict[str, str] = {}  # station id -> site id
        self.evse_table: dict[tuple[str, int], Evse] = {}
        self.vehicles: dict[tuple[str, str], frozenset[str]] = {}
        # Awaited inside `evses_of()`: lets a test hold a booking in the middle of its
        # transaction.
        self.during_evses: Hook | None = None
        # Awaited at the start of `add_many()` with the writing repository: lets a test write
        # a rival booking first, or fail the statement.
        self.before_add_many: Callable[[InMemoryReservationRepository], Awaitable[None]] | None = (
            None
        )
        self._write_lock = asyncio.Lock()
        self._reservation_ids = itertools.count(1)
        self._job_ids = itertools.count(1)
        self._tag_numbers = itertools.count(1)

    def uow(self, *, read_only: bool = False) -> InMemoryReservationsUow:
        return InMemoryReservationsUow(self, read_only=read_only)

    # --- seeding ------------------------------------------------------------------------

    def add_station(self, station_id: str, site_id: str, evses: dict[int, Iterable[str]]) -> None:
        """A station at a site with EVSEs {evse_id: plugs}; every EVSE starts usable."""
        self.sites[station_id] = site_id
        for evse_id, plugs in evses.items():
            self.evse_table[(station_id, evse_id)] = Evse(
                station_id, evse_id, frozenset(plugs), usable=True
            )

    def set_usable(self, station_id: str, evse_id: int, usable: bool) -> None:
        evse = self.evse_table[(station_id, evse_id)]
        self.evse_table[(station_id, evse_id)] = dataclasses.replace(evse, usable=usable)

    def set_in_use(self, station_id: str, evse_id: int, in_use: bool) -> None:
        evse = self.evse_table[(station_id, evse_id)]
        self.evse_table[(station_id, evse_id)] = dataclasses.replace(evse, in_use=in_use)

    def add_vehicle(self, driver_id: str, vehicle_id: str, plugs: Iterable[str]) -> None:
        self.vehicles[(driver_id, vehicle_id)] = frozenset(plugs)

    # --- what tests read ----------------------------------------------------------------

    def committed(self, reservation_id: int) -> Reservation:
        return self.state.reservations[reservation_id]

    def pending_jobs(self, reservation_id: int) -> list[tuple[JobKind, datetime]]:
        """(kind, due_at) of the booking's jobs not done yet, in due order."""
        jobs = [
            job
            for job in self.state.jobs.values()
            if job.reservation_id == reservation_id and job.pending
        ]
        return [(job.kind, job.due_at) for job in sorted(jobs, key=lambda j: (j.due_at, j.id))]

    def lose_jobs(self, reservation_id: int, kind: JobKind) -> None:
        """Mark the booking's pending jobs of `kind` done, as if another node ran them."""
        for job in self.state.jobs.values():
            if job.reservation_id == reservation_id and job.kind is kind and job.pending:
                job.done_at = job.due_at

    # --- unit-of-work support -----------------------------------------------------------

    def next_reservation_id(self) -> int:
        return next(self._reservation_ids)

    def next_job_id(self) -> int:
        return next(self._job_ids)

    def next_tag(self) -> str:
        return f"VB{next(self._tag_numbers):010X}"

    def copy_state(self, state: _State) -> _State:
        return state.copy()


class InMemoryReservationRepository:
    """ReservationRepository over a state: the committed one (read-only) or a staged copy."""

    def __init__(self, store: ReservationStore, state: _State, *, writable: bool) -> None:
        self._store = store
        self._state = state
        self._writable = writable

    def _write(self, what: str) -> None:
        if not self._writable:
            raise ReadOnlyViolation(f"{what} in a read-only unit of work")

    def _check_overlap(self, candidate: Reservation) -> None:
        if not candidate.status.live:
            return
        for other in self._state.reservations.values():
            if (
                other.id != candidate.id
                and other.status.live
                and other.station_id == candidate.station_id
                and other.evse_id == candidate.evse_id
                and other.starts_at < candidate.ends_at
                and candidate.starts_at < other.ends_at
            ):
                raise SlotTaken("this connector is booked for that time")

    # --- bookings -----------------------------------------------------------------------

    async def add(self, reservation: Reservation) -> Reservation:
        self._write("add")
        self._check_overlap(dataclasses.replace(reservation, id=-1))
        if reservation.idempotency_key is not None and any(
            r.driver_id == reservation.driver_id
            and r.idempotency_key == reservation.idempotency_key
            for r in self._state.reservations.values()
        ):
            raise Conflict("a request with this Idempotency-Key is being processed")
        saved = dataclasses.replace(reservation, id=self._store.next_reservation_id())
        self._state.reservations[saved.id] = saved
        return saved

    async def add_many(
        self, reservations: list[Reservation], jobs: Sequence[Sequence[NewJob]] = ()
    ) -> list[Reservation | None]:
        if self._store.before_add_many is not None:
            await self._store.before_add_many(self)
        saved: list[Reservation | None] = []
        for reservation, theirs in zip(reservations, jobs or [()] * len(reservations), strict=True):
            try:
                stored = await self.add(reservation)
            except Conflict:  # SlotTaken too: the row is skipped, as ON CONFLICT DO NOTHING
                saved.append(None)
                continue
            saved.append(stored)
            for kind, due_at in theirs:
                await self.schedule(stored.id, kind, due_at)
        return saved

    async def get(self, reservation_id: int, *, lock: bool = False) -> Reservation | None:
        if lock:
            self._write("get(lock=True)")  # a lock is taken in a write unit of work only
        return self._state.reservations.get(reservation_id)

    async def by_keys(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Reservation]:
        wanted = set(keys)
        return {
            (r.driver_id, r.idempotency_key): r
            for r in self._state.reservations.values()
            if r.idempotency_key is not None and (r.driver_id, r.idempotency_key) in wanted
        }

    async def save(self, reservation: Reservation) -> None:
        self._write("save")
        stored = self._state.reservations.get(reservation.id)
        if stored is None:
            raise LookupError(f"reservation {reservation.id} was never added")
        updated = dataclasses.replace(
            stored,
            station_id=reservation.station_id,
            evse_id=reservation.evse_id,
            starts_at=reservation.starts_at,
            ends_at=reservation.ends_at,
            status=reservation.status,
            alternatives=reservation.alternatives,
            history=stored.history + reservation.history[len(stored.history) :],
        )
        self._check_overlap(updated)
        self._state.reservations[updated.id] = updated

    async def live_counts(self, driver_ids: list[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self._state.reservations.values():
            if r.driver_id in driver_ids and r.status.live:
                counts[r.driver_id] = counts.get(r.driver_id, 0) + 1
        return counts

    async def busy(self, station_id: str, start: datetime, end: datetime) -> list[Busy]:
        return (await self.busy_during([(station_id, start, end)])).get(station_id, [])

    async def busy_during(
        self, windows: list[tuple[str, datetime, datetime]]
    ) -> dict[str, list[Busy]]:
        found: dict[str, list[Busy]] = {}
        for r in self._by_id():
            if r.status.live and any(
                r.station_id == station and r.starts_at < end and r.ends_at > start
                for station, start, end in windows
            ):
                found.setdefault(r.station_id, []).append(
                    Busy(r.id, r.evse_id, r.starts_at, r.ends_at)
                )
        return found

    async def page(self, driver_id: str | None, after: int | None, limit: int) -> list[Reservation]:
        found = [
            r
            for r in reversed(self._by_id())
            if (driver_id is None or r.driver_id == driver_id) and (after is None or r.id < after)
        ]
        return found[:limit]

    async def live_at(self, station_id: str, at: datetime) -> list[Reservation]:
        return [
            r
            for r in reversed(self._by_id())
            if r.station_id == station_id
            and r.status.live
            and at < r.ends_at
            and (r.status is Status.HELD or r.starts_at <= at)
        ]

    async def id_tags_for(self, driver_ids: list[str]) -> dict[str, str]:
        tags: dict[str, str] = {}
        for driver_id in driver_ids:
            if driver_id not in self._state.id_tags:
                self._write("id_tags_for (new tag)")
                self._state.id_tags[driver_id] = self._store.next_tag()
            tags[driver_id] = self._state.id_tags[driver_id]
        return tags

    async def vehicle_standards(self, driver_id: str, vehicle_id: str) -> frozenset[str] | None:
        return self._store.vehicles.get((driver_id, vehicle_id))

    # --- jobs ---------------------------------------------------------------------------

    async def schedule(
        self, reservation_id: int, kind: JobKind, due_at: datetime, station_id: str | None = None
    ) -> None:
        self._write("schedule")
        job = StoredJob(
            self._store.next_job_id(), reservation_id, kind, due_at, station_id=station_id
        )
        self._state.jobs[job.id] = job

    def _due(self, now: datetime) -> list[StoredJob]:
        due = [
            job
            for job in self._state.jobs.values()
            if job.pending
            and job.due_at <= now
            and (job.locked_until is None or job.locked_until < now)
        ]
        return sorted(due, key=lambda job: (job.due_at, job.id))

    async def any_due(self, now: datetime) -> bool:
        return bool(self._due(now))

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[Job]:
        self._write("claim_due")
        claimed = self._due(now)[:limit]
        for job in claimed:
            job.locked_until = now + lease
            job.attempts += 1
        return [
            Job(j.id, j.reservation_id, j.kind, j.due_at, j.attempts, j.station_id) for j in claimed
        ]

    async def finish(self, job_id: int, at: datetime) -> None:
        self._write("finish")
        job = self._state.jobs.get(job_id)
        if job is not None:
            job.done_at = at

    async def retry_at(self, job_id: int, at: datetime) -> None:
        self._write("retry_at")
        job = self._state.jobs[job_id]
        job.due_at, job.locked_until = at, None

    async def hand_offs_now(self, station_id: str, now: datetime) -> int:
        self._write("hand_offs_now")
        woken = 0
        for job in self._state.jobs.values():
            reservation = self._state.reservations.get(job.reservation_id)
            if (
                job.kind is JobKind.HAND_OFF
                and job.done_at is None
                and job.due_at > now
                and job.locked_until is None
                and job.attempts > 0
                and reservation is not None
                and reservation.station_id == station_id
            ):
                job.due_at = now
                woken += 1
        return woken

    async def hand_off_tried(self, reservation_id: int) -> bool:
        return any(
            job.reservation_id == reservation_id
            and job.kind is JobKind.HAND_OFF
            and job.pending
            and job.attempts > 0
            for job in self._state.jobs.values()
        )

    async def drop_jobs(self, reservation_id: int, kinds: tuple[JobKind, ...]) -> None:
        self._write("drop_jobs")
        for job in self._state.jobs.values():  # marked done, never deleted, like the real one
            if job.reservation_id == reservation_id and job.kind in kinds and job.pending:
                job.done_at = job.due_at

    # --- what reservations need of stations --------------------------------------------

    async def sites_hours(self, station_ids: list[str]) -> dict[str, SiteHours]:
        return {}  # the fakes' stations stand at no site with stated hours

    async def evses_of(self, station_ids: list[str]) -> dict[str, list[Evse]]:
        if self._store.during_evses is not None:
            await self._store.during_evses()
        return {
            station_id: [e for e in self._evses(lambda _: True) if e.station_id == station_id]
            for station_id in station_ids
            if station_id in self._store.sites
        }

    async def site_evses(self, station_id: str) -> list[Evse]:
        site = self._store.sites.get(station_id)
        return self._evses(
            lambda evse: (
                evse.station_id == station_id
                or (site is not None and self._store.sites[evse.station_id] == site)
            )
        )

    def _evses(self, keep: Callable[[Evse], bool]) -> list[Evse]:
        return [evse for _, evse in sorted(self._store.evse_table.items()) if keep(evse)]

    def _by_id(self) -> list[Reservation]:
        return [self._state.reservations[key] for key in sorted(self._state.reservations)]


class InMemoryReservationsUow(MemoryUnitOfWork[_State]):
    """A write unit of work holds the store's write lock from enter to exit, like SQLite."""

    store: ReservationStore
    _repository: InMemoryReservationRepository | None = None
    _locked = False

    @property
    def reservations(self) -> InMemoryReservationRepository:
        if self._repository is None:
            raise RuntimeError("the unit of work is not open")
        return self._repository

    def open_repositories(self) -> None:
        self._repository = InMemoryReservationRepository(
            self.store, self.state, writable=not self.read_only
        )

    def close_repositories(self) -> None:
        self._repository = None

    async def __aenter__(self) -> Self:
        if not self.read_only:
            await self.store._write_lock.acquire()
            self._locked = True
        return await super().__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await super().__aexit__(exc_type, exc, tb)
        finally:
            if self._locked:
                self._locked = False
                self.store._write_lock.release()


if TYPE_CHECKING:
    # mypy checks here that every fake satisfies its port.
    from voltbook.reservations.ports import (
        ReservationRepository,
        ReservationsUnitOfWork,
        ReservationsUowFactory,
        SiteHours,
    )

    _repository: ReservationRepository = InMemoryReservationRepository(
        ReservationStore(), _State(), writable=True
    )
    _uow: ReservationsUnitOfWork = InMemoryReservationsUow(ReservationStore())
    _factory: ReservationsUowFactory = ReservationStore().uow
