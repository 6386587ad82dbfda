"""Booking: the requests that arrive together are written in one transaction.

A booking is about ten statements (idempotency, EVSEs, opening hours, the driver's live
bookings under a lock, what is busy, the id tag, the insert, history, jobs). Done one
request at a time, a busy server spends its time starting statements, not booking. The
desk queues requests and writes whatever has gathered while the previous write ran as one
batch, with one statement per step for the whole batch (group commit). A lone request is
written at once, as a batch of one, so nothing waits when the server is quiet. Two batches
may be written at once, so the server prepares one while the database works on the other.

Overlap is still refused by the database: a row it refuses (another node, or the job runner
moving a booking, took the slot meanwhile) goes back to the queue and is decided again
against what is stored then. A batch that fails as a whole is written again one request at
a time, so one bad request never fails the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from voltbook.core.clock import Clock
from voltbook.core.connectors import EvseRef
from voltbook.core.errors import Conflict, InvalidInput, NotFound
from voltbook.core.hours import parse_opening_hours, zone_of
from voltbook.reservations.model import (
    BookingRequest,
    HistoryEntry,
    InFlight,
    Reservation,
    Rules,
    Status,
    TooManyLive,
    next_free_slots,
    overlaps,
)
from voltbook.reservations.ports import (
    Busy,
    Evse,
    JobKind,
    ReservationRepository,
    ReservationsUowFactory,
    SiteHours,
    SlotTaken,
)

MAX_BATCH = 64  # requests written in one transaction
WRITERS = 2  # batches written at once: one is prepared while the other waits on the database
_TRIES = 4  # decisions the database may overturn before the request is refused
_NEXT_FREE = 3  # how many next free slots a refusal offers

Booked = tuple[Reservation, bool]  # the reservation, and whether it is new (False: replay)


@dataclass(slots=True, eq=False)
class _Ask:
    driver_id: str
    request: BookingRequest
    key: str | None
    fingerprint: str
    starts_at: datetime
    ends_at: datetime
    answer: asyncio.Future[Booked]
    tries: int = 0
    candidates: list[Evse] = field(default_factory=list)


@dataclass(slots=True)
class _Batch:
    """What one write decided: bookings made, requests to refuse, requests to decide again."""

    booked: list[tuple[_Ask, Reservation]] = field(default_factory=list)
    taken: list[_Ask] = field(default_factory=list)
    again: list[_Ask] = field(default_factory=list)


class BookingDesk:
    def __init__(
        self,
        uow: ReservationsUowFactory,
        clock: Clock,
        rules: Rules,
        booked: Callable[[Reservation], Awaitable[None]],
    ) -> None:
        self._uow = uow
        self._clock = clock
        self.rules = rules
        self._booked = booked  # told of every new booking once it is committed
        self._queue: list[_Ask] = []
        self._writers: set[asyncio.Task[None]] = set()
        self._in_flight: set[tuple[str, str]] = set()

    async def book(self, driver_id: str, request: BookingRequest, key: str | None) -> Booked:
        if key is not None and (driver_id, key) in self._in_flight:
            raise InFlight("a request with this Idempotency-Key is still being processed")
        now = self._clock.now()
        if request.starts_at is not None and request.starts_at.tzinfo is None:
            raise InvalidInput("start must carry a time zone offset")
        starts_at = (request.starts_at or now).astimezone(UTC)
        ends_at = starts_at + timedelta(minutes=request.minutes)
        ask = _Ask(
            driver_id,
            request,
            key,
            request.fingerprint(),
            starts_at,
            ends_at,
            asyncio.get_running_loop().create_future(),
        )
        if key is not None:
            self._in_flight.add((driver_id, key))
        try:
            self._queue.append(ask)
            if len(self._writers) < WRITERS:
                writer = asyncio.create_task(self._write_queued())
                self._writers.add(writer)
                writer.add_done_callback(self._writers.discard)
            return await ask.answer
        finally:
            if key is not None:
                self._in_flight.discard((driver_id, key))

    async def close(self) -> None:
        """Let the batches being written finish (what is queued is written too)."""
        while self._writers:
            await asyncio.gather(*self._writers, return_exceptions=True)

    async def _write_queued(self) -> None:
        while self._queue:
            batch = [a for a in self._queue[:MAX_BATCH] if not a.answer.done()]
            del self._queue[:MAX_BATCH]
            if not batch:
                continue
            try:
                await self._write(batch)
            except Exception as error:  # never leave a caller waiting
                for ask in batch:
                    _settle(ask, error)

    async def _write(self, asks: list[_Ask]) -> None:
        try:
            batch = await self._decide(asks)
        except Exception as error:
            if len(asks) == 1:
                _settle(asks[0], error)
            else:  # one request broke the batch: each alone finds which
                for ask in asks:
                    if not ask.answer.done():
                        await self._write([ask])
            return
        for ask, reservation in batch.booked:
            try:
                await self._booked(reservation)  # before the caller hears of it
            finally:
                _settle(ask, (reservation, True))
        for ask in batch.again:
            ask.tries += 1
        self._queue[:0] = [a for a in batch.again if a.tries < _TRIES]
        batch.taken += [a for a in batch.again if a.tries >= _TRIES]
        if batch.taken:
            await self._refuse(batch.taken)

    async def _decide(self, asks: list[_Ask]) -> _Batch:
        """One write transaction for the whole batch; answers what it can on the way."""
        now = self._clock.now()
        batch = _Batch()
        async with self._uow() as uow:
            repo = uow.reservations
            asks = await self._new_ones(repo, asks)
            stations = sorted({a.request.station_id for a in asks})
            evses = await repo.evses_of(stations) if asks else {}
            hours = await repo.sites_hours(stations) if asks else {}
            for ask in asks:
                try:
                    # After the key lookup: a retry is answered even once its start has passed.
                    self.rules.check_window(ask.starts_at, ask.ends_at, now)
                    ask.candidates = await _candidates(repo, ask, evses)
                    _check_open(hours.get(ask.request.station_id), ask)
                except (NotFound, Conflict, InvalidInput) as refusal:
                    _settle(ask, refusal)
            asks = [a for a in asks if not a.answer.done()]
            drivers = sorted({a.driver_id for a in asks})
            live = await repo.live_counts(drivers) if asks else {}
            windows = [(a.request.station_id, a.starts_at, a.ends_at) for a in asks]
            busy = await repo.busy_during(windows) if asks else {}
            planned = self._plan(asks, live, busy, batch)
            tags = await repo.id_tags_for(sorted({a.driver_id for a, _ in planned}))
            rows = [
                _reservation(ask, evse, tags[ask.driver_id], self.rules.grace, now)
                for ask, evse in planned
            ]
            jobs = [
                (
                    (JobKind.HAND_OFF, max(now, r.starts_at - self.rules.lead_time)),
                    (JobKind.NO_SHOW, r.no_show_at),
                )
                for r in rows
            ]
            saved = await repo.add_many(rows, jobs) if rows else []
            for (ask, _), reservation in zip(planned, saved, strict=True):
                if reservation is None:
                    batch.again.append(ask)
                else:
                    batch.booked.append((ask, reservation))
            await uow.commit()
        return batch

    @staticmethod
    async def _new_ones(repo: ReservationRepository, asks: list[_Ask]) -> list[_Ask]:
        """Answers requests whose Idempotency-Key was used before; returns the others."""
        keys = sorted({(a.driver_id, a.key) for a in asks if a.key is not None})
        known = await repo.by_keys(keys) if keys else {}
        fresh: list[_Ask] = []
        for ask in asks:
            existing = known.get((ask.driver_id, ask.key)) if ask.key is not None else None
            if existing is None:
                fresh.append(ask)
            elif existing.fingerprint != ask.fingerprint:
                _settle(ask, InvalidInput("this Idempotency-Key was used with another request"))
            else:
                _settle(ask, (existing, False))
        return fresh

    def _plan(
        self,
        asks: list[_Ask],
        live: dict[str, int],
        busy: dict[str, list[Busy]],
        batch: _Batch,
    ) -> list[tuple[_Ask, Evse]]:
        """A free fitting EVSE for each request, in arrival order; the batch's own choices
        count as busy for the requests after them."""
        chosen: dict[str, list[tuple[int, datetime, datetime]]] = {}
        planned: list[tuple[_Ask, Evse]] = []
        limit = self.rules.max_live_per_driver
        for ask in asks:
            if live.get(ask.driver_id, 0) >= limit:
                _settle(ask, TooManyLive(f"at most {limit} live reservations per driver"))
                continue
            station = ask.request.station_id
            taken = {
                b.evse_id
                for b in busy.get(station, [])
                if overlaps(b.starts_at, b.ends_at, ask.starts_at, ask.ends_at)
            } | {
                evse_id
                for evse_id, start, end in chosen.get(station, [])
                if overlaps(start, end, ask.starts_at, ask.ends_at)
            }
            evse = next((e for e in ask.candidates if e.evse_id not in taken), None)
            if evse is None:
                batch.taken.append(ask)
                continue
            live[ask.driver_id] = live.get(ask.driver_id, 0) + 1
            chosen.setdefault(station, []).append((evse.evse_id, ask.starts_at, ask.ends_at))
            planned.append((ask, evse))
        return planned

    async def _refuse(self, asks: list[_Ask]) -> None:
        """Refusals that offer the next free slots of the same length the rules accept,
        worked out after the write, from one read per station."""
        now = self._clock.now()
        by_station: dict[str, list[_Ask]] = {}
        for ask in asks:
            by_station.setdefault(ask.request.station_id, []).append(ask)
        try:
            async with self._uow(read_only=True) as uow:
                for station, theirs in by_station.items():
                    start = min(a.starts_at for a in theirs)
                    last = now + self.rules.horizon + max(a.ends_at - a.starts_at for a in theirs)
                    busy = [
                        (b.evse_id, b.starts_at, b.ends_at)
                        for b in await uow.reservations.busy(station, start, last)
                    ]
                    for ask in theirs:
                        length = ask.ends_at - ask.starts_at
                        offers = next_free_slots(
                            [e.evse_id for e in ask.candidates],
                            busy,
                            ask.starts_at,
                            length,
                            now + self.rules.horizon + length,
                            _NEXT_FREE,
                        )
                        _settle(
                            ask,
                            SlotTaken("this connector is booked for that time", next_free=offers),
                        )
        except Exception as error:
            for ask in asks:
                _settle(ask, error)


async def _candidates(
    repo: ReservationRepository, ask: _Ask, evses: dict[str, list[Evse]]
) -> list[Evse]:
    request = ask.request
    found = evses.get(request.station_id)
    if found is None:
        raise NotFound(f"station {request.station_id} does not exist")
    if request.evse_id is not None:
        found = [e for e in found if e.evse_id == request.evse_id]
        if not found:
            raise NotFound(f"station {request.station_id} has no EVSE {request.evse_id}")
    else:
        found = [e for e in found if e.usable]
    if request.vehicle_id is not None:
        plugs = await repo.vehicle_standards(ask.driver_id, request.vehicle_id)
        if plugs is None:
            raise NotFound(f"vehicle {request.vehicle_id} does not exist")
        found = [e for e in found if not e.standards or e.standards & plugs]
    if not found:
        raise Conflict("no connector of this station fits")
    return found


def _check_open(site: SiteHours | None, ask: _Ask) -> None:
    """A booking lies within the site's opening hours, where the data set states them."""
    if site is None:
        return
    hours = parse_opening_hours(site.text)
    zone = zone_of(site.timezone, site.region)
    if (
        hours is not None
        and zone is not None
        and not hours.open_throughout(ask.starts_at, ask.ends_at, zone)
    ):
        raise InvalidInput(f"the site is not open for the whole slot ({site.text})")


def _reservation(
    ask: _Ask, evse: Evse, id_tag: str, grace: timedelta, now: datetime
) -> Reservation:
    station = ask.request.station_id
    return Reservation(
        id=0,
        driver_id=ask.driver_id,
        station_id=station,
        evse_id=evse.evse_id,
        any_evse=ask.request.evse_id is None,
        starts_at=ask.starts_at,
        ends_at=ask.ends_at,
        grace=grace,
        status=Status.SCHEDULED,
        id_tag=id_tag,
        created_at=now,
        vehicle_id=ask.request.vehicle_id,
        idempotency_key=ask.key,
        fingerprint=ask.fingerprint,
        history=(
            HistoryEntry(now, Status.SCHEDULED, None, "booked", EvseRef(station, evse.evse_id)),
        ),
    )


def _settle(ask: _Ask, outcome: Booked | BaseException) -> None:
    if ask.answer.done():  # the caller went away
        return
    if isinstance(outcome, BaseException):
        ask.answer.set_exception(outcome)
    else:
        ask.answer.set_result(outcome)
