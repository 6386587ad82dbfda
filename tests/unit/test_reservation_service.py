"""Use cases of reservations on in-memory fakes (reservations/service.py).

The world of these tests: site S1 has station ST-A (EVSEs 1 and 2 with CCS, EVSE 3 with
CHAdeMO) and station ST-B (EVSE 1 with CCS); site S2 has ST-C (EVSE 1 with CCS); site S3 has
ST-D (EVSE 1 with both CCS and CHAdeMO, EVSE 2 with CHAdeMO only). Every charger accepts
ReserveNow unless a test scripts another answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.unit.charger_fakes import FakeAlternatives, FakeChargerHold
from tests.unit.fakes import DEFAULT_START, EventRecorder, FakeClock
from tests.unit.memory_uow import ReadOnlyViolation
from tests.unit.reservation_fakes import InMemoryReservationRepository, ReservationStore
from voltbook.core.bus import InProcessBus
from voltbook.core.connectors import EvseRef
from voltbook.core.errors import Conflict, InvalidInput, NotFound
from voltbook.reservations.events import (
    ReservationCancelled,
    ReservationCreated,
    ReservationExpired,
    ReservationFailed,
    ReservationFulfilled,
    ReservationHeld,
    ReservationMoved,
    ReservationStartingSoon,
)
from voltbook.reservations.model import (
    Alternative,
    BookingRequest,
    Change,
    HistoryEntry,
    InFlight,
    NotAllowed,
    Reservation,
    Status,
    TooManyLive,
)
from voltbook.reservations.ports import JobKind, SlotTaken
from voltbook.reservations.service import ReservationService
from voltbook.stations.standards import Standard

NOW = DEFAULT_START
CCS = Standard.IEC_62196_T2_COMBO.value
CHADEMO = Standard.CHADEMO.value
HAND_OFF, NO_SHOW, RELEASE = JobKind.HAND_OFF, JobKind.NO_SHOW, JobKind.RELEASE
GRACE = timedelta(minutes=15)
LEAD = timedelta(minutes=5)


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


@pytest.fixture
def clock() -> FakeClock:
    """A fixed start: these tests verify no tokens, so no need for the real time."""
    return FakeClock(NOW)


@pytest.fixture
def store() -> ReservationStore:
    store = ReservationStore()
    store.add_station("ST-A", "S1", {1: [CCS], 2: [CCS], 3: [CHADEMO]})
    store.add_station("ST-B", "S1", {1: [CCS]})
    store.add_station("ST-C", "S2", {1: [CCS]})
    store.add_station("ST-D", "S3", {1: [CCS, CHADEMO], 2: [CHADEMO]})
    store.add_vehicle("driver-1", "ccs-car", [CCS])
    store.add_vehicle("driver-1", "leaf", [CHADEMO])
    return store


@pytest.fixture
def hold() -> FakeChargerHold:
    return FakeChargerHold()


@pytest.fixture
def service(
    store: ReservationStore, hold: FakeChargerHold, clock: FakeClock, bus: InProcessBus
) -> ReservationService:
    return ReservationService(store.uow, hold, clock, bus)


async def book(
    service: ReservationService,
    driver_id: str = "driver-1",
    *,
    station_id: str = "ST-A",
    minutes: int = 60,
    evse_id: int | None = None,
    vehicle_id: str | None = None,
    starts_at: datetime | None = None,
    key: str | None = None,
) -> Reservation:
    reservation, created = await service.book(
        driver_id,
        BookingRequest(station_id, minutes, evse_id, vehicle_id, starts_at),
        key,
    )
    assert created
    return reservation


def pause_in_evses(store: ReservationStore) -> tuple[asyncio.Event, asyncio.Event]:
    """The next booking stops in the middle of its transaction: `entered` is set when it is
    there, and it goes on once the test sets `go_on`."""
    entered, go_on = asyncio.Event(), asyncio.Event()

    async def pause() -> None:
        entered.set()
        await go_on.wait()

    store.during_evses = pause
    return entered, go_on


async def drain(service: ReservationService) -> int:
    """Run the job runner until nothing is due; a runner that never settles is a bug."""
    total = 0
    for _ in range(20):
        ran = await service.run_due()
        if ran == 0:
            return total
        total += ran
    raise AssertionError("the job runner keeps finding due jobs")


async def held_booking(
    service: ReservationService, driver_id: str = "driver-1", *, evse_id: int | None = None
) -> Reservation:
    """A booking starting now that the charger already holds."""
    booked = await book(service, driver_id, evse_id=evse_id)
    await drain(service)
    current = await service.get(booked.id, driver_id)
    assert current.status is Status.HELD
    return current


def next_free(refused: SlotTaken) -> list[dict[str, Any]]:
    """The slots a refusal offers instead (its problem+json `next_free` member)."""
    offers = refused.details["next_free"]
    assert isinstance(offers, list)
    return offers


def changes(reservation: Reservation) -> list[Change | None]:
    return [entry.change for entry in reservation.history]


# --- booking --------------------------------------------------------------------------------


async def test_booking_now_schedules_an_immediate_hand_off_and_a_no_show_after_the_grace(
    service: ReservationService, store: ReservationStore, events: EventRecorder
) -> None:
    reservation, created = await service.book("driver-1", BookingRequest("ST-A", 60))

    assert created
    assert reservation.status is Status.SCHEDULED
    assert (reservation.station_id, reservation.evse_id, reservation.any_evse) == ("ST-A", 1, True)
    assert (reservation.starts_at, reservation.ends_at) == (NOW, at(60))
    assert reservation.history == (
        HistoryEntry(NOW, Status.SCHEDULED, None, "booked", EvseRef("ST-A", 1)),
    )
    assert store.committed(reservation.id) == reservation
    assert store.pending_jobs(reservation.id) == [(HAND_OFF, NOW), (NO_SHOW, NOW + GRACE)]
    assert service.wake.is_set()
    assert [type(e) for e in events.events] == [ReservationCreated]
    assert events.of_type(ReservationCreated)[0].reservation == reservation


async def test_a_later_slot_is_handed_off_lead_time_before_it_starts(
    service: ReservationService,
    store: ReservationStore,
    hold: FakeChargerHold,
    clock: FakeClock,
) -> None:
    start = at(120)
    reservation = await book(service, starts_at=start)

    assert store.pending_jobs(reservation.id) == [
        (HAND_OFF, start - LEAD),
        (NO_SHOW, start + GRACE),
    ]
    assert not service.wake.is_set()
    assert await service.run_due() == 0
    clock.set_now(start - LEAD - timedelta(seconds=1))
    assert await service.run_due() == 0
    assert hold.reserved == []
    clock.set_now(start - LEAD)
    assert await service.run_due() == 1
    assert hold.reserved == [("ST-A", 1, reservation.id)]


async def test_the_no_show_of_a_slot_shorter_than_the_grace_falls_at_its_end(
    service: ReservationService, store: ReservationStore
) -> None:
    reservation = await book(service, minutes=10, starts_at=at(60))
    assert store.pending_jobs(reservation.id)[-1] == (NO_SHOW, at(70))


async def test_a_start_given_in_another_time_zone_is_stored_in_utc(
    service: ReservationService,
) -> None:
    from zoneinfo import ZoneInfo

    local = at(90).astimezone(ZoneInfo("America/New_York"))
    reservation = await book(service, starts_at=local)
    assert reservation.starts_at == at(90)
    assert reservation.starts_at.utcoffset() == timedelta(0)


async def test_booking_any_evse_takes_the_first_free_usable_one(
    service: ReservationService, store: ReservationStore
) -> None:
    store.set_usable("ST-A", 1, usable=False)
    await book(service, "driver-2", evse_id=2, starts_at=at(30))
    reservation = await book(service, starts_at=at(60))
    assert reservation.evse_id == 3


async def test_booking_with_a_vehicle_takes_only_an_evse_with_its_plug(
    service: ReservationService,
) -> None:
    reservation = await book(service, vehicle_id="leaf")
    assert (reservation.evse_id, reservation.vehicle_id) == (3, "leaf")


async def test_booking_a_named_evse_takes_that_evse(service: ReservationService) -> None:
    reservation = await book(service, evse_id=2)
    assert (reservation.evse_id, reservation.any_evse) == (2, False)


async def test_a_booking_ending_when_another_starts_fits_on_the_same_evse(
    service: ReservationService,
) -> None:
    await book(service, "driver-2", evse_id=1, starts_at=at(60))
    reservation = await book(service, evse_id=1, starts_at=NOW, minutes=60)
    assert (reservation.evse_id, reservation.ends_at) == (1, at(60))


async def test_a_driver_keeps_one_id_tag_for_all_bookings(service: ReservationService) -> None:
    first = await book(service)
    second = await book(service, starts_at=at(120))
    other = await book(service, "driver-2", starts_at=at(120))
    assert first.id_tag == second.id_tag
    assert other.id_tag != first.id_tag


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (BookingRequest("ST-X", 60), "station ST-X does not exist"),
        (BookingRequest("ST-A", 60, evse_id=9), "station ST-A has no EVSE 9"),
        (BookingRequest("ST-A", 60, vehicle_id="not-mine"), "vehicle not-mine does not exist"),
    ],
    ids=["station", "evse", "vehicle"],
)
async def test_booking_something_unknown_is_not_found(
    service: ReservationService, store: ReservationStore, request_: BookingRequest, message: str
) -> None:
    with pytest.raises(NotFound, match=message):
        await service.book("driver-1", request_)
    assert store.state.reservations == {}


async def test_booking_where_no_connector_fits_is_a_conflict(
    service: ReservationService, store: ReservationStore
) -> None:
    with pytest.raises(Conflict, match="no connector of this station fits"):
        await service.book("driver-1", BookingRequest("ST-B", 60, vehicle_id="leaf"))
    store.set_usable("ST-B", 1, usable=False)
    with pytest.raises(Conflict, match="no connector of this station fits"):
        await service.book("driver-1", BookingRequest("ST-B", 60))


@pytest.mark.parametrize(
    ("starts_at", "minutes", "message"),
    [
        (NOW - timedelta(minutes=2), 60, "past"),
        (NOW + timedelta(days=8), 60, "horizon"),
        (None, 5, "10 to 240 minutes"),
        (None, 241, "10 to 240 minutes"),
    ],
    ids=["past", "beyond-horizon", "too-short", "too-long"],
)
async def test_a_window_outside_the_rules_is_invalid_input(
    service: ReservationService,
    store: ReservationStore,
    starts_at: datetime | None,
    minutes: int,
    message: str,
) -> None:
    with pytest.raises(InvalidInput, match=message):
        await service.book("driver-1", BookingRequest("ST-A", minutes, starts_at=starts_at))
    assert store.state.reservations == {}


async def test_a_start_without_a_time_zone_is_refused(service: ReservationService) -> None:
    naive = at(3 * 24 * 60).replace(tzinfo=None)  # within the horizon in any local time zone
    with pytest.raises(InvalidInput, match="time zone"):
        await service.book("driver-1", BookingRequest("ST-A", 60, starts_at=naive))


# --- idempotency and limits -----------------------------------------------------------------


async def test_the_same_key_and_body_returns_the_same_booking_without_booking_again(
    service: ReservationService, store: ReservationStore, events: EventRecorder
) -> None:
    request = BookingRequest("ST-A", 60, starts_at=at(30))
    first, created = await service.book("driver-1", request, "key-1")
    jobs = store.pending_jobs(first.id)

    replay, created_again = await service.book("driver-1", request, "key-1")

    assert created
    assert not created_again
    assert replay == first
    assert len(store.state.reservations) == 1
    assert store.pending_jobs(first.id) == jobs
    assert len(events.of_type(ReservationCreated)) == 1


async def test_the_same_key_with_another_body_is_invalid_input(
    service: ReservationService, store: ReservationStore
) -> None:
    await service.book("driver-1", BookingRequest("ST-A", 60), "key-1")
    with pytest.raises(InvalidInput, match="Idempotency-Key was used with another request"):
        await service.book("driver-1", BookingRequest("ST-A", 90), "key-1")
    assert len(store.state.reservations) == 1


async def test_a_key_is_the_drivers_own(service: ReservationService) -> None:
    mine, _ = await service.book("driver-1", BookingRequest("ST-A", 60), "key-1")
    theirs, created = await service.book("driver-2", BookingRequest("ST-A", 60), "key-1")
    assert created
    assert theirs.id != mine.id
    assert (theirs.driver_id, theirs.evse_id) == ("driver-2", 2)


async def test_a_key_still_in_flight_is_a_conflict_and_the_first_request_goes_on(
    service: ReservationService, store: ReservationStore
) -> None:
    entered, go_on = pause_in_evses(store)
    request = BookingRequest("ST-A", 60)
    first = asyncio.create_task(service.book("driver-1", request, "key-1"))
    await entered.wait()
    store.during_evses = None

    with pytest.raises(InFlight, match="still being processed"):
        await service.book("driver-1", request, "key-1")

    go_on.set()
    booked, created = await first
    assert created
    assert await service.book("driver-1", request, "key-1") == (booked, False)


async def test_a_retry_is_answered_with_its_booking_even_after_the_start_has_passed(
    service: ReservationService, clock: FakeClock
) -> None:
    request = BookingRequest("ST-A", 60, starts_at=at(10))
    booked, _ = await service.book("driver-1", request, "key-1")

    clock.advance(30 * 60)  # the client retries long after the start

    assert await service.book("driver-1", request, "key-1") == (booked, False)
    with pytest.raises(InvalidInput, match="start lies in the past"):
        await service.book("driver-1", request, "key-2")


async def test_a_third_live_booking_is_a_conflict_until_one_ends(
    service: ReservationService,
) -> None:
    first = await book(service)
    await book(service, starts_at=at(120))

    with pytest.raises(TooManyLive, match="at most 2 live reservations per driver"):
        await book(service, starts_at=at(240))

    await service.cancel(first.id, "driver-1")
    assert (await book(service, starts_at=at(240))).status is Status.SCHEDULED


async def test_a_held_booking_counts_as_live(service: ReservationService) -> None:
    await held_booking(service)
    await book(service, starts_at=at(120))
    with pytest.raises(Conflict, match="at most 2"):
        await book(service, starts_at=at(240))


# --- a taken slot ---------------------------------------------------------------------------


async def test_a_taken_slot_offers_the_next_free_slot_of_the_same_length(
    service: ReservationService, store: ReservationStore
) -> None:
    taken = await book(service, "driver-2", evse_id=1, starts_at=at(60))

    with pytest.raises(SlotTaken, match="booked for that time") as refused:
        await book(service, evse_id=1, starts_at=at(90), minutes=30)

    assert next_free(refused.value) == [{"connector_id": 1, "start": at(120), "end": at(150)}]
    assert list(store.state.reservations) == [taken.id]  # nothing of the refusal was kept
    assert "driver-1" not in store.state.id_tags


async def test_a_taken_slot_on_any_evse_offers_each_evses_next_fitting_slot_soonest_first(
    service: ReservationService,
) -> None:
    await book(service, "driver-2", evse_id=1, starts_at=at(60), minutes=60)
    await book(service, "driver-2", evse_id=2, starts_at=at(60), minutes=120)
    await book(service, "driver-3", evse_id=3, starts_at=at(60), minutes=30)
    await book(service, "driver-3", evse_id=3, starts_at=at(100), minutes=50)  # 10 min gap

    with pytest.raises(SlotTaken) as refused:
        await book(service, starts_at=at(60), minutes=60)

    assert next_free(refused.value) == [
        {"connector_id": 1, "start": at(120), "end": at(180)},
        {"connector_id": 3, "start": at(150), "end": at(210)},
        {"connector_id": 2, "start": at(180), "end": at(240)},
    ]


async def test_a_taken_slot_offers_only_connectors_that_fit_the_vehicle(
    service: ReservationService,
) -> None:
    await book(service, "driver-2", evse_id=1, starts_at=at(60), minutes=60)
    await book(service, "driver-2", evse_id=2, starts_at=at(60), minutes=120)

    with pytest.raises(SlotTaken) as refused:
        await book(service, starts_at=at(60), minutes=60, vehicle_id="ccs-car")

    assert [offer["connector_id"] for offer in next_free(refused.value)] == [1, 2]


async def test_a_taken_slot_near_the_horizon_offers_only_slots_that_can_be_booked(
    service: ReservationService,
) -> None:
    start = NOW + service.rules.horizon - timedelta(minutes=30)
    await book(service, "driver-2", evse_id=1, starts_at=start)

    with pytest.raises(SlotTaken) as refused:
        await book(service, evse_id=1, starts_at=start)

    for offer in next_free(refused.value):
        await book(service, evse_id=offer["connector_id"], starts_at=offer["start"])


# --- hand-off to the charger ----------------------------------------------------------------


async def test_the_hand_off_sends_reserve_now_and_the_booking_is_held(
    service: ReservationService,
    store: ReservationStore,
    hold: FakeChargerHold,
    events: EventRecorder,
) -> None:
    booked = await book(service)

    assert await service.run_due() == 1

    held = store.committed(booked.id)
    assert held.status is Status.HELD
    assert held.history[-1] == HistoryEntry(
        NOW, Status.HELD, Change.HELD, "charger holds the connector", EvseRef("ST-A", 1)
    )
    assert hold.reserved == [("ST-A", 1, booked.id)]
    assert hold.holds == {("ST-A", booked.id): 1}
    assert store.pending_jobs(booked.id) == [(NO_SHOW, NOW + GRACE)]
    assert [type(e) for e in events.events] == [ReservationCreated, ReservationHeld]
    assert events.of_type(ReservationHeld)[0].reservation == held
    assert await service.run_due() == 0  # a slot for now has begun: nothing "starts soon"


async def test_a_later_slot_held_at_its_lead_time_tells_the_driver_it_starts_soon(
    service: ReservationService,
    store: ReservationStore,
    clock: FakeClock,
    events: EventRecorder,
) -> None:
    booked = await book(service, starts_at=at(60))
    assert await service.run_due() == 0  # not yet: the charger is told a lead time before

    clock.set_now(booked.starts_at - service.rules.lead_time)
    assert await service.run_due() == 1

    assert store.committed(booked.id).status is Status.HELD
    [soon] = events.of_type(ReservationStartingSoon)
    assert (soon.reservation.id, soon.reason) == (booked.id, "the slot starts soon")


async def test_a_refused_hand_off_moves_the_booking_to_another_fitting_evse(
    service: ReservationService,
    store: ReservationStore,
    hold: FakeChargerHold,
    events: EventRecorder,
) -> None:
    hold.answers[("ST-A", 1)] = "Occupied"
    booked = await book(service)

    assert await service.run_due() == 1

    moved = store.committed(booked.id)
    assert (moved.status, moved.connector) == (Status.SCHEDULED, EvseRef("ST-A", 2))
    assert moved.history[-1] == HistoryEntry(
        NOW, Status.SCHEDULED, Change.MOVED, "charger answered Occupied", EvseRef("ST-A", 1)
    )
    assert store.pending_jobs(booked.id) == [(HAND_OFF, NOW), (NO_SHOW, NOW + GRACE)]
    assert events.of_type(ReservationMoved)[0].reservation == moved

    await drain(service)

    assert store.committed(booked.id).status is Status.HELD
    assert hold.reserved == [("ST-A", 1, booked.id), ("ST-A", 2, booked.id)]
    assert hold.released == []  # nothing was held on the refusing charger
    assert hold.holds == {("ST-A", booked.id): 2}


async def test_a_move_skips_unusable_busy_unfitting_and_other_sites_evses(
    service: ReservationService,
    store: ReservationStore,
    hold: FakeChargerHold,
) -> None:
    hold.answers[("ST-A", 1)] = "Faulted"
    store.set_usable("ST-A", 2, usable=False)
    booked = await book(service, evse_id=1)
    await book(service, "driver-2", station_id="ST-B", starts_at=at(30))  # overlaps on B/1

    await drain(service)

    failed = store.committed(booked.id)
    # A/2 is out of order, A/3 has another plug, B/1 is busy, and the free C/1 is at another site
    assert failed.status is Status.FAILED
    assert [r[:2] for r in hold.reserved if r[2] == booked.id] == [("ST-A", 1)]


async def test_a_move_may_go_to_another_station_of_the_same_site(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> None:
    hold.answers[("ST-A", 1)] = "Unavailable"
    store.set_usable("ST-A", 2, usable=False)
    booked = await book(service)

    await drain(service)

    moved = store.committed(booked.id)
    assert (moved.status, moved.connector) == (Status.HELD, EvseRef("ST-B", 1))
    assert changes(moved) == [None, Change.MOVED, Change.HELD]


async def test_an_evse_with_other_plugs_is_not_a_fitting_alternative(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> None:
    hold.answers[("ST-A", 1)] = "Occupied"
    store.set_usable("ST-A", 2, usable=False)
    store.set_usable("ST-B", 1, usable=False)
    booked = await book(service)

    await drain(service)

    assert store.committed(booked.id).status is Status.FAILED
    assert ("ST-A", 3, booked.id) not in hold.reserved


async def test_when_every_fitting_evse_refuses_the_booking_fails_without_going_back(
    service: ReservationService,
    store: ReservationStore,
    hold: FakeChargerHold,
    events: EventRecorder,
) -> None:
    for connector in [("ST-A", 1), ("ST-A", 2), ("ST-B", 1)]:
        hold.answers[connector] = "Occupied"
    booked = await book(service)

    assert await drain(service) == 3

    failed = store.committed(booked.id)
    assert failed.status is Status.FAILED
    assert hold.reserved == [("ST-A", 1, booked.id), ("ST-A", 2, booked.id), ("ST-B", 1, booked.id)]
    assert changes(failed) == [None, Change.MOVED, Change.MOVED, Change.FAILED]
    assert [h.connector for h in failed.history] == [
        EvseRef("ST-A", 1),
        EvseRef("ST-A", 1),
        EvseRef("ST-A", 2),
        EvseRef("ST-B", 1),
    ]
    assert (
        failed.history[-1].reason
        == "charger answered Occupied; no other fitting connector at the site"
    )
    assert store.pending_jobs(booked.id) == []  # neither hand-off nor no-show is left
    assert [e.reservation.connector for e in events.of_type(ReservationMoved)] == [
        EvseRef("ST-A", 2),
        EvseRef("ST-B", 1),
    ]
    assert events.of_type(ReservationFailed)[0].reservation == failed
    assert (await service.book("driver-1", BookingRequest("ST-A", 60, starts_at=at(120))))[1]


async def test_a_charger_that_answers_after_a_silent_try_holds_the_booking(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold, clock: FakeClock
) -> None:
    hold.answers[("ST-C", 1)] = "NoAnswer"  # ST-C is alone at its site
    booked = await book(service, station_id="ST-C")
    assert await service.run_due() == 1
    kept = store.committed(booked.id)
    assert (kept.connector, kept.status) == (EvseRef("ST-C", 1), Status.SCHEDULED)
    assert len(kept.history) == 1  # no move, no change: the charger said nothing
    assert await service.run_due() == 0  # it waits a little before asking again

    del hold.answers[("ST-C", 1)]  # back online
    clock.advance(3)
    await drain(service)
    assert store.committed(booked.id).status is Status.HELD
    assert [r for r in hold.reserved if r[2] == booked.id] == [("ST-C", 1, booked.id)] * 2


async def test_an_unreachable_charger_is_not_swapped_for_another_connector_of_itself(
    service: ReservationService,
    store: ReservationStore,
    hold: FakeChargerHold,
    events: EventRecorder,
) -> None:
    hold.answers[("ST-A", 1)] = "NoAnswer"  # ST-B shares the site with ST-A
    booked = await book(service, evse_id=1)
    await drain(service)
    moved = store.committed(booked.id)
    assert (moved.connector, moved.status) == (EvseRef("ST-B", 1), Status.HELD)  # another charger
    assert [(e.reservation.connector, e.reason) for e in events.of_type(ReservationMoved)] == [
        (EvseRef("ST-B", 1), "charger did not answer")
    ]
    assert hold.released == [("ST-A", booked.id)]  # in case its answer was lost on the way


async def test_a_late_release_spares_a_booking_that_came_back_to_that_station(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold, clock: FakeClock
) -> None:
    held = await held_booking(service)
    store.set_usable("ST-A", 2, usable=False)
    hold.offline.add("ST-A")  # the release at ST-A goes unheard for now
    await service.connector_lost("ST-A", 1, "faulted")  # moved to ST-B, held there
    await service.run_due()
    assert store.committed(held.id).connector == EvseRef("ST-B", 1)
    assert hold.released == [("ST-A", held.id)]

    store.set_usable("ST-A", 2, usable=True)
    hold.answers[("ST-B", 1)] = "Faulted"
    await service.connector_lost("ST-B", 1, "faulted")  # back to ST-A/2
    hold.offline.clear()
    await drain(service)
    clock.advance(61)  # the release at ST-A falls due again
    await drain(service)

    back = store.committed(held.id)
    assert (back.connector, back.status) == (EvseRef("ST-A", 2), Status.HELD)
    assert hold.holds[("ST-A", held.id)] == 2  # no late CancelReservation dropped it
    assert hold.released.count(("ST-A", held.id)) == 1


async def test_a_charger_silent_a_few_times_fails_the_booking_with_free_chargers_nearby(
    store: ReservationStore,
    hold: FakeChargerHold,
    clock: FakeClock,
    bus: InProcessBus,
    events: EventRecorder,
) -> None:
    offered = [Alternative("ST-X", "Depot West", 400.2), Alternative("ST-Y", "Mall", 1200.0)]
    nearby = FakeAlternatives(offered)
    service = ReservationService(store.uow, hold, clock, bus, alternatives=nearby)
    hold.answers[("ST-C", 1)] = "NoAnswer"  # ST-C is alone at its site
    booked = await book(service, station_id="ST-C", vehicle_id="ccs-car")

    for _ in range(3):
        assert await service.run_due() == 1
        assert store.committed(booked.id).status is Status.SCHEDULED  # tried again shortly
        clock.advance(1)
        assert await service.run_due() == 0  # backing off (2, 4, 8 s)
        clock.advance(8)
    assert await service.run_due() == 1

    failed = store.committed(booked.id)
    reason = (
        "charger did not answer; no other fitting charger at the site;"
        " free nearby: ST-X Depot West (400 m), ST-Y Mall (1200 m)"
    )
    assert failed.status is Status.FAILED
    assert failed.alternatives == tuple(offered)  # kept with the booking, for the app
    assert failed.history[-1] == HistoryEntry(
        NOW + timedelta(seconds=27), Status.FAILED, Change.FAILED, reason, EvseRef("ST-C", 1)
    )
    assert hold.reserved == [("ST-C", 1, booked.id)] * 4
    assert nearby.asked == [("ST-C", frozenset({CCS}), 3)]
    assert [(e.reservation, e.reason) for e in events.of_type(ReservationFailed)] == [
        (failed, reason)
    ]
    # It never said it held the booking, but its answer may have been lost: it is asked to
    # let go, once.
    assert store.pending_jobs(booked.id) == [(RELEASE, NOW + timedelta(seconds=27))]
    assert await drain(service) == 1
    assert hold.released == [("ST-C", booked.id)]
    assert await drain(service) == 0


async def test_a_silent_charger_is_not_left_for_another_connector_of_itself_on_the_last_try(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold, clock: FakeClock
) -> None:
    hold.answers[("ST-A", 1)] = "NoAnswer"
    store.set_usable("ST-B", 1, usable=False)  # the only other charger of the site
    booked = await book(service, evse_id=1)

    for _ in range(4):
        await service.run_due()
        clock.advance(10)

    failed = store.committed(booked.id)
    assert failed.status is Status.FAILED
    assert failed.history[-1].reason == (
        "charger did not answer; no other fitting charger at the site"
    )
    assert {r[:2] for r in hold.reserved} == {("ST-A", 1)}  # ST-A/2 was free but as silent


async def test_a_station_coming_back_gets_its_waiting_hand_offs_at_once(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> None:
    hold.answers[("ST-C", 1)] = "NoAnswer"
    booked = await book(service, station_id="ST-C")
    await service.run_due()
    del hold.answers[("ST-C", 1)]
    service.wake.clear()
    await service.station_back("ST-C")
    assert service.wake.is_set()
    await drain(service)  # no clock advance needed
    assert store.committed(booked.id).status is Status.HELD


async def test_a_move_never_takes_a_vehicle_to_an_evse_without_its_plug(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> None:
    hold.answers[("ST-D", 1)] = "Occupied"
    booked = await book(service, station_id="ST-D", vehicle_id="ccs-car")
    assert booked.evse_id == 1

    await drain(service)

    assert ("ST-D", 2, booked.id) not in hold.reserved
    assert store.committed(booked.id).status is Status.FAILED


async def test_a_cancellation_while_the_charger_answers_is_not_undone_by_the_hand_off(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> None:
    booked = await book(service)

    async def driver_cancels(reservation: Reservation) -> None:
        await service.cancel(reservation.id, "driver-1")

    hold.during_reserve = driver_cancels
    await drain(service)

    assert store.committed(booked.id).status is Status.CANCELLED
    assert hold.holds == {}  # the release went out after the late ReserveNow


# --- connector lost -------------------------------------------------------------------------


async def test_a_held_booking_moves_when_its_connector_is_lost(
    service: ReservationService,
    store: ReservationStore,
    hold: FakeChargerHold,
    events: EventRecorder,
    clock: FakeClock,
) -> None:
    held = await held_booking(service)
    clock.advance(120)

    await service.connector_lost("ST-A", 1, "faulted")

    moved = store.committed(held.id)
    assert (moved.status, moved.connector) == (Status.SCHEDULED, EvseRef("ST-A", 2))
    assert moved.history[-1] == HistoryEntry(
        at(2), Status.SCHEDULED, Change.MOVED, "connector faulted", EvseRef("ST-A", 1)
    )
    # Same station: the new ReserveNow with the same id replaces the charger's hold, so no
    # CancelReservation (which would cancel the new hold too).
    assert set(store.pending_jobs(held.id)) == {(HAND_OFF, at(2)), (NO_SHOW, NOW + GRACE)}
    assert service.wake.is_set()
    assert events.of_type(ReservationMoved)[0].reason == "connector faulted"

    await drain(service)

    assert store.committed(held.id).status is Status.HELD
    assert ("ST-A", 2, held.id) in hold.reserved
    assert hold.released == []


async def test_a_lost_connector_leaves_scheduled_bookings_and_other_evses_alone(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> None:
    other = await held_booking(service, "driver-2", evse_id=2)
    scheduled = await book(service, evse_id=1)  # its hand-off has not run yet
    before = dict(store.state.reservations)

    await service.connector_lost("ST-A", 1, "faulted")  # scheduled there: the hand-off decides
    await service.connector_lost("ST-A", 3, "unavailable")  # nothing booked there

    assert store.state.reservations == before
    assert store.committed(scheduled.id).status is Status.SCHEDULED
    assert store.committed(other.id).connector == EvseRef("ST-A", 2)
    assert hold.released == []


async def test_a_lost_connector_fails_a_held_booking_when_nothing_else_fits(
    service: ReservationService, store: ReservationStore, events: EventRecorder
) -> None:
    held = await held_booking(service)
    store.set_usable("ST-A", 2, usable=False)
    store.set_usable("ST-B", 1, usable=False)

    await service.connector_lost("ST-A", 1, "unavailable")

    failed = store.committed(held.id)
    assert failed.status is Status.FAILED
    assert (
        failed.history[-1].reason == "connector unavailable; no other fitting connector at the site"
    )
    assert events.of_type(ReservationFailed)[0].reservation == failed


async def test_a_held_booking_that_fails_is_released_at_the_charger(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> None:
    held = await held_booking(service)
    store.set_usable("ST-A", 2, usable=False)
    store.set_usable("ST-B", 1, usable=False)

    await service.connector_lost("ST-A", 1, "unavailable")
    await drain(service)

    assert hold.released == [("ST-A", held.id)]
    assert hold.holds == {}


async def test_a_held_booking_moved_to_another_station_is_released_at_the_old_one(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> None:
    held = await held_booking(service)
    store.set_usable("ST-A", 2, usable=False)

    await service.connector_lost("ST-A", 1, "faulted")
    await drain(service)

    assert store.committed(held.id).connector == EvseRef("ST-B", 1)
    assert ("ST-A", held.id) in hold.released
    assert hold.holds == {("ST-B", held.id): 1}


async def test_a_held_booking_moved_within_its_station_ends_up_held_by_the_charger(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> None:
    held = await held_booking(service)

    await service.connector_lost("ST-A", 1, "faulted")
    await drain(service)

    assert store.committed(held.id).status is Status.HELD
    assert hold.holds == {("ST-A", held.id): 2}


async def test_a_booking_held_before_its_slot_moves_when_its_connector_is_lost(
    service: ReservationService, store: ReservationStore, clock: FakeClock
) -> None:
    booked = await book(service, starts_at=at(30))
    clock.set_now(at(26))
    await drain(service)
    assert store.committed(booked.id).status is Status.HELD

    await service.connector_lost("ST-A", 1, "faulted")

    assert store.committed(booked.id).connector == EvseRef("ST-A", 2)


# --- a hold the charger may still keep ------------------------------------------------------
# A booking moved to another EVSE of the station that held it is not released there: the next
# ReserveNow of the same id replaces the hold. Until one is accepted, the old hold may stand.


async def moved_within_its_station(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> Reservation:
    """A booking ST-A held on EVSE 1, moved to EVSE 2 when EVSE 1 faulted; ST-B is out of
    order, so the booking can go nowhere else. The charger still holds it on EVSE 1."""
    held = await held_booking(service)
    store.set_usable("ST-B", 1, usable=False)
    await service.connector_lost("ST-A", 1, "faulted")
    moved = store.committed(held.id)
    assert (moved.connector, moved.status) == (EvseRef("ST-A", 2), Status.SCHEDULED)
    assert moved.held_by == "ST-A"
    assert hold.holds == {("ST-A", held.id): 1}
    return moved


async def test_cancelling_a_booking_moved_within_its_station_releases_the_old_hold(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> None:
    moved = await moved_within_its_station(service, store, hold)

    await service.cancel(moved.id, "driver-1")  # before its new hand-off ran

    assert store.pending_jobs(moved.id) == [(RELEASE, NOW)]
    await drain(service)
    assert hold.released == [("ST-A", moved.id)]
    assert hold.holds == {}


async def test_a_refused_hand_off_after_a_move_within_the_station_releases_the_old_hold(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> None:
    moved = await moved_within_its_station(service, store, hold)
    hold.answers[("ST-A", 2)] = "Occupied"  # and EVSE 3 has another plug

    await drain(service)

    assert store.committed(moved.id).status is Status.FAILED
    assert hold.released == [("ST-A", moved.id)]
    assert hold.holds == {}


async def test_a_booking_that_leaves_the_station_after_a_move_within_it_is_released_there(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> None:
    moved = await moved_within_its_station(service, store, hold)
    hold.answers[("ST-A", 2)] = "Occupied"
    store.set_usable("ST-B", 1, usable=True)

    await drain(service)

    assert store.committed(moved.id).connector == EvseRef("ST-B", 1)
    assert hold.released == [("ST-A", moved.id)]
    assert hold.holds == {("ST-B", moved.id): 1}


async def test_a_no_show_after_a_move_within_the_station_releases_the_old_hold(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold, clock: FakeClock
) -> None:
    moved = await moved_within_its_station(service, store, hold)
    hold.answers[("ST-A", 2)] = "NoAnswer"  # the new hand-off goes unanswered
    await service.run_due()
    assert store.committed(moved.id).status is Status.SCHEDULED

    clock.set_now(moved.no_show_at)
    await drain(service)

    assert store.committed(moved.id).status is Status.EXPIRED
    assert hold.released == [("ST-A", moved.id)]
    assert hold.holds == {}


async def test_a_silent_hand_off_after_a_move_within_the_station_fails_and_releases(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold, clock: FakeClock
) -> None:
    moved = await moved_within_its_station(service, store, hold)
    hold.answers[("ST-A", 2)] = "NoAnswer"

    for _ in range(4):
        await service.run_due()
        clock.advance(10)
    await drain(service)

    assert store.committed(moved.id).status is Status.FAILED
    assert hold.released == [("ST-A", moved.id)]
    assert hold.holds == {}


async def test_a_booking_that_never_left_a_charger_that_refused_it_sends_no_release(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> None:
    hold.answers[("ST-A", 1)] = "Occupied"
    store.set_usable("ST-A", 2, usable=False)
    booked = await book(service, evse_id=1)
    await drain(service)  # moved to ST-B/1, held there

    await service.cancel(booked.id, "driver-1")
    await drain(service)

    assert hold.released == [("ST-B", booked.id)]  # ST-A never held it


# --- cancelling and seeing bookings ---------------------------------------------------------


async def test_cancelling_a_held_booking_releases_it_at_the_charger(
    service: ReservationService,
    store: ReservationStore,
    hold: FakeChargerHold,
    events: EventRecorder,
    clock: FakeClock,
) -> None:
    held = await held_booking(service)
    service.wake.clear()
    clock.advance(60)

    cancelled = await service.cancel(held.id, "driver-1")

    assert cancelled.status is Status.CANCELLED
    assert cancelled.history[-1] == HistoryEntry(
        at(1), Status.CANCELLED, Change.CANCELLED, "cancelled by driver", EvseRef("ST-A", 1)
    )
    assert store.committed(held.id) == cancelled
    assert store.pending_jobs(held.id) == [(RELEASE, at(1))]
    assert service.wake.is_set()
    assert events.of_type(ReservationCancelled)[0].reason == "cancelled by driver"

    await drain(service)

    assert hold.released == [("ST-A", held.id)]
    assert hold.holds == {}


async def test_a_release_the_charger_did_not_hear_is_sent_again_for_a_while(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold, clock: FakeClock
) -> None:
    held = await held_booking(service)
    await service.cancel(held.id, "driver-1")
    hold.offline.add("ST-A")
    for _ in range(10):  # two minutes and more of retries, then it gives up
        await service.run_due()
        clock.advance(61)
    assert hold.released == [("ST-A", held.id)] * 6
    assert store.pending_jobs(held.id) == []

    hold.offline.clear()
    again = await held_booking(service, evse_id=2)
    await service.cancel(again.id, "driver-1")
    await drain(service)
    assert hold.released[-1] == ("ST-A", again.id)


async def test_cancelling_a_scheduled_booking_sends_nothing_to_the_charger(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> None:
    booked = await book(service, starts_at=at(60))
    service.wake.clear()

    cancelled = await service.cancel(booked.id, "driver-1")

    assert cancelled.status is Status.CANCELLED
    assert store.pending_jobs(booked.id) == []
    assert not service.wake.is_set()
    assert await drain(service) == 0
    assert hold.calls == []


async def test_a_cancelled_booking_frees_its_slot(service: ReservationService) -> None:
    booked = await book(service, evse_id=1, starts_at=at(60))
    await service.cancel(booked.id, "driver-1")
    assert (await book(service, "driver-2", evse_id=1, starts_at=at(60))).evse_id == 1


async def test_an_ended_booking_cannot_be_cancelled(
    service: ReservationService, store: ReservationStore
) -> None:
    booked = await book(service)
    await service.cancel(booked.id, "driver-1")
    with pytest.raises(NotAllowed, match="a cancelled reservation cannot be cancelled"):
        await service.cancel(booked.id, "driver-1")
    assert changes(store.committed(booked.id)) == [None, Change.CANCELLED]


async def test_a_driver_can_neither_see_nor_cancel_another_drivers_booking(
    service: ReservationService, store: ReservationStore
) -> None:
    theirs = await book(service, "driver-2")

    with pytest.raises(NotFound) as hidden:
        await service.get(theirs.id, "driver-1")
    with pytest.raises(NotFound):
        await service.cancel(theirs.id, "driver-1")
    with pytest.raises(NotFound) as missing:
        await service.get(999, "driver-1")

    assert str(hidden.value) == f"reservation {theirs.id} does not exist"
    assert str(missing.value) == "reservation 999 does not exist"  # the same answer as unknown
    assert store.committed(theirs.id).status is Status.SCHEDULED


async def test_staff_can_see_and_cancel_any_booking(
    service: ReservationService, events: EventRecorder
) -> None:
    theirs = await book(service, "driver-2")

    assert await service.get(theirs.id, "staff-1", staff=True) == theirs
    cancelled = await service.cancel(theirs.id, "staff-1", staff=True)

    assert cancelled.history[-1].reason == "cancelled by operator"
    assert events.of_type(ReservationCancelled)[0].reason == "cancelled by operator"


async def test_a_page_lists_the_drivers_own_bookings_newest_first_and_staff_see_all(
    service: ReservationService,
) -> None:
    first = await book(service)
    other = await book(service, "driver-2")
    second = await book(service, starts_at=at(120))

    assert [r.id for r in await service.page("driver-1")] == [second.id, first.id]
    assert [r.id for r in await service.page("driver-1", after=second.id)] == [first.id]
    assert [r.id for r in await service.page("x", staff=True, limit=2)] == [second.id, other.id]


# --- no-shows -------------------------------------------------------------------------------


async def test_a_no_show_expires_a_held_booking_and_releases_it_at_the_charger(
    service: ReservationService,
    store: ReservationStore,
    hold: FakeChargerHold,
    events: EventRecorder,
    clock: FakeClock,
) -> None:
    held = await held_booking(service)
    clock.set_now(held.no_show_at - timedelta(seconds=1))
    assert await service.run_due() == 0

    clock.set_now(held.no_show_at)
    await drain(service)

    expired = store.committed(held.id)
    assert expired.status is Status.EXPIRED
    assert expired.history[-1] == HistoryEntry(
        held.no_show_at,
        Status.EXPIRED,
        Change.EXPIRED,
        "no session within the grace period",
        EvseRef("ST-A", 1),
    )
    assert events.of_type(ReservationExpired)[0].reason == "no-show"
    assert hold.released == [("ST-A", held.id)]
    assert hold.holds == {}
    assert store.pending_jobs(held.id) == []


async def test_a_no_show_expires_a_booking_never_held_without_asking_the_charger(
    service: ReservationService,
    store: ReservationStore,
    hold: FakeChargerHold,
    clock: FakeClock,
) -> None:
    booked = await book(service)
    store.lose_jobs(booked.id, HAND_OFF)  # the hand-off never got through
    clock.set_now(booked.no_show_at)

    await drain(service)

    assert store.committed(booked.id).status is Status.EXPIRED
    assert hold.calls == []


async def test_a_no_show_leaves_a_fulfilled_booking_alone(
    service: ReservationService,
    store: ReservationStore,
    hold: FakeChargerHold,
    clock: FakeClock,
) -> None:
    held = await held_booking(service)
    await service.session_started("ST-A", 1, held.id_tag, held.id, at(3))
    clock.set_now(held.no_show_at + timedelta(hours=1))

    assert await drain(service) == 0
    assert store.committed(held.id).status is Status.FULFILLED
    assert hold.released == []


# --- sessions at the station ----------------------------------------------------------------


async def test_a_session_naming_the_booking_fulfils_it(
    service: ReservationService, store: ReservationStore, events: EventRecorder
) -> None:
    held = await held_booking(service)

    await service.session_started("ST-A", 1, "SOME-CARD", held.id, at(3))

    fulfilled = store.committed(held.id)
    assert fulfilled.status is Status.FULFILLED
    assert fulfilled.history[-1] == HistoryEntry(
        at(3), Status.FULFILLED, Change.FULFILLED, "charging started", EvseRef("ST-A", 1)
    )
    assert store.pending_jobs(held.id) == []
    assert events.of_type(ReservationFulfilled)[0].reservation == fulfilled


async def test_a_session_of_the_holders_id_tag_at_the_held_evse_fulfils_the_booking(
    service: ReservationService, store: ReservationStore
) -> None:
    held = await held_booking(service)
    await service.session_started("ST-A", 1, held.id_tag, None, at(3))
    assert store.committed(held.id).status is Status.FULFILLED


async def test_sessions_that_are_not_the_bookings_leave_it_alone(
    service: ReservationService, store: ReservationStore, events: EventRecorder
) -> None:
    held = await held_booking(service, evse_id=1)
    at_other_station = await book(service, "driver-2", station_id="ST-B")
    ended = await book(service, "driver-3", evse_id=3)
    await service.cancel(ended.id, "driver-3")
    before = dict(store.state.reservations)

    await service.session_started("ST-A", 1, "SOMEONE-ELSE", None, at(3))
    await service.session_started("ST-A", 2, held.id_tag, None, at(3))  # the holder, elsewhere
    await service.session_started("ST-A", 1, None, None, at(3))
    await service.session_started("ST-A", 1, held.id_tag, None, at(61))  # after the slot
    await service.session_started("ST-A", 1, None, at_other_station.id, at(3))
    await service.session_started("ST-A", 3, None, ended.id, at(3))
    await service.session_started("ST-A", 1, None, 999, at(3))

    assert store.state.reservations == before
    assert events.of_type(ReservationFulfilled) == []


async def test_the_holder_starting_early_on_the_held_evse_fulfils_the_booking(
    service: ReservationService, store: ReservationStore, clock: FakeClock
) -> None:
    booked = await book(service, starts_at=at(30))
    clock.set_now(at(26))
    await drain(service)

    await service.session_started("ST-A", 1, booked.id_tag, None, at(27))

    assert store.committed(booked.id).status is Status.FULFILLED


async def test_only_the_holder_may_start_on_a_held_evse(service: ReservationService) -> None:
    held = await held_booking(service, evse_id=1)

    assert await service.may_start("ST-A", 1, held.id_tag, at(3))
    assert not await service.may_start("ST-A", 1, "SOMEONE-ELSE", at(3))
    assert not await service.may_start("ST-A", 1, None, at(3))
    assert await service.may_start("ST-A", 2, "SOMEONE-ELSE", at(3))
    assert await service.may_start("ST-A", 1, "SOMEONE-ELSE", at(60))  # the slot is over


async def test_a_booking_the_charger_does_not_hold_yet_blocks_no_one(
    service: ReservationService,
) -> None:
    await book(service)
    assert await service.may_start("ST-A", 1, "SOMEONE-ELSE", at(1))


async def test_no_one_else_may_start_on_an_evse_held_before_its_slot(
    service: ReservationService, clock: FakeClock
) -> None:
    await book(service, evse_id=1, starts_at=at(30))
    clock.set_now(at(26))
    await drain(service)

    assert not await service.may_start("ST-A", 1, "SOMEONE-ELSE", at(27))


async def test_the_holder_of_a_booking_for_any_connector_fulfils_it_on_any_connector(
    service: ReservationService, store: ReservationStore
) -> None:
    held = await held_booking(service)  # stored on ST-A/1; the charger keeps any one free
    named = await held_booking(service, "driver-2", evse_id=2)

    await service.session_started("ST-A", 3, held.id_tag, None, at(3))
    await service.session_started("ST-A", 1, named.id_tag, None, at(3))

    assert store.committed(held.id).status is Status.FULFILLED
    assert store.committed(named.id).status is Status.HELD  # named: only on its own EVSE


async def test_a_hold_for_any_connector_keeps_one_fitting_connector_free_not_its_stored_one(
    service: ReservationService,
) -> None:
    await held_booking(service)  # on ST-A/1, a CCS connector

    # Either CCS connector may go to someone else while the other stays free.
    assert await service.may_start("ST-A", 1, "SOMEONE-ELSE", at(3))
    assert await service.may_start("ST-A", 2, "SOMEONE-ELSE", at(3))

    await held_booking(service, "driver-2", evse_id=2)

    # Now ST-A/1 is the only CCS connector left for it; the CHAdeMO one is not its kind.
    assert not await service.may_start("ST-A", 1, "SOMEONE-ELSE", at(3))
    assert await service.may_start("ST-A", 3, "SOMEONE-ELSE", at(3))


async def test_a_hold_for_any_connector_keeps_a_connector_its_vehicle_takes(
    service: ReservationService,
) -> None:
    held = await book(service, vehicle_id="leaf")  # a CHAdeMO car: only ST-A/3 fits
    await drain(service)
    assert held.evse_id == 3

    assert not await service.may_start("ST-A", 3, "SOMEONE-ELSE", at(3))
    assert await service.may_start("ST-A", 1, "SOMEONE-ELSE", at(3))
    assert await service.may_start("ST-A", 3, held.id_tag, at(3))


async def test_a_hold_for_any_connector_of_a_one_connector_station_keeps_that_one(
    service: ReservationService,
) -> None:
    await book(service, station_id="ST-C")
    await drain(service)

    assert not await service.may_start("ST-C", 1, "SOMEONE-ELSE", at(3))
    assert not await service.may_authorize("ST-C", "SOMEONE-ELSE", at(3))


async def test_a_hold_for_any_connector_cannot_count_on_a_connector_someone_charges_at(
    service: ReservationService, store: ReservationStore
) -> None:
    await held_booking(service)  # for any CCS connector of ST-A (1 and 2)
    store.set_in_use("ST-A", 1, in_use=True)  # a walk-up driver charges at ST-A/1

    assert not await service.may_start("ST-A", 2, "SOMEONE-ELSE", at(3))  # the last CCS one
    assert await service.may_start("ST-A", 3, "SOMEONE-ELSE", at(3))  # CHAdeMO: not its kind

    store.set_usable("ST-A", 3, usable=False)
    assert not await service.may_authorize("ST-A", "SOMEONE-ELSE", at(3))

    store.set_in_use("ST-A", 1, in_use=False)  # that driver leaves
    assert await service.may_start("ST-A", 2, "SOMEONE-ELSE", at(3))
    assert await service.may_authorize("ST-A", "SOMEONE-ELSE", at(3))


# --- Authorize (names no connector) ---------------------------------------------------------


async def test_a_tag_may_not_authorize_where_every_usable_connector_is_held_for_others(
    service: ReservationService, store: ReservationStore
) -> None:
    first = await held_booking(service, evse_id=1)
    second = await held_booking(service, "driver-2", evse_id=2)
    assert await service.may_authorize("ST-A", "SOMEONE-ELSE", at(3))  # ST-A/3 is free

    store.set_usable("ST-A", 3, usable=False)

    assert not await service.may_authorize("ST-A", "SOMEONE-ELSE", at(3))
    assert await service.may_authorize("ST-A", first.id_tag, at(3))
    assert await service.may_authorize("ST-A", second.id_tag, at(3))
    assert await service.may_authorize("ST-B", "SOMEONE-ELSE", at(3))  # another station
    assert await service.may_authorize("ST-A", "SOMEONE-ELSE", at(60))  # the slots are over


async def test_a_booking_the_charger_does_not_hold_yet_refuses_no_one_at_authorize(
    service: ReservationService,
) -> None:
    await book(service, station_id="ST-C")  # its hand-off has not run
    assert await service.may_authorize("ST-C", "SOMEONE-ELSE", at(1))


async def test_holds_for_any_connector_count_at_authorize_by_the_connectors_they_need(
    service: ReservationService, store: ReservationStore
) -> None:
    await held_booking(service)
    await held_booking(service, "driver-2")
    assert await service.may_authorize("ST-A", "SOMEONE-ELSE", at(3))  # CHAdeMO is left

    store.set_usable("ST-A", 3, usable=False)

    assert not await service.may_authorize("ST-A", "SOMEONE-ELSE", at(3))


# --- what chargers report of their holds (OCPP 2.0.1 ReservationStatusUpdate) ---------------


async def test_a_hold_the_charger_removed_moves_the_booking_like_a_lost_connector(
    service: ReservationService,
    store: ReservationStore,
    hold: FakeChargerHold,
    events: EventRecorder,
    clock: FakeClock,
) -> None:
    held = await held_booking(service, evse_id=1)
    clock.advance(120)

    await service.hold_removed("ST-A", held.id)

    moved = store.committed(held.id)
    assert (moved.status, moved.connector) == (Status.SCHEDULED, EvseRef("ST-A", 2))
    assert moved.history[-1] == HistoryEntry(
        at(2), Status.SCHEDULED, Change.MOVED, "charger dropped the hold", EvseRef("ST-A", 1)
    )
    assert events.of_type(ReservationMoved)[0].reservation == moved
    await drain(service)
    assert store.committed(held.id).status is Status.HELD
    assert hold.holds == {("ST-A", held.id): 2}


async def test_a_hold_the_charger_removed_fails_the_booking_when_nothing_else_fits(
    service: ReservationService, store: ReservationStore, events: EventRecorder
) -> None:
    booked = await book(service, station_id="ST-C")
    await drain(service)

    await service.hold_removed("ST-C", booked.id)

    failed = store.committed(booked.id)
    assert failed.status is Status.FAILED
    assert failed.history[-1].reason == (
        "charger dropped the hold; no other fitting connector at the site"
    )
    assert events.of_type(ReservationFailed)[0].reservation == failed


async def test_a_hold_the_charger_let_expire_expires_the_booking(
    service: ReservationService,
    store: ReservationStore,
    hold: FakeChargerHold,
    events: EventRecorder,
    clock: FakeClock,
) -> None:
    held = await held_booking(service)

    await service.hold_expired("ST-A", held.id)

    assert store.committed(held.id).status is Status.EXPIRED
    assert [e.reason for e in events.of_type(ReservationExpired)] == ["no-show"]
    clock.set_now(held.no_show_at)
    await drain(service)  # voltbook's own no-show comes later and finds nothing to do
    assert store.committed(held.id).status is Status.EXPIRED
    assert len(events.of_type(ReservationExpired)) == 1
    assert hold.holds == {}


async def test_what_a_charger_reports_of_holds_not_its_own_changes_nothing(
    service: ReservationService,
    store: ReservationStore,
    hold: FakeChargerHold,
    events: EventRecorder,
) -> None:
    held = await held_booking(service)
    scheduled = await book(service, "driver-2", station_id="ST-B", starts_at=at(60))
    fulfilled = await held_booking(service, "driver-3", evse_id=3)
    await service.session_started("ST-A", 3, fulfilled.id_tag, None, at(1))
    before = dict(store.state.reservations)
    seen = len(events.events)

    await service.hold_removed("ST-B", held.id)  # another station speaks of ST-A's booking
    await service.hold_expired("ST-B", held.id)
    await service.hold_removed("ST-A", 999)  # no such booking
    await service.hold_expired("ST-A", 999)
    await service.hold_removed("ST-B", scheduled.id)  # not held by the charger yet
    await service.hold_removed("ST-A", fulfilled.id)  # already over
    await service.hold_expired("ST-A", fulfilled.id)

    assert store.state.reservations == before
    assert events.events[seen:] == []


# --- availability ---------------------------------------------------------------------------


async def test_availability_lists_the_free_intervals_of_every_evse(
    service: ReservationService,
) -> None:
    await book(service, "driver-2", evse_id=1, starts_at=at(30), minutes=60)
    await book(service, "driver-2", evse_id=2, starts_at=at(60), minutes=60)
    cancelled = await book(service, "driver-3", evse_id=3, starts_at=at(30))
    await service.cancel(cancelled.id, "driver-3")

    start, end, free = await service.availability("ST-A", NOW, at(180))

    assert (start, end) == (NOW, at(180))
    assert free == {
        1: [(NOW, at(30)), (at(90), at(180))],
        2: [(NOW, at(60)), (at(120), at(180))],
        3: [(NOW, at(180))],
    }


async def test_availability_defaults_to_the_next_day(service: ReservationService) -> None:
    start, end, free = await service.availability("ST-B", None, None)
    assert (start, end) == (NOW, NOW + timedelta(days=1))
    assert free == {1: [(start, end)]}


@pytest.mark.parametrize(
    ("start", "end"),
    [(at(60), at(60)), (at(60), at(30)), (NOW, NOW + timedelta(days=31, seconds=1))],
    ids=["empty", "backwards", "too-long"],
)
async def test_availability_of_an_unreasonable_range_is_invalid_input(
    service: ReservationService, start: datetime, end: datetime
) -> None:
    with pytest.raises(InvalidInput, match="at most 31 days"):
        await service.availability("ST-A", start, end)


async def test_availability_of_an_unknown_station_is_not_found(
    service: ReservationService,
) -> None:
    with pytest.raises(NotFound, match="station ST-X does not exist"):
        await service.availability("ST-X", None, None)


# --- the in-memory repository keeps the real one's promises ----------------------------------


def booking(
    evse_id: int, start: float, end: float, status: Status = Status.SCHEDULED
) -> Reservation:
    return Reservation(
        id=0,
        driver_id="driver-9",
        station_id="ST-A",
        evse_id=evse_id,
        any_evse=False,
        starts_at=at(start),
        ends_at=at(end),
        grace=GRACE,
        status=status,
        id_tag="VB-TEST",
        created_at=NOW,
        history=(HistoryEntry(NOW, status, None, "booked", f"ST-A/{evse_id}"),),
    )


async def test_the_fake_refuses_overlapping_live_bookings_on_one_evse(
    store: ReservationStore,
) -> None:
    async with store.uow() as uow:
        first = await uow.reservations.add(booking(1, 0, 60))
        await uow.reservations.add(booking(1, 60, 120))  # back to back
        await uow.reservations.add(booking(2, 0, 60))  # another EVSE
        await uow.reservations.add(booking(1, 30, 90, Status.CANCELLED))  # not live
        with pytest.raises(SlotTaken):
            await uow.reservations.add(booking(1, 30, 90))
        with pytest.raises(SlotTaken):
            await uow.reservations.save(dataclasses.replace(first, evse_id=2))
        await uow.reservations.save(first.apply(Change.CANCELLED, NOW, "freed"))
        await uow.reservations.add(booking(1, 30, 60))  # fits now


async def test_the_fake_keeps_only_committed_writes(store: ReservationStore) -> None:
    async with store.uow() as uow:
        await uow.reservations.add(booking(1, 0, 60))
    assert store.state.reservations == {}

    async with store.uow() as uow:
        saved = await uow.reservations.add(booking(1, 0, 60))
        await uow.reservations.schedule(saved.id, HAND_OFF, NOW)
        await uow.commit()
    assert list(store.state.reservations) == [saved.id]
    assert store.pending_jobs(saved.id) == [(HAND_OFF, NOW)]


async def test_the_fakes_read_only_unit_of_work_refuses_writes(store: ReservationStore) -> None:
    async with store.uow(read_only=True) as uow:
        with pytest.raises(ReadOnlyViolation):
            await uow.reservations.add(booking(1, 0, 60))
        with pytest.raises(ReadOnlyViolation):
            await uow.reservations.claim_due(NOW, 10, timedelta(seconds=90))


async def test_the_fake_leases_claimed_jobs_until_the_lease_runs_out(
    store: ReservationStore,
) -> None:
    async with store.uow() as uow:
        await uow.reservations.schedule(1, HAND_OFF, at(1))
        await uow.reservations.schedule(1, NO_SHOW, NOW)
        await uow.commit()
    lease = timedelta(seconds=90)
    async with store.uow() as uow:
        claimed = await uow.reservations.claim_due(at(1), 10, lease)
        again = await uow.reservations.claim_due(at(1), 10, lease)
        later = await uow.reservations.claim_due(at(1) + lease + timedelta(seconds=1), 1, lease)
        await uow.commit()
    assert [(j.kind, j.attempts) for j in claimed] == [(NO_SHOW, 1), (HAND_OFF, 1)]
    assert again == []
    assert [(j.kind, j.attempts) for j in later] == [(NO_SHOW, 2)]


async def test_a_job_that_breaks_leaves_the_rest_of_its_batch_running_and_comes_back_soon(
    service: ReservationService, hold: FakeChargerHold, clock: FakeClock
) -> None:
    first = await book(service, evse_id=1)
    second = await book(service, evse_id=2)

    async def broken_link(reservation: Reservation) -> None:
        if reservation.id == first.id:
            raise ConnectionResetError("the link broke mid-command")

    hold.during_reserve = broken_link
    with pytest.raises(ConnectionResetError):
        await service.run_due()
    assert (await service.get(second.id, "driver-1")).status is Status.HELD
    assert (await service.get(first.id, "driver-1")).status is Status.SCHEDULED

    hold.during_reserve = None
    assert await service.run_due() == 0  # backing off, not hammering
    clock.advance(3)
    await drain(service)
    assert (await service.get(first.id, "driver-1")).status is Status.HELD


async def test_a_charger_slow_to_answer_holds_up_no_other_hand_off_of_its_batch(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> None:
    slow = await book(service, station_id="ST-C")  # claimed first
    other = await book(service, "driver-2", station_id="ST-A")
    answer_now = asyncio.Event()

    async def slow_charger(reservation: Reservation) -> None:
        if reservation.station_id == "ST-C":
            await answer_now.wait()  # as if waiting out the command timeout

    hold.during_reserve = slow_charger
    batch = asyncio.create_task(service.run_due())
    try:
        async with asyncio.timeout(1):
            while store.committed(other.id).status is not Status.HELD:
                await asyncio.sleep(0.001)
        assert store.committed(slow.id).status is Status.SCHEDULED
        assert not batch.done()  # the batch ends when its last job does
    finally:
        answer_now.set()
        ran = await batch
    assert ran == 2
    assert store.committed(slow.id).status is Status.HELD
    assert store.pending_jobs(slow.id) == [(NO_SHOW, NOW + GRACE)]


async def test_a_batch_runs_at_most_sixteen_jobs_at_once(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> None:
    store.add_station("HUB", "S9", {n: [CCS] for n in range(1, 21)})
    for n in range(1, 21):
        await book(service, f"driver-{n}", station_id="HUB", evse_id=n)
    on_the_wire, most = 0, 0
    go_on = asyncio.Event()

    async def count(reservation: Reservation) -> None:
        nonlocal on_the_wire, most
        on_the_wire += 1
        most = max(most, on_the_wire)
        await go_on.wait()
        on_the_wire -= 1

    hold.during_reserve = count
    batch = asyncio.create_task(service.run_due())
    async with asyncio.timeout(1):
        while on_the_wire < 16:
            await asyncio.sleep(0.001)
    await asyncio.sleep(0.01)
    go_on.set()
    assert await batch == 20
    assert most == 16
    assert len(hold.reserved) == 20


async def test_the_jobs_of_one_booking_run_one_after_another(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> None:
    held = await held_booking(service)
    store.set_usable("ST-A", 2, usable=False)
    await service.connector_lost("ST-A", 1, "faulted")  # a hand-off to ST-B, a release at ST-A
    in_flight: set[int] = set()
    overlapped: list[int] = []

    async def on_the_wire(reservation_id: int) -> None:
        if reservation_id in in_flight:
            overlapped.append(reservation_id)
        in_flight.add(reservation_id)
        await asyncio.sleep(0.001)
        in_flight.discard(reservation_id)

    async def reserving(reservation: Reservation) -> None:
        await on_the_wire(reservation.id)

    async def releasing(station_id: str, reservation_id: int) -> None:
        await on_the_wire(reservation_id)

    hold.during_reserve, hold.during_release = reserving, releasing
    assert await service.run_due() == 2

    assert overlapped == []
    assert hold.calls[-2:] == [("reserve", "ST-B/1"), ("release", "ST-A")]
    assert hold.holds == {("ST-B", held.id): 1}


async def test_a_booking_made_while_a_batch_waits_on_a_silent_charger_goes_out_in_another(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> None:
    slow = await book(service, station_id="ST-C")
    answer_now = asyncio.Event()

    async def slow_charger(reservation: Reservation) -> None:
        if reservation.station_id == "ST-C":
            await answer_now.wait()  # as if waiting out the command timeout

    hold.during_reserve = slow_charger
    first = asyncio.create_task(service.run_due())
    async with asyncio.timeout(1):
        while not hold.reserved:
            await asyncio.sleep(0.001)
    later = await book(service, "driver-2", station_id="ST-A")

    assert await service.run_due() == 1  # the waiting batch's job is leased, not taken again
    assert store.committed(later.id).status is Status.HELD
    assert not first.done()
    answer_now.set()
    assert await first == 1
    assert [r for r in hold.reserved if r[2] == slow.id] == [("ST-C", 1, slow.id)]  # sent once


async def test_the_jobs_of_one_booking_wait_their_turn_across_batches_that_run_at_once(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> None:
    await held_booking(service)
    store.set_usable("ST-A", 2, usable=False)
    await service.connector_lost("ST-A", 1, "faulted")  # a hand-off to ST-B, a release at ST-A
    on_the_wire, go_on = asyncio.Event(), asyncio.Event()

    async def reserving(reservation: Reservation) -> None:
        on_the_wire.set()
        await go_on.wait()

    hold.during_reserve = reserving
    first = asyncio.create_task(service.run_due(limit=1))  # takes the hand-off
    await on_the_wire.wait()
    second = asyncio.create_task(service.run_due(limit=1))  # takes the release: waits
    await asyncio.sleep(0.02)
    assert hold.calls[-1] == ("reserve", "ST-B/1")  # the release is not on the wire yet

    go_on.set()
    assert (await first, await second) == (1, 1)
    assert hold.calls[-2:] == [("reserve", "ST-B/1"), ("release", "ST-A")]


# --- requests that arrive together ------------------------------------------------------


async def test_requests_that_arrive_together_are_written_in_one_transaction(
    service: ReservationService, store: ReservationStore
) -> None:
    before = store.commits
    answers = await asyncio.gather(
        *(service.book(f"driver-{n}", BookingRequest("ST-A", 60)) for n in range(1, 6)),
        return_exceptions=True,
    )
    booked = [a[0] for a in answers if isinstance(a, tuple)]
    refused = [a for a in answers if isinstance(a, SlotTaken)]
    assert sorted(r.evse_id for r in booked) == [1, 2, 3]  # every EVSE of ST-A, once
    assert len(refused) == 2
    assert all(next_free(r) for r in refused)  # a refusal still offers the next free slots
    assert store.commits == before + 1


async def test_one_bad_request_does_not_spoil_the_ones_that_arrive_with_it(
    service: ReservationService,
) -> None:
    good, unknown, late = await asyncio.gather(
        service.book("driver-1", BookingRequest("ST-A", 60)),
        service.book("driver-2", BookingRequest("ST-NOWHERE", 60)),
        service.book("driver-3", BookingRequest("ST-B", 60, vehicle_id="not-theirs")),
        return_exceptions=True,
    )
    assert isinstance(good, tuple)
    assert good[1]
    assert isinstance(unknown, NotFound)
    assert isinstance(late, NotFound)


async def test_the_driver_limit_counts_bookings_of_the_same_batch(
    service: ReservationService,
) -> None:
    answers = await asyncio.gather(
        *(
            service.book("driver-1", BookingRequest("ST-C", 30, starts_at=at(60 * n)))
            for n in range(1, 4)
        ),
        return_exceptions=True,
    )
    assert [isinstance(a, tuple) for a in answers] == [True, True, False]
    assert isinstance(answers[2], Conflict)
    assert "at most 2 live reservations" in str(answers[2])


async def test_a_connector_taken_meanwhile_is_decided_again_against_what_is_stored(
    service: ReservationService, store: ReservationStore
) -> None:
    async def rival_first(repo: InMemoryReservationRepository) -> None:
        store.before_add_many = None
        rival = await book_directly(repo, "driver-9", "ST-A", 1)
        assert rival.id > 0

    store.before_add_many = rival_first
    mine = await book(service, evse_id=None)
    assert mine.evse_id == 2  # EVSE 1 went to the rival between the decision and the insert
    assert {r.driver_id for r in store.state.reservations.values()} == {"driver-1", "driver-9"}


async def test_a_batch_that_fails_is_written_again_one_request_at_a_time(
    service: ReservationService, store: ReservationStore
) -> None:
    failures = 0

    async def fail_once(repo: InMemoryReservationRepository) -> None:
        nonlocal failures
        failures += 1
        if failures == 1:
            raise ConnectionError("the statement broke")

    store.before_add_many = fail_once
    answers = await asyncio.gather(
        service.book("driver-1", BookingRequest("ST-A", 60)),
        service.book("driver-2", BookingRequest("ST-C", 60)),
    )
    assert [created for _, created in answers] == [True, True]
    assert failures == 3  # the batch, then each request alone


async def book_directly(
    repo: InMemoryReservationRepository, driver_id: str, station_id: str, evse_id: int
) -> Reservation:
    return await repo.add(
        Reservation(
            id=0,
            driver_id=driver_id,
            station_id=station_id,
            evse_id=evse_id,
            any_evse=False,
            starts_at=NOW,
            ends_at=at(60),
            grace=GRACE,
            status=Status.SCHEDULED,
            id_tag="RIVAL",
            created_at=NOW,
            history=(
                HistoryEntry(NOW, Status.SCHEDULED, None, "booked", f"{station_id}/{evse_id}"),
            ),
        )
    )


async def test_closing_lets_bookings_being_written_finish(
    service: ReservationService, store: ReservationStore
) -> None:
    entered, go_on = pause_in_evses(store)
    booking = asyncio.create_task(service.book("driver-1", BookingRequest("ST-A", 60)))
    await entered.wait()
    closing = asyncio.create_task(service.close())
    await asyncio.sleep(0.01)
    assert not closing.done()  # waits for the batch
    go_on.set()
    await closing
    assert booking.done()
    assert (await booking)[1]
