"""Reservations, their lifecycle as a table of allowed transitions, and booking rules."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from voltbook.core.connectors import EvseRef
from voltbook.core.errors import Conflict, InvalidInput


class Status(StrEnum):
    SCHEDULED = "scheduled"  # in voltbook's book; the charger is told shortly before the slot
    HELD = "held"  # the charger accepted ReserveNow and holds the connector
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # no-show: the grace period passed without a session
    FAILED = "failed"

    @property
    def live(self) -> bool:
        return self in (Status.SCHEDULED, Status.HELD)


class Change(StrEnum):
    HELD = "held"  # the charger accepted
    MOVED = "moved"  # refused or faulted: another fitting connector takes the booking
    FULFILLED = "fulfilled"  # a session started for it
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"  # refused and nothing else fits


LIVE = (Status.SCHEDULED, Status.HELD)
TRANSITIONS: dict[tuple[Status, Change], Status] = {
    (Status.SCHEDULED, Change.HELD): Status.HELD,
    (Status.SCHEDULED, Change.MOVED): Status.SCHEDULED,
    (Status.HELD, Change.MOVED): Status.SCHEDULED,
    (Status.SCHEDULED, Change.FULFILLED): Status.FULFILLED,
    (Status.HELD, Change.FULFILLED): Status.FULFILLED,
    (Status.SCHEDULED, Change.CANCELLED): Status.CANCELLED,
    (Status.HELD, Change.CANCELLED): Status.CANCELLED,
    (Status.SCHEDULED, Change.EXPIRED): Status.EXPIRED,
    (Status.HELD, Change.EXPIRED): Status.EXPIRED,
    (Status.SCHEDULED, Change.FAILED): Status.FAILED,
    (Status.HELD, Change.FAILED): Status.FAILED,
}


class NotAllowed(Conflict):
    code = "reservation-state"


class InFlight(Conflict):
    """A request with this Idempotency-Key is still being decided: retry it shortly."""

    code = "idempotency-key-in-flight"


class TooManyLive(Conflict):
    """The driver holds as many live reservations as the rules allow."""

    code = "reservation-limit"


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: datetime
    status: Status
    change: Change | None  # None: created
    reason: str
    connector: EvseRef | None = None  # where the booking was when this happened

    @property
    def station_id(self) -> str | None:
        return self.connector.station_id if self.connector else None

    @property
    def evse_id(self) -> int | None:
        return self.connector.evse_id if self.connector else None


@dataclass(frozen=True, slots=True)
class Alternative:
    """Another site nearby with a free fitting connector, offered when a booking fails."""

    station_id: str
    name: str
    distance_m: float  # from the station the booking was for


@dataclass(frozen=True, slots=True)
class Reservation:
    id: int  # also the OCPP reservationId
    driver_id: str
    station_id: str
    evse_id: int  # the EVSE voltbook holds for it
    any_evse: bool  # booked for any fitting connector of the station
    starts_at: datetime
    ends_at: datetime
    grace: timedelta
    status: Status
    id_tag: str
    created_at: datetime
    vehicle_id: str | None = None
    idempotency_key: str | None = None
    fingerprint: str | None = None
    history: tuple[HistoryEntry, ...] = field(default_factory=tuple)
    alternatives: tuple[Alternative, ...] = ()  # where else to charge, once it failed

    @property
    def no_show_at(self) -> datetime:
        """When an unused booking counts as a no-show: start plus grace, within the slot."""
        return min(self.starts_at + self.grace, self.ends_at)

    def apply(self, change: Change, at: datetime, reason: str) -> Reservation:
        """The reservation after `change`, or NotAllowed when the table has no such move."""
        target = TRANSITIONS.get((self.status, change))
        if target is None:
            raise NotAllowed(f"a {self.status.value} reservation cannot be {change.value}")
        entry = HistoryEntry(at, target, change, reason, self.connector)
        return replace(self, status=target, history=(*self.history, entry))

    @property
    def connector(self) -> EvseRef:
        return EvseRef(self.station_id, self.evse_id)

    @property
    def tried(self) -> frozenset[EvseRef]:
        """Connectors this booking has been on: a move never goes back to one of them."""
        return frozenset(
            {self.connector}
            | {h.connector for h in self.history if h.change is Change.MOVED and h.connector}
        )

    @property
    def held_by(self) -> str | None:
        """The station whose charger may still hold this booking: the last one to accept it,
        while the booking has not left that station since. A move to another EVSE of the
        same station leaves that hold in place until a ReserveNow of the same id replaces it
        (and one that is refused or unanswered replaces nothing). An entry without its
        connector counts as made at the current station."""
        station: str | None = None
        for entry in self.history:
            where = entry.station_id or self.station_id
            if entry.change is Change.HELD:
                station = where
            elif where != station:
                station = None  # it left the station that held it
        return station if station == self.station_id else None

    def moved_to(self, station_id: str, evse_id: int, at: datetime, reason: str) -> Reservation:
        moved = self.apply(Change.MOVED, at, reason)
        return replace(moved, station_id=station_id, evse_id=evse_id)


@dataclass(frozen=True, slots=True)
class Rules:
    max_live_per_driver: int = 2
    horizon: timedelta = timedelta(days=7)
    min_length: timedelta = timedelta(minutes=10)
    max_length: timedelta = timedelta(hours=4)
    grace: timedelta = timedelta(minutes=15)
    lead_time: timedelta = timedelta(minutes=5)  # ReserveNow goes out this long before start
    past_slack: timedelta = timedelta(minutes=1)  # "now" sent a moment ago is still now

    def check_window(self, starts_at: datetime, ends_at: datetime, now: datetime) -> None:
        if starts_at.tzinfo is None:
            raise InvalidInput("start must carry a time zone offset")
        if starts_at < now - self.past_slack:
            raise InvalidInput("start lies in the past")
        if starts_at > now + self.horizon:
            raise InvalidInput(f"start lies beyond the booking horizon of {self.horizon}")
        length = ends_at - starts_at
        if not self.min_length <= length <= self.max_length:
            minutes = (
                int(self.min_length.total_seconds() // 60),
                int(self.max_length.total_seconds() // 60),
            )
            raise InvalidInput(f"a booking lasts {minutes[0]} to {minutes[1]} minutes")


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open windows [start, end) overlap."""
    return a_start < b_end and b_start < a_end


