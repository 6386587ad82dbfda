"""The reservation lifecycle and booking rules as a specification (reservations/model.py).

A booking is `scheduled` in voltbook's book, `held` once the charger accepted ReserveNow,
and ends `fulfilled`, `cancelled`, `expired` (no-show) or `failed` (nothing fits). A move
to another connector puts a held booking back to `scheduled` until that charger accepts.
"""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from voltbook.core.connectors import EvseRef
from voltbook.core.errors import Conflict, InvalidInput
from voltbook.reservations.model import (
    LIVE,
    TRANSITIONS,
    Change,
    HistoryEntry,
    NotAllowed,
    Reservation,
    Rules,
    Status,
    free_intervals,
    overlaps,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
S, H = Status.SCHEDULED, Status.HELD
TERMINAL = (Status.FULFILLED, Status.CANCELLED, Status.EXPIRED, Status.FAILED)

# The lifecycle, written out: (from, change) -> to. Every pair not listed is refused.
EXPECTED: dict[tuple[Status, Change], Status] = {
    (S, Change.HELD): H,
    (S, Change.MOVED): S,
    (H, Change.MOVED): S,
    (S, Change.FULFILLED): Status.FULFILLED,
    (H, Change.FULFILLED): Status.FULFILLED,
    (S, Change.CANCELLED): Status.CANCELLED,
    (H, Change.CANCELLED): Status.CANCELLED,
    (S, Change.EXPIRED): Status.EXPIRED,
    (H, Change.EXPIRED): Status.EXPIRED,
    (S, Change.FAILED): Status.FAILED,
    (H, Change.FAILED): Status.FAILED,
}


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def reservation(
    status: Status = Status.SCHEDULED,
    *,
    station_id: str = "ST-A",
    evse_id: int = 1,
    starts_at: datetime = T0,
    length: timedelta = timedelta(hours=1),
    grace: timedelta = timedelta(minutes=15),
) -> Reservation:
    return Reservation(
        id=7,
        driver_id="driver-1",
        station_id=station_id,
        evse_id=evse_id,
        any_evse=True,
        starts_at=starts_at,
        ends_at=starts_at + length,
        grace=grace,
        status=status,
        id_tag="VB0000000001",
        created_at=T0 - timedelta(hours=1),
        history=(
            HistoryEntry(
                T0 - timedelta(hours=1), status, None, "booked", EvseRef(station_id, evse_id)
            ),
        ),
    )


# --- the transition table -------------------------------------------------------------------


def test_the_transition_table_is_exactly_the_specified_lifecycle() -> None:
    assert TRANSITIONS == EXPECTED


@pytest.mark.parametrize(
    ("status", "change"),
    list(itertools.product(Status, Change)),
    ids=lambda value: value.value,
)
def test_every_change_in_every_state_either_follows_the_table_or_is_refused(
    status: Status, change: Change
) -> None:
    before = reservation(status, station_id="ST-B", evse_id=3)
    target = EXPECTED.get((status, change))
    if target is None:
        with pytest.raises(NotAllowed, match=f"a {status.value} reservation cannot be"):
            before.apply(change, minutes(5), "some reason")
        assert before == reservation(status, station_id="ST-B", evse_id=3)  # nothing changed
        return
    after = before.apply(change, minutes(5), "some reason")
    assert after.status is target
    assert after.history[:-1] == before.history
    assert after.history[-1] == HistoryEntry(
        minutes(5), target, change, "some reason", EvseRef("ST-B", 3)
    )
    assert (after.station_id, after.evse_id, after.starts_at, after.ends_at) == (
        before.station_id,
        before.evse_id,
        before.starts_at,
        before.ends_at,
    )
    assert before.status is status  # apply returns a new booking, the old one stays


@pytest.mark.parametrize("status", TERMINAL, ids=str)
def test_a_terminal_reservation_accepts_no_change_at_all(status: Status) -> None:
    for change in Change:
        with pytest.raises(NotAllowed):
            reservation(status).apply(change, minutes(1), "too late")
        with pytest.raises(NotAllowed):
            reservation(status).moved_to("ST-A", 2, minutes(1), "too late")


@pytest.mark.parametrize("status", Status, ids=str)
def test_only_scheduled_and_held_reservations_are_live(status: Status) -> None:
    assert status.live is (status in (Status.SCHEDULED, Status.HELD))
    assert (status in LIVE) is status.live


def test_a_refused_change_is_a_conflict_with_its_own_problem_code() -> None:
    assert issubclass(NotAllowed, Conflict)
    with pytest.raises(Conflict) as refused:
        reservation(Status.CANCELLED).apply(Change.HELD, minutes(1), "late answer")
    assert refused.value.code == "reservation-state"


def test_a_held_booking_cannot_be_held_again() -> None:
    with pytest.raises(NotAllowed):
        reservation(Status.HELD).apply(Change.HELD, minutes(1), "duplicate answer")


def test_moving_changes_the_connector_and_records_the_one_it_left() -> None:
    held = reservation(Status.HELD, station_id="ST-A", evse_id=1)
    moved = held.moved_to("ST-B", 2, minutes(3), "charger answered Occupied")
    assert (moved.station_id, moved.evse_id, moved.connector) == ("ST-B", 2, EvseRef("ST-B", 2))
    assert moved.status is Status.SCHEDULED
    assert moved.history[-1] == HistoryEntry(
        minutes(3), Status.SCHEDULED, Change.MOVED, "charger answered Occupied", EvseRef("ST-A", 1)
    )
    assert moved.tried == {EvseRef("ST-A", 1), EvseRef("ST-B", 2)}


def test_a_new_booking_has_tried_only_its_own_connector() -> None:
    assert reservation(station_id="ST-C", evse_id=4).tried == {EvseRef("ST-C", 4)}


def test_a_charger_may_hold_a_booking_from_its_acceptance_until_the_booking_leaves_it() -> None:
    booked = reservation(station_id="ST-A", evse_id=1)
    held = booked.apply(Change.HELD, minutes(1), "charger holds the connector")
    moved_within = held.moved_to("ST-A", 2, minutes(2), "connector faulted")
    refused = moved_within.moved_to("ST-B", 1, minutes(3), "charger answered Occupied")
    back = refused.moved_to("ST-A", 3, minutes(4), "charger answered Occupied")
    held_again = back.apply(Change.HELD, minutes(5), "charger holds the connector")

    assert booked.held_by is None  # not handed off yet
    assert held.held_by == "ST-A"
    assert moved_within.held_by == "ST-A"  # its old hold stands until a new one replaces it
    assert moved_within.apply(Change.CANCELLED, minutes(3), "driver").held_by == "ST-A"
    assert refused.held_by is None  # it left ST-A (and was released there)
    assert back.held_by is None
    assert held_again.held_by == "ST-A"


def test_history_entries_without_a_connector_count_as_made_at_the_current_station() -> None:
    held = reservation(station_id="ST-A").apply(Change.HELD, minutes(1), "charger holds it")
    unknown = tuple(dataclasses.replace(entry, connector=None) for entry in held.history)
    assert dataclasses.replace(held, history=unknown).held_by == "ST-A"


@pytest.mark.parametrize(
    ("length", "grace", "no_show_after"),
    [
        (timedelta(hours=1), timedelta(minutes=15), timedelta(minutes=15)),
        (timedelta(minutes=10), timedelta(minutes=15), timedelta(minutes=10)),
        (timedelta(minutes=15), timedelta(minutes=15), timedelta(minutes=15)),
    ],
)
def test_a_no_show_is_counted_at_start_plus_grace_but_never_after_the_slot(
    length: timedelta, grace: timedelta, no_show_after: timedelta
) -> None:
    booking = reservation(length=length, grace=grace)
    assert booking.no_show_at == booking.starts_at + no_show_after


# --- the lifecycle as a state machine -------------------------------------------------------

CONNECTORS = tuple(
    EvseRef(s, e) for s, e in (("ST-A", 1), ("ST-A", 2), ("ST-A", 3), ("ST-B", 1), ("ST-B", 2))
)


def expected_after(status: Status, change: Change) -> Status | None:
    """The lifecycle in prose-like code, independent of TRANSITIONS."""
    if status not in (Status.SCHEDULED, Status.HELD):
        return None  # an ended booking stays ended
    if change is Change.HELD:
        return Status.HELD if status is Status.SCHEDULED else None
    if change is Change.MOVED:
        return Status.SCHEDULED  # the new charger has not accepted yet
    return Status(change.value)  # fulfilled, cancelled, expired, failed end it


class ReservationLifecycle(RuleBasedStateMachine):
    """Random changes to one booking next to a model of what must have happened."""

    def __init__(self) -> None:
        super().__init__()
        self.booking = reservation()
        self.status = Status.SCHEDULED
        self.statuses = [Status.SCHEDULED]
        self.changes: list[Change | None] = [None]
        self.connectors = [EvseRef("ST-A", 1)]  # the connector each history entry was made on
        self.left: set[str] = set()  # connectors moved away from
        self.holder: str | None = None  # the station whose charger may hold the booking
        self.accepted = 0
        self.clock = 0

    def _now(self) -> datetime:
        self.clock += 1
        return minutes(self.clock)

    def _accept(self, change: Change, target: Status, was_on: EvseRef) -> None:
        self.status = target
        self.statuses.append(target)
        self.changes.append(change)
        self.connectors.append(was_on)
        self.accepted += 1

    @rule(
        change=st.sampled_from(
            [Change.HELD, Change.FULFILLED, Change.CANCELLED, Change.EXPIRED, Change.FAILED]
        ),
        reason=st.sampled_from(["charger answered", "driver", "no-show", "nothing fits"]),
    )
    def change(self, change: Change, reason: str) -> None:
        target = expected_after(self.status, change)
        before = self.booking
        if target is None:
            with pytest.raises(NotAllowed):
                before.apply(change, self._now(), reason)
            return
        at = self._now()
        self.booking = before.apply(change, at, reason)
        assert self.booking.history[-1] == HistoryEntry(
            at, target, change, reason, before.connector
        )
        if change is Change.HELD:
            self.holder = before.station_id
        self._accept(change, target, before.connector)

    @rule(data=st.data())
    def move(self, data: st.DataObject) -> None:
        before = self.booking
        destination = data.draw(st.sampled_from([c for c in CONNECTORS if c != before.connector]))
        station_id, evse = destination.station_id, destination.evse_id
        target = expected_after(self.status, Change.MOVED)
        if target is None:
            with pytest.raises(NotAllowed):
                before.moved_to(station_id, int(evse), self._now(), "refused")
            return
        self.booking = before.moved_to(station_id, int(evse), self._now(), "refused")
        assert self.booking.connector == destination
        self.left.add(before.connector)
        if station_id != self.holder:
            self.holder = None  # a hold elsewhere is released when the booking leaves
        self._accept(Change.MOVED, target, before.connector)

    @invariant()
    def status_follows_the_model(self) -> None:
        assert self.booking.status is self.status

    @invariant()
    def history_has_one_entry_per_accepted_change_after_the_first(self) -> None:
        assert len(self.booking.history) == 1 + self.accepted
        assert [h.status for h in self.booking.history] == self.statuses
        assert [h.change for h in self.booking.history] == self.changes
        assert [h.connector for h in self.booking.history] == self.connectors

    @invariant()
    def tried_is_the_current_connector_and_every_one_moved_away_from(self) -> None:
        assert self.booking.tried == {self.booking.connector} | self.left

    @invariant()
    def held_by_is_the_last_accepting_station_while_the_booking_stays_there(self) -> None:
        assert self.booking.held_by == self.holder

    @precondition(lambda self: not self.status.live)
    @invariant()
    def an_ended_booking_accepts_nothing_more(self) -> None:
        for change in Change:
            with pytest.raises(NotAllowed):
                self.booking.apply(change, minutes(10_000), "late")


ReservationLifecycle.TestCase.settings = settings(
    max_examples=150, stateful_step_count=25, deadline=None
)
TestReservationLifecycle = ReservationLifecycle.TestCase


# --- overlaps and free intervals ------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((0, 60), (30, 90), True),
        ((0, 60), (60, 120), False),  # half-open: back to back is no overlap
        ((60, 120), (0, 60), False),
        ((0, 120), (30, 60), True),  # one inside the other
        ((30, 60), (0, 120), True),
        ((0, 30), (45, 60), False),
        ((0, 60), (0, 60), True),
    ],
)
def test_windows_overlap_only_when_they_share_time(
    a: tuple[int, int], b: tuple[int, int], expected: bool
) -> None:
    assert overlaps(minutes(a[0]), minutes(a[1]), minutes(b[0]), minutes(b[1])) is expected


