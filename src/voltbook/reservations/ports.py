"""What the reservations area needs from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from voltbook.core.connectors import EvseRef
from voltbook.core.errors import Conflict
from voltbook.core.uow import UnitOfWork, UowFactory
from voltbook.reservations.model import Alternative, Reservation


class SlotTaken(Conflict):
    """The database refused a second live reservation overlapping on one connector."""

    code = "slot-taken"


# What `ChargerHold.reserve` answers when the charger is offline or silent: the charger said
# nothing about the connector, so the booking is not moved within that charger.
NO_ANSWER = "NoAnswer"


class JobKind(StrEnum):
    HAND_OFF = "hand_off"  # send ReserveNow
    NO_SHOW = "no_show"  # grace passed: expire unless fulfilled
    RELEASE = "release"  # send CancelReservation to the charger


NewJob = tuple[JobKind, datetime]  # a job of a booking not stored yet: its kind, when due


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    reservation_id: int
    kind: JobKind
    due_at: datetime
    attempts: int
    station_id: str | None = None  # where a release goes (the booking may have moved since)


@dataclass(frozen=True, slots=True)
class Busy:
    reservation_id: int
    evse_id: int
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class Evse:
    """One EVSE as the reservations area sees it."""

    station_id: str
    evse_id: int
    standards: frozenset[str]
    usable: bool  # not Faulted or Unavailable
    in_use: bool = False  # a vehicle is at it now (Preparing, Charging … Finishing)

    @property
    def ref(self) -> EvseRef:
        return EvseRef(self.station_id, self.evse_id)


@dataclass(frozen=True, slots=True)
class SiteHours:
    text: str | None  # as the data set writes them
    timezone: str | None
    region: str | None


class ReservationRepository(Protocol):
    async def add(self, reservation: Reservation) -> Reservation:
        """Store a new booking and return it with its id; SlotTaken when it overlaps."""
        ...

    async def get(self, reservation_id: int, *, lock: bool = False) -> Reservation | None:
        """One booking; `lock` (in a write unit of work) keeps its row until the commit, so
        two changes of one booking (a cancel and a hand-off's answer, say) take turns
        instead of one overwriting the other (SQLite's writers take turns anyway)."""
        ...

    async def add_many(
        self, reservations: list[Reservation], jobs: Sequence[Sequence[NewJob]] = ()
    ) -> list[Reservation | None]:
        """Store new bookings in one go, each with its jobs (`jobs[n]` for booking n; none
        when left out): each with its id, or None where the database refused it (an
        overlap, or its Idempotency-Key taken meanwhile), and then none of its jobs."""
        ...

    async def by_keys(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Reservation]:
        """Bookings made with these (driver id, Idempotency-Key) pairs."""
        ...

    async def save(self, reservation: Reservation) -> None:
        """Store a changed booking (status, connector, history); SlotTaken on overlap."""
        ...

    async def live_counts(self, driver_ids: list[str]) -> dict[str, int]:
        """Live bookings per driver; the drivers' bookings queue up behind this transaction."""
        ...

    async def busy(self, station_id: str, start: datetime, end: datetime) -> list[Busy]:
        """Live bookings at the station overlapping [start, end)."""
        ...

    async def busy_during(
        self, windows: list[tuple[str, datetime, datetime]]
    ) -> dict[str, list[Busy]]:
        """Live bookings overlapping any of the (station id, start, end) windows, by station."""
        ...

    async def page(self, driver_id: str | None, after: int | None, limit: int) -> list[Reservation]:
        """Newest first; all drivers' when driver_id is None."""
        ...

    async def live_at(self, station_id: str, at: datetime) -> list[Reservation]:
        """Live bookings of the station that a charger holds (held ones, from hand-off to
        their end) or whose window contains `at`."""
        ...

    async def id_tags_for(self, driver_ids: list[str]) -> dict[str, str]:
        """Each driver's app id tag, made on first use."""
        ...

    async def schedule(
        self, reservation_id: int, kind: JobKind, due_at: datetime, station_id: str | None = None
    ) -> None: ...

    async def any_due(self, now: datetime) -> bool: ...

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[Job]:
        """Due jobs nobody else works on, leased to this node (SKIP LOCKED on PostgreSQL)."""
        ...

    async def finish(self, job_id: int, at: datetime) -> None: ...

    async def retry_at(self, job_id: int, at: datetime) -> None:
        """Give up this node's lease on a job that failed; it falls due again at `at` (a job
        waiting for its retry is unleased, so it is never taken for one being worked on)."""
        ...

    async def hand_offs_now(self, station_id: str, now: datetime) -> int:
        """Pending hand-offs to this station that wait for a retry become due at once; one
        being worked on (leased) is left alone."""
        ...

    async def hand_off_tried(self, reservation_id: int) -> bool:
        """Whether a pending hand-off of this booking has been claimed at least once: its
        ReserveNow may have reached the charger (unanswered, or the node died before it could
        record the answer)."""
        ...

    async def drop_jobs(self, reservation_id: int, kinds: tuple[JobKind, ...]) -> None: ...

    async def vehicle_standards(self, driver_id: str, vehicle_id: str) -> frozenset[str] | None:
        """The plugs the driver's vehicle takes; None when it is not the driver's vehicle."""
        ...

    async def sites_hours(self, station_ids: list[str]) -> dict[str, SiteHours]:
        """The opening hours of the stations' sites (stations without a site are left out)."""
        ...

    async def evses_of(self, station_ids: list[str]) -> dict[str, list[Evse]]:
        """The stations' EVSEs; unknown stations are left out."""
        ...

    async def site_evses(self, station_id: str) -> list[Evse]:
        """EVSEs of every station at the same site as this one."""
        ...


class ReservationsUnitOfWork(UnitOfWork, Protocol):
    @property
    def reservations(self) -> ReservationRepository: ...


ReservationsUowFactory = UowFactory[ReservationsUnitOfWork]


class ChargerHold(Protocol):
    """Makes the charger itself hold or release a connector."""

    async def reserve(self, reservation: Reservation) -> str:
        """The charger's answer: Accepted, Occupied, Faulted, Unavailable, Rejected, or
        NoAnswer when it is offline or silent."""
        ...

    async def release(self, station_id: str, reservation_id: int) -> str: ...


class Alternatives(Protocol):
    """Where else a driver could charge when a booking fails."""

    async def near(self, station_id: str, plugs: frozenset[str], limit: int) -> list[Alternative]:
        """The nearest other sites with a free fitting connector, nearest first."""
        ...
