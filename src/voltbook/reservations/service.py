"""Use cases of reservations: book, cancel, hand off to the charger, follow it to the end.

Overlap is refused by the database itself (an exclusion constraint on PostgreSQL, a trigger
inside a serialized write transaction on SQLite); the checks here only pick a free
connector and explain a refusal.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from voltbook.core.bus import EventBus
from voltbook.core.clock import Clock
from voltbook.core.errors import InvalidInput, NotFound
from voltbook.reservations.booking import BookingDesk
from voltbook.reservations.events import (
    ReservationCancelled,
    ReservationCreated,
    ReservationEvent,
    ReservationFulfilled,
)
from voltbook.reservations.handoff import HandOff, plugs_of
from voltbook.reservations.model import (
    BookingRequest,
    Change,
    Reservation,
    Rules,
    Status,
    free_intervals,
    leaves_room,
)
from voltbook.reservations.ports import (
    NO_ANSWER,
    Alternatives,
    ChargerHold,
    Job,
    JobKind,
    ReservationRepository,
    ReservationsUowFactory,
)

# Jobs of a claimed batch that run side by side. A batch is twice as many, so even when every
# one of them waits out the charger's command timeout, it takes two timeouts: a claim's lease
# is three, so that no other node claims its jobs again meanwhile, and the jobs of a node
# killed mid-batch are taken up again that soon (90 s at the default 30 s timeout).
_JOBS_AT_ONCE = 16
_LEASE_PER_TIMEOUT = 3


def _backoff(job: Job) -> timedelta:
    """How long a job that could not be done waits: 2, 4, 8 … seconds, at most a minute."""
    return min(timedelta(minutes=1), timedelta(seconds=2 ** min(job.attempts, 6)))


_RELEASE_TRIES = 6  # about two minutes of retries with the back-off below
# Hand-offs a silent charger gets (2 + 4 + 8 s apart, sooner when it reconnects) before the
# booking moves to another charger of the site or fails.
_SILENT_TRIES = 4


class _Turns:
    """One booking's jobs one after another, also when several batches run at once: a
    ReserveNow and a CancelReservation of one reservation id are never on the wire together."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    @asynccontextmanager
    async def of(self, reservation_id: int) -> AsyncIterator[None]:
        lock = self._locks.setdefault(reservation_id, asyncio.Lock())
        self._waiting[reservation_id] = self._waiting.get(reservation_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[reservation_id] -= 1
            if not self._waiting[reservation_id]:
                del self._waiting[reservation_id], self._locks[reservation_id]


class ReservationService:
    def __init__(
        self,
        uow: ReservationsUowFactory,
        hold: ChargerHold,
        clock: Clock,
        bus: EventBus,
        rules: Rules | None = None,
        alternatives: Alternatives | None = None,
        command_timeout: timedelta = timedelta(seconds=30),
    ) -> None:
        self._uow = uow
        self.job_lease = _LEASE_PER_TIMEOUT * command_timeout  # the charger's, for `hold`
        self._hold = hold
        self._alternatives = alternatives
        self._clock = clock
        self._bus = bus
        self.rules = rules or Rules()
        self._desk = BookingDesk(uow, clock, self.rules, self._booked)
        self.wake = asyncio.Event()  # a job is due now: the runner need not wait its second
        self._turns = _Turns()
        self._handoff = HandOff(uow, hold, clock, bus, self.rules, alternatives, self.wake)

    # --- drivers ------------------------------------------------------------------------

    async def book(
        self, driver_id: str, request: BookingRequest, key: str | None = None
    ) -> tuple[Reservation, bool]:
        """Book a connector; returns the reservation and whether it is new (False: replay)."""
        return await self._desk.book(driver_id, request, key)

    async def close(self) -> None:
        """Bookings being written are finished; call before the storage closes."""
        await self._desk.close()

    async def _booked(self, reservation: Reservation) -> None:
        await self._publish(ReservationCreated(reservation, "booked"))
        if reservation.starts_at - self.rules.lead_time <= self._clock.now():
            self.wake.set()  # its hand-off is due now

    async def cancel(
        self, reservation_id: int, driver_id: str, *, staff: bool = False
    ) -> Reservation:
        """Cancel a live booking: the driver's own, or any for staff."""
        now = self._clock.now()
        async with self._uow() as uow:
            reservation = await self._visible(
                uow.reservations, reservation_id, driver_id, staff, lock=True
            )
            cancelled = reservation.apply(
                Change.CANCELLED, now, "cancelled by operator" if staff else "cancelled by driver"
            )
            held_by = await self._handoff.may_hold(uow.reservations, reservation)
            await uow.reservations.save(cancelled)
            await uow.reservations.drop_jobs(cancelled.id, (JobKind.HAND_OFF, JobKind.NO_SHOW))
            released = await self._handoff.release_stale_hold(
                uow.reservations, cancelled.id, held_by, cancelled
            )
            await uow.commit()
        await self._publish(ReservationCancelled(cancelled, cancelled.history[-1].reason))
        if released:
            self.wake.set()
        return cancelled

    async def get(self, reservation_id: int, driver_id: str, *, staff: bool = False) -> Reservation:
        async with self._uow(read_only=True) as uow:
            return await self._visible(uow.reservations, reservation_id, driver_id, staff)

    async def page(
        self, driver_id: str, *, staff: bool = False, after: int | None = None, limit: int = 50
    ) -> list[Reservation]:
        async with self._uow(read_only=True) as uow:
            return await uow.reservations.page(None if staff else driver_id, after, limit)

    async def availability(
        self, station_id: str, start: datetime | None, end: datetime | None
    ) -> tuple[datetime, datetime, dict[int, list[tuple[datetime, datetime]]]]:
        """Free intervals per EVSE of the station within [start, end) (default: the next day)."""
        start = start or self._clock.now()
        end = end or start + timedelta(days=1)
        if end <= start or end - start > timedelta(days=31):
            raise InvalidInput("the range must be positive and at most 31 days")
        async with self._uow(read_only=True) as uow:
            evses = (await uow.reservations.evses_of([station_id])).get(station_id)
            if evses is None:
                raise NotFound(f"station {station_id} does not exist")
            busy = await uow.reservations.busy(station_id, start, end)
        return (
            start,
            end,
            {
                evse.evse_id: free_intervals(
                    [(b.starts_at, b.ends_at) for b in busy if b.evse_id == evse.evse_id],
                    start,
                    end,
                )
                for evse in evses
            },
        )

    @staticmethod
    async def _visible(
        repo: ReservationRepository,
        reservation_id: int,
        driver_id: str,
        staff: bool,
        *,
        lock: bool = False,
    ) -> Reservation:
        found = await repo.get(reservation_id, lock=lock)
        if found is None or not (staff or found.driver_id == driver_id):
            raise NotFound(f"reservation {reservation_id} does not exist")  # others' stay unseen
        return found

    # --- what happens at stations -------------------------------------------------------

    async def may_start(
        self, station_id: str, evse_id: int, id_tag: str | None, at: datetime
    ) -> bool:
        """Whether a session may start on this EVSE: not while it is held for someone else,
        nor when it takes the last fitting connector a hold for any connector needs."""
        async with self._uow(read_only=True) as uow:
            live = await uow.reservations.live_at(station_id, at)
            others = [r for r in live if r.status is Status.HELD and r.id_tag != id_tag]
            if not any(r.any_evse for r in others):
                return all(r.evse_id != evse_id for r in others)
            usable, floating = await self._room(uow.reservations, station_id, others)
        return leaves_room(evse_id, usable, self._named(others), floating)

    async def may_authorize(self, station_id: str, id_tag: str, at: datetime) -> bool:
        """Whether an id tag may charge somewhere at the station now (OCPP Authorize names
        no connector): not when the charger holds every usable connector for others and
        none for this tag; a station with a free connector, or one held for it, says yes."""
        async with self._uow(read_only=True) as uow:
            held = [
                r for r in await uow.reservations.live_at(station_id, at) if r.status is Status.HELD
            ]
            if not held or any(r.id_tag == id_tag for r in held):
                return True
            usable, floating = await self._room(uow.reservations, station_id, held)
        named = self._named(held)
        return any(leaves_room(evse, usable, named, floating) for evse in usable)

    async def _room(
        self, repo: ReservationRepository, station_id: str, holds: list[Reservation]
    ) -> tuple[dict[int, frozenset[str]], list[frozenset[str]]]:
        """The station's EVSEs free for a hold now (usable, no vehicle at them) with their
        plugs, and the plugs each hold for any connector needs (what a move would look for)."""
        evses = (await repo.evses_of([station_id])).get(station_id, [])
        floating = [await plugs_of(repo, r) for r in holds if r.any_evse]
        return {e.evse_id: e.standards for e in evses if e.usable and not e.in_use}, floating

    @staticmethod
    def _named(holds: list[Reservation]) -> frozenset[int]:
        """EVSEs held by name: a hold for any connector keeps one free, not its stored one."""
        return frozenset(r.evse_id for r in holds if not r.any_evse)

    async def session_started(
        self,
        station_id: str,
        evse_id: int,
        id_tag: str | None,
        reservation_id: int | None,
        at: datetime,
    ) -> None:
        """A session fulfils the booking it names, or the holder's booking at that EVSE (at
        any EVSE of the station for a booking made for any connector)."""
        async with self._uow() as uow:
            repo = uow.reservations
            if reservation_id is not None:
                named = await repo.get(reservation_id, lock=True)
                found = (
                    [named]
                    if named and named.station_id == station_id and named.status.live
                    else []
                )
            else:
                found = sorted(
                    (
                        r for r in await repo.live_at(station_id, at)
                        if r.id_tag == id_tag and (r.evse_id == evse_id or r.any_evse)
                    ),
                    key=lambda r: r.evse_id != evse_id,  # the one on this EVSE first
                )  # fmt: skip
            fresh = await repo.get(found[0].id, lock=True) if found else None
            if fresh is None or not fresh.status.live:
                return
            fulfilled = fresh.apply(Change.FULFILLED, at, "charging started")
            await repo.save(fulfilled)
            await repo.drop_jobs(fulfilled.id, (JobKind.HAND_OFF, JobKind.NO_SHOW))
            await uow.commit()
        await self._publish(ReservationFulfilled(fulfilled, "charging started"))

    async def hold_removed(self, station_id: str, reservation_id: int) -> None:
        """The charger dropped its hold (OCPP 2.0.1 ReservationStatusUpdate Removed): a
        booking it held there moves or fails, as on a lost connector. An id of no booking
        held at that station changes nothing."""
        held = await self._of_station(station_id, reservation_id)
        if held is not None and held.status is Status.HELD:
            await self._handoff.move_or_fail(held, "charger dropped the hold")

    async def hold_expired(self, station_id: str, reservation_id: int) -> None:
        """The charger's own expiry of the hold passed (OCPP 2.0.1 ReservationStatusUpdate
        Expired): a live booking there expires as a no-show; an ended one stays as it is."""
        booking = await self._of_station(station_id, reservation_id)
        if booking is not None and booking.status.live:
            await self._handoff.expire(booking)

    async def _of_station(self, station_id: str, reservation_id: int) -> Reservation | None:
        """The booking with this id if it is at this station (a station speaks for its own)."""
        async with self._uow(read_only=True) as uow:
            found = await uow.reservations.get(reservation_id)
        return found if found is not None and found.station_id == station_id else None

    async def connector_lost(self, station_id: str, evse_id: int, why: str) -> None:
        """The EVSE faulted or went out of service: held bookings there move or fail."""
        now = self._clock.now()
        async with self._uow(read_only=True) as uow:
            live = await uow.reservations.live_at(station_id, now)
        for reservation in live:
            if reservation.evse_id == evse_id and reservation.status is Status.HELD:
                await self._handoff.move_or_fail(reservation, f"connector {why}")

    # --- the job runner ---------------------------------------------------------------

    async def run_due(self, limit: int = 2 * _JOBS_AT_ONCE) -> int:
        """Work off due jobs (hand-offs, no-shows, releases); returns how many ran.

        The claimed jobs run side by side, at most `_JOBS_AT_ONCE` of them, so a silent
        charger delays no one else's and the batch ends within its lease; jobs of one booking
        run one after another, in the order they fell due, also across batches that run at
        once (the runner starts another while one waits on a silent charger)."""
        now = self._clock.now()
        async with self._uow(read_only=True) as uow:
            if not await uow.reservations.any_due(now):
                return 0  # the common case costs a read, not a write lock
        async with self._uow() as uow:
            jobs = await uow.reservations.claim_due(now, limit, self.job_lease)
            await uow.commit()
        per_booking: dict[int, list[Job]] = {}
        for job in jobs:
            per_booking.setdefault(job.reservation_id, []).append(job)
        at_once = asyncio.Semaphore(_JOBS_AT_ONCE)

        async def work_off(theirs: list[Job]) -> list[Exception]:
            async with self._turns.of(theirs[0].reservation_id), at_once:
                return [e for job in theirs if (e := await self._run_one(job)) is not None]

        outcomes = await asyncio.gather(
            *(work_off(theirs) for theirs in per_booking.values()), return_exceptions=True
        )
        failed: list[BaseException] = []
        for outcome in outcomes:  # a storage error that marking a job met comes out here
            failed.extend(outcome if isinstance(outcome, list) else [outcome])
        if failed:
            raise failed[0]  # the runner logs it; the other jobs of the batch are done
        return len(jobs)

    async def _run_one(self, job: Job) -> Exception | None:
        """Run a job and mark it done or due again, in a unit of work of its own; what it
        raised is returned, so that one broken job does not strand the rest of its batch."""
        raised: Exception | None = None
        try:
            done = await self._run(job)
        except Exception as error:
            raised, done = error, False
        async with self._uow() as uow:
            if done:
                await uow.reservations.finish(job.id, self._clock.now())
            else:
                await uow.reservations.retry_at(job.id, self._clock.now() + _backoff(job))
            await uow.commit()
        return raised

    async def station_back(self, station_id: str) -> None:
        """A station (re)connected: hand-offs that wait to retry it go now."""
        async with self._uow() as uow:
            woken = await uow.reservations.hand_offs_now(station_id, self._clock.now())
            await uow.commit()
        if woken:
            self.wake.set()

    async def _run(self, job: Job) -> bool:
        """Do one job; False when it should be tried again later."""
        async with self._uow(read_only=True) as uow:
            reservation = await uow.reservations.get(job.reservation_id)
        if reservation is None:
            return True
        if job.kind is JobKind.RELEASE:
            station_id = job.station_id or reservation.station_id
            if reservation.status.live and reservation.station_id == station_id:
                # Back at that station meanwhile: its next ReserveNow of the same id replaces
                # any old hold, and a late CancelReservation would drop the new one.
                return True
            answer = await self._hold.release(station_id, reservation.id)
            # An unreachable charger is asked again for a while; it also drops the hold
            # itself when the reservation's expiry passes.
            return answer != NO_ANSWER or job.attempts >= _RELEASE_TRIES
        if job.kind is JobKind.NO_SHOW and reservation.status.live:
            await self._handoff.expire(reservation)
        elif job.kind is JobKind.HAND_OFF and reservation.status is Status.SCHEDULED:
            return await self._handoff.hand_off(reservation, last_try=job.attempts >= _SILENT_TRIES)
        return True

    async def _publish(self, event: ReservationEvent) -> None:
        await self._bus.publish(event)