def as_minutes(intervals: list[tuple[datetime, datetime]]) -> list[tuple[int, int]]:
    return [(int((a - T0) / timedelta(minutes=1)), int((b - T0) / timedelta(minutes=1))) for a, b in intervals]  # fmt: skip


def free(busy: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    windows = [(minutes(a), minutes(b)) for a, b in busy]
    return as_minutes(free_intervals(windows, minutes(start), minutes(end)))


def test_with_nothing_busy_the_whole_range_is_free() -> None:
    assert free([], 0, 120) == [(0, 120)]


def test_busy_windows_cut_holes_in_the_range() -> None:
    assert free([(30, 60), (90, 100)], 0, 120) == [(0, 30), (60, 90), (100, 120)]


def test_busy_windows_may_come_unsorted_and_overlapping() -> None:
    assert free([(50, 70), (10, 20), (15, 40), (60, 65)], 0, 120) == [
        (0, 10),
        (40, 50),
        (70, 120),
    ]


def test_busy_windows_reaching_past_the_range_are_clipped_to_it() -> None:
    assert free([(-30, 10), (100, 200)], 0, 120) == [(10, 100)]


def test_a_window_ending_at_the_start_or_starting_at_the_end_takes_nothing() -> None:
    assert free([(-60, 0), (120, 180)], 0, 120) == [(0, 120)]


def test_back_to_back_windows_leave_no_empty_gap() -> None:
    assert free([(10, 20), (20, 30)], 0, 40) == [(0, 10), (30, 40)]


def test_a_fully_busy_range_has_no_free_interval() -> None:
    assert free([(0, 60), (50, 130)], 0, 120) == []


def test_an_empty_range_has_no_free_interval() -> None:
    assert free([], 30, 30) == []


busy_windows = st.lists(
    st.tuples(st.integers(-20, 80), st.integers(1, 40)).map(lambda w: (w[0], w[0] + w[1])),
    max_size=8,
)


@settings(max_examples=400, deadline=None)
@given(busy=busy_windows, start=st.integers(0, 60), length=st.integers(0, 60))
def test_free_intervals_are_exactly_the_minutes_no_busy_window_covers(
    busy: list[tuple[int, int]], start: int, length: int
) -> None:
    end = start + length
    result = free(busy, start, end)
    for a, b in result:
        assert start <= a < b <= end  # non-empty and inside [start, end)
    for (_, b1), (a2, _) in itertools.pairwise(result):
        assert b1 < a2  # sorted, disjoint, and never two touching pieces
    for minute in range(start, end):
        covered = any(a <= minute < b for a, b in busy)
        listed = any(a <= minute < b for a, b in result)
        assert listed is not covered, minute


@settings(max_examples=300, deadline=None)
@given(
    a=st.tuples(st.integers(0, 50), st.integers(1, 30)),
    b=st.tuples(st.integers(0, 50), st.integers(1, 30)),
)
def test_overlap_means_some_minute_lies_in_both_windows(
    a: tuple[int, int], b: tuple[int, int]
) -> None:
    a_minutes = set(range(a[0], a[0] + a[1]))
    b_minutes = set(range(b[0], b[0] + b[1]))
    windows = (minutes(a[0]), minutes(a[0] + a[1]), minutes(b[0]), minutes(b[0] + b[1]))
    assert overlaps(*windows) is bool(a_minutes & b_minutes)
    assert overlaps(*windows) is overlaps(*windows[2:], *windows[:2])


# --- booking rules --------------------------------------------------------------------------

RULES = Rules()
ONE_SECOND = timedelta(seconds=1)


def check(start: datetime, length: timedelta) -> None:
    RULES.check_window(start, start + length, T0)


def test_the_default_rules() -> None:
    assert dataclasses.asdict(RULES) == {
        "max_live_per_driver": 2,
        "horizon": timedelta(days=7),
        "min_length": timedelta(minutes=10),
        "max_length": timedelta(hours=4),
        "grace": timedelta(minutes=15),
        "lead_time": timedelta(minutes=5),
        "past_slack": timedelta(minutes=1),
    }


def test_a_start_further_in_the_past_than_the_slack_is_refused() -> None:
    with pytest.raises(InvalidInput, match="past"):
        check(T0 - RULES.past_slack - ONE_SECOND, timedelta(hours=1))


@pytest.mark.parametrize(
    "start",
    [T0 - timedelta(minutes=1), T0 - timedelta(seconds=30), T0, T0 + timedelta(days=7)],
    ids=["slack-ago", "moments-ago", "now", "at-horizon"],
)
def test_a_start_from_a_moment_ago_up_to_exactly_the_horizon_is_accepted(
    start: datetime,
) -> None:
    check(start, timedelta(hours=1))


def test_a_start_beyond_the_horizon_is_refused() -> None:
    with pytest.raises(InvalidInput, match="horizon"):
        check(T0 + RULES.horizon + ONE_SECOND, timedelta(hours=1))


@pytest.mark.parametrize(
    "length",
    [
        timedelta(minutes=10) - ONE_SECOND,
        timedelta(hours=4) + ONE_SECOND,
        timedelta(0),
        -ONE_SECOND,
    ],
    ids=["too-short", "too-long", "empty", "negative"],
)
def test_a_booking_shorter_than_the_minimum_or_longer_than_the_maximum_is_refused(
    length: timedelta,
) -> None:
    with pytest.raises(InvalidInput, match="a booking lasts 10 to 240 minutes"):
        check(T0 + timedelta(hours=1), length)


@pytest.mark.parametrize(
    "length", [timedelta(minutes=10), timedelta(hours=4)], ids=["minimum", "maximum"]
)
def test_a_booking_of_exactly_the_minimum_or_maximum_length_is_accepted(
    length: timedelta,
) -> None:
    check(T0 + timedelta(hours=1), length)


def test_a_start_without_a_time_zone_is_refused() -> None:
    naive = (T0 + timedelta(hours=1)).replace(tzinfo=None)
    with pytest.raises(InvalidInput, match="time zone"):
        RULES.check_window(naive, naive + timedelta(hours=1), T0)


def test_other_rules_move_the_boundaries() -> None:
    rules = Rules(horizon=timedelta(days=1), min_length=timedelta(minutes=30))
    rules.check_window(T0 + timedelta(days=1), T0 + timedelta(days=1, minutes=30), T0)
    with pytest.raises(InvalidInput, match="horizon"):
        rules.check_window(T0 + timedelta(days=2), T0 + timedelta(days=2, hours=1), T0)
    with pytest.raises(InvalidInput, match="30 to 240"):
        rules.check_window(T0, T0 + timedelta(minutes=20), T0)
