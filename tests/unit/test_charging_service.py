"""Who may charge, on in-memory fakes (charging/service.py), with reservations as the guard.

The world of these tests: station ONE has a single CCS EVSE, station TWO has two; each
stands at a site of its own. The guard is the reservations area's own service, wired as
bootstrap wires it, on its in-memory fakes; every charger accepts ReserveNow.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.charger_fakes import FakeChargerHold
from tests.unit.charging_fakes import SessionStore
from tests.unit.fakes import DEFAULT_START, EventRecorder, FakeClock
from tests.unit.reservation_fakes import ReservationStore
from voltbook.charging.events import SessionIdentified, SessionStarted
from voltbook.charging.model import Authorization, MeterSample
from voltbook.charging.service import ChargingService
from voltbook.core.bus import InProcessBus
from voltbook.reservations.model import BookingRequest, Reservation, Status
from voltbook.reservations.service import ReservationService
from voltbook.stations.standards import Standard

NOW = DEFAULT_START
CCS = Standard.IEC_62196_T2_COMBO.value
STRANGER = "STRANGER-CARD"  # a registered card of someone without a booking


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def sessions() -> SessionStore:
    store = SessionStore()
    store.register(STRANGER)
    store.register("BLOCKED-CARD", "Blocked")
    return store


@pytest.fixture
def reservations(clock: FakeClock, bus: InProcessBus) -> ReservationService:
    store = ReservationStore()
    store.add_station("ONE", "S1", {1: [CCS]})
    store.add_station("TWO", "S2", {1: [CCS], 2: [CCS]})
    return ReservationService(store.uow, FakeChargerHold(), clock, bus)


@pytest.fixture
def charging(
    sessions: SessionStore, clock: FakeClock, bus: InProcessBus, reservations: ReservationService
) -> ChargingService:
    service = ChargingService(sessions.uow, clock, bus)
    service.guard = reservations
    return service


async def held(
    reservations: ReservationService,
    sessions: SessionStore,
    station_id: str,
    evse_id: int | None = 1,
    driver_id: str = "driver-1",
) -> Reservation:
    """A booking for now that the charger holds; its driver's tag is registered."""
    booked, _ = await reservations.book(driver_id, BookingRequest(station_id, 60, evse_id))
    await reservations.run_due()
    current = await reservations.get(booked.id, driver_id)
    assert current.status is Status.HELD
    sessions.register(current.id_tag)
    return current


# --- Authorize: no connector named --------------------------------------------------------


async def test_a_tag_is_refused_for_now_where_every_connector_is_held_for_others(
    charging: ChargingService, reservations: ReservationService, sessions: SessionStore
) -> None:
    booking = await held(reservations, sessions, "ONE")

    assert await charging.authorize("ONE", STRANGER) is Authorization.HELD_FOR_OTHERS
    assert await charging.authorize("ONE", booking.id_tag) is Authorization.ACCEPTED
    assert await charging.authorize("TWO", STRANGER) is Authorization.ACCEPTED


async def test_a_tag_is_welcome_while_one_connector_of_the_station_is_free(
    charging: ChargingService, reservations: ReservationService, sessions: SessionStore
) -> None:
    await held(reservations, sessions, "TWO", 1)
    assert await charging.authorize("TWO", STRANGER) is Authorization.ACCEPTED

    await held(reservations, sessions, "TWO", 2, "driver-2")
    assert await charging.authorize("TWO", STRANGER) is Authorization.HELD_FOR_OTHERS


async def test_a_tags_own_standing_comes_before_any_reservation(
    charging: ChargingService, reservations: ReservationService, sessions: SessionStore
) -> None:
    await held(reservations, sessions, "ONE")

    assert await charging.authorize("ONE", "UNKNOWN-CARD") is Authorization.INVALID
    assert await charging.authorize("ONE", "BLOCKED-CARD") is Authorization.BLOCKED


# --- starts ---------------------------------------------------------------------------------


async def test_a_start_on_a_connector_held_for_another_is_refused_for_now(
    charging: ChargingService, reservations: ReservationService, sessions: SessionStore
) -> None:
    booking = await held(reservations, sessions, "ONE")

    _, stranger = await charging.start("ONE", 1, 1, STRANGER, 0.0, NOW)
    _, holder = await charging.start("ONE", 1, 1, booking.id_tag, 0.0, NOW + timedelta(minutes=1))

    assert stranger is Authorization.HELD_FOR_OTHERS
    assert holder is Authorization.ACCEPTED