def free_intervals(
    busy: list[tuple[datetime, datetime]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) not covered by any busy window."""
    free: list[tuple[datetime, datetime]] = []
    cursor = start
    for busy_start, busy_end in sorted(busy):
        if busy_end <= cursor or busy_start >= end:
            continue
        if busy_start > cursor:
            free.append((cursor, busy_start))
        cursor = max(cursor, busy_end)
    if cursor < end:
        free.append((cursor, end))
    return free


def leaves_room(
    evse_id: int,
    usable: dict[int, frozenset[str]],
    named: frozenset[int],
    floating: list[frozenset[str]],
) -> bool:
    """Whether a session on `evse_id` leaves the charger's holds their connectors: a hold on
    a named EVSE keeps that one; each hold for any connector of the station (`floating`: the
    plugs each takes, empty for any) keeps one usable EVSE of its own among the rest, of a
    plug it takes, as OCPP's reservation of connector 0 keeps one free. `usable` maps the
    station's usable EVSEs to their plugs."""
    if evse_id in named:
        return False
    rest = {e: plugs for e, plugs in usable.items() if e != evse_id and e not in named}
    kept_for: dict[int, int] = {}  # EVSE -> the floating hold it is kept for

    def place(hold: int, seen: set[int]) -> bool:  # augmenting paths; both sides are tiny
        for evse, plugs in rest.items():
            if evse in seen or (floating[hold] and plugs and not floating[hold] & plugs):
                continue
            seen.add(evse)
            if evse not in kept_for or place(kept_for[evse], seen):
                kept_for[evse] = hold
                return True
        return False

    return all(place(hold, set()) for hold in range(len(floating)))


@dataclass(frozen=True, slots=True)
class BookingRequest:
    station_id: str
    minutes: int
    evse_id: int | None = None
    vehicle_id: str | None = None
    starts_at: datetime | None = None

    def fingerprint(self) -> str:
        """What makes two requests with one Idempotency-Key the same request."""
        body = {
            "station_id": self.station_id,
            "minutes": self.minutes,
            "evse_id": self.evse_id,
            "vehicle_id": self.vehicle_id,
            "start": self.starts_at.isoformat() if self.starts_at else None,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def next_free_slots(
    evse_ids: list[int],
    busy: list[tuple[int, datetime, datetime]],
    start: datetime,
    length: timedelta,
    last: datetime,
    count: int,
) -> list[dict[str, object]]:
    """The earliest free slot of `length` from `start` (ending by `last`) on each EVSE, the
    `count` earliest of them; `busy` holds (evse_id, start, end) of live bookings."""
    found: list[tuple[datetime, int]] = []
    for evse_id in evse_ids:
        windows = [(s, e) for b_evse, s, e in busy if b_evse == evse_id]
        for free_start, free_end in free_intervals(windows, start, last):
            if free_end - free_start >= length:
                found.append((free_start, evse_id))
                break
    found.sort()
    # Keyed as the API names an EVSE (`connector_id`): the list goes out in the 409 as it is.
    return [{"connector_id": e, "start": s, "end": s + length} for s, e in found[:count]]
