"""A node dies while its charger answers a ReserveNow: the charger may hold the booking though
the book never learnt it. Cancelling such a booking still releases it, and a
claimed job's lease outlasts the longest a batch may take at the configured command timeout."""

from __future__ import annotations

from datetime import timedelta

from tests.unit.charger_fakes import FakeChargerHold
from tests.unit.fakes import FakeClock
from tests.unit.reservation_fakes import ReservationStore
from tests.unit.test_reservation_service import book, clock, drain, hold, service, store
from voltbook.core.bus import InProcessBus
from voltbook.reservations.model import Reservation, Status
from voltbook.reservations.ports import JobKind
from voltbook.reservations.service import ReservationService

__all__ = ["clock", "hold", "service", "store"]
RELEASE = JobKind.RELEASE


async def accepted_then_crashed(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold, clock: FakeClock
) -> Reservation:
    """A booking for now whose hand-off a node claimed and sent, the charger accepting it,
    before the node died: the book says scheduled, the charger holds it."""
    booked = await book(service)
    async with store.uow() as uow:
        [job] = await uow.reservations.claim_due(clock.now(), 10, timedelta(seconds=90))
        await uow.commit()
    assert job.kind is JobKind.HAND_OFF
    assert await hold.reserve(booked) == "Accepted"  # and then the node was killed
    return booked


async def test_cancelling_a_booking_whose_hand_off_a_crash_cut_short_releases_it(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold, clock: FakeClock
) -> None:
    booked = await accepted_then_crashed(service, store, hold, clock)

    cancelled = await service.cancel(booked.id, "driver-1")

    assert cancelled.status is Status.CANCELLED
    assert store.pending_jobs(booked.id) == [(RELEASE, clock.now())]
    await drain(service)
    assert hold.released == [("ST-A", booked.id)]
    assert hold.holds == {}


async def test_a_booking_never_handed_off_is_cancelled_without_a_word_to_the_charger(
    service: ReservationService, store: ReservationStore, hold: FakeChargerHold
) -> None:
    booked = await book(service)  # due now, but no node has claimed its hand-off yet

    await service.cancel(booked.id, "driver-1")

    assert store.pending_jobs(booked.id) == []
    assert await drain(service) == 0
    assert hold.calls == []


async def test_a_claimed_job_outlasts_a_batch_of_silent_chargers(
    store: ReservationStore, hold: FakeChargerHold, clock: FakeClock, bus: InProcessBus
) -> None:
    # A batch runs up to 16 jobs side by side and claims twice as many: with every charger
    # silent it takes two command timeouts, and no other node may claim its jobs meanwhile
    # (a lease fixed at 90 s did not hold once the timeout was raised to 60 s).
    timeout = timedelta(seconds=60)
    service = ReservationService(store.uow, hold, clock, bus, command_timeout=timeout)
    assert service.job_lease > 2 * timeout
    short = ReservationService(store.uow, hold, clock, bus, command_timeout=timedelta(seconds=2))
    assert short.job_lease < timedelta(seconds=10)  # a killed node's jobs wait seconds, not minutes