async def test_a_session_begun_without_a_tag_is_recorded_and_has_nothing_to_refuse(
    charging: ChargingService,
    reservations: ReservationService,
    sessions: SessionStore,
    events: EventRecorder,
) -> None:
    await held(reservations, sessions, "ONE")

    session, authorization = await charging.start(
        "ONE", 1, 1, None, 0.0, NOW, external_id="tx-cable"
    )

    assert authorization is Authorization.ACCEPTED  # no idToken: the station asks nothing
    assert sessions.committed(session.id).id_tag is None
    assert events.of_type(SessionStarted)[-1].id_tag is None


# --- a tag that comes after the start (OCPP 2.0.1, cable first) -----------------------------


async def test_a_tag_arriving_for_a_running_session_is_refused_like_a_start_on_a_held_connector(
    charging: ChargingService,
    reservations: ReservationService,
    sessions: SessionStore,
    events: EventRecorder,
) -> None:
    booking = await held(reservations, sessions, "ONE")
    session, _ = await charging.start("ONE", 1, 1, None, 0.0, NOW, external_id="tx-1")

    first = await charging.identify("ONE", "tx-1", STRANGER, NOW + timedelta(minutes=1))
    again = await charging.identify("ONE", "tx-1", STRANGER, NOW + timedelta(minutes=2))

    assert (first, again) == (Authorization.HELD_FOR_OTHERS, Authorization.HELD_FOR_OTHERS)
    assert sessions.committed(session.id).id_tag == STRANGER  # what the station reported
    assert events.of_type(SessionIdentified) == []
    assert (await reservations.get(booking.id, "driver-1")).status is Status.HELD


async def test_the_holders_tag_arriving_later_is_recorded_and_announced_once(
    charging: ChargingService,
    reservations: ReservationService,
    sessions: SessionStore,
    events: EventRecorder,
) -> None:
    booking = await held(reservations, sessions, "ONE")
    session, _ = await charging.start("ONE", 1, 1, None, 0.0, NOW, external_id="tx-2")
    later = NOW + timedelta(minutes=1)

    assert await charging.identify("ONE", "tx-2", booking.id_tag, later) is Authorization.ACCEPTED
    assert await charging.identify("ONE", "tx-2", booking.id_tag, later) is Authorization.ACCEPTED

    assert sessions.committed(session.id).id_tag == booking.id_tag
    assert events.of_type(SessionIdentified) == [
        SessionIdentified(session.id, "ONE", 1, booking.id_tag, None, later)
    ]


async def test_recording_a_late_tag_keeps_the_meter_figures_not_yet_written(
    charging: ChargingService, sessions: SessionStore
) -> None:
    session, _ = await charging.start("TWO", 2, 1, None, 1000.0, NOW, external_id="tx-3")
    sample = MeterSample(NOW + timedelta(minutes=5), energy_wh=1800.0, soc_percent=40.0)
    await charging.meter("TWO", "tx-3", [sample])

    await charging.identify("TWO", "tx-3", STRANGER, NOW + timedelta(minutes=6))
    await charging.flush()

    stored = sessions.committed(session.id)
    assert (stored.id_tag, stored.energy_wh, stored.soc_percent) == (STRANGER, 800.0, 40.0)
    live = await charging.get("TWO", "tx-3")
    assert live is not None
    assert live.id_tag == STRANGER


async def test_another_card_on_a_session_with_a_tag_is_judged_by_its_own_standing(
    charging: ChargingService, reservations: ReservationService, sessions: SessionStore
) -> None:
    booking = await held(reservations, sessions, "ONE")
    await charging.start("ONE", 1, 1, booking.id_tag, 0.0, NOW, external_id="tx-4")

    # e.g. the card that stops it: the booking's rule is not its business
    assert await charging.identify("ONE", "tx-4", STRANGER, NOW) is Authorization.ACCEPTED
    assert await charging.identify("ONE", "tx-4", "BLOCKED-CARD", NOW) is Authorization.BLOCKED
    assert await charging.identify("ONE", "no-such-tx", STRANGER, NOW) is Authorization.ACCEPTED
