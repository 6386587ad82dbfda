"""What every ReservationRepository does with bookings, the fake's as well as SQL's."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.contracts.conftest import STATION
from voltbook.core.connectors import EvseRef
from voltbook.core.errors import Conflict
from voltbook.reservations.model import Change, HistoryEntry, Reservation, Status
from voltbook.reservations.ports import ReservationsUowFactory, SlotTaken

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def booking(
    start: datetime = T0, minutes: int = 60, evse: int = 1, driver: str = "D1"
) -> Reservation:
    return Reservation(
        id=0,
        driver_id=driver,
        station_id=STATION,
        evse_id=evse,
        any_evse=False,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        grace=timedelta(minutes=15),
        status=Status.SCHEDULED,
        id_tag="TAG1",
        created_at=T0,
        history=(HistoryEntry(T0, Status.SCHEDULED, None, "booked", EvseRef(STATION, evse)),),
    )


async def add(uow: ReservationsUowFactory, *bookings: Reservation) -> list[Reservation]:
    async with uow() as writing:
        saved = [await writing.reservations.add(b) for b in bookings]
        await writing.commit()
    return saved


async def test_a_booking_reads_back_as_added_with_its_history(
    reservations_uow: ReservationsUowFactory,
) -> None:
    (saved,) = await add(reservations_uow, booking())
    assert saved == replace(booking(), id=saved.id)
    async with reservations_uow(read_only=True) as uow:
        assert await uow.reservations.get(saved.id) == saved
        assert await uow.reservations.get(saved.id + 1000) is None


async def test_an_overlapping_booking_of_the_same_evse_is_refused(
    reservations_uow: ReservationsUowFactory,
) -> None:
    await add(reservations_uow, booking())
    async with reservations_uow() as uow:
        with pytest.raises(SlotTaken):
            await uow.reservations.add(booking(T0 + timedelta(minutes=30)))
    back_to_back, other_evse = await add(
        reservations_uow, booking(T0 + timedelta(hours=1)), booking(T0, evse=2)
    )
    assert back_to_back.id != other_evse.id


async def test_an_idempotency_key_is_taken_once_per_driver(
    reservations_uow: ReservationsUowFactory,
) -> None:
    await add(reservations_uow, replace(booking(), idempotency_key="k1", fingerprint="f"))
    async with reservations_uow() as uow:
        with pytest.raises(Conflict):
            await uow.reservations.add(
                replace(booking(evse=2), idempotency_key="k1", fingerprint="f")
            )
    (theirs,) = await add(
        reservations_uow, replace(booking(evse=2, driver="D2"), idempotency_key="k1")
    )
    async with reservations_uow(read_only=True) as uow:
        found = await uow.reservations.by_keys([("D1", "k1"), ("D2", "k1"), ("D1", "k2")])
    assert set(found) == {("D1", "k1"), ("D2", "k1")}
    assert found[("D2", "k1")] == theirs


async def test_a_batch_stores_what_fits_and_skips_the_rest(
    reservations_uow: ReservationsUowFactory,
) -> None:
    (first,) = await add(reservations_uow, replace(booking(), idempotency_key="k1"))
    batch = [
        booking(T0 + timedelta(minutes=30)),  # overlaps the stored one on EVSE 1
        booking(T0, evse=2),
        replace(booking(T0, evse=3), idempotency_key="k1"),  # key taken
        booking(T0 + timedelta(hours=1)),  # back to back with the stored one
    ]
    async with reservations_uow() as uow:
        saved = await uow.reservations.add_many(batch)
        await uow.commit()
    assert [s is not None for s in saved] == [False, True, False, True]
    stored = [s for s in saved if s is not None]
    assert len({s.id for s in stored} | {first.id}) == 3
    async with reservations_uow(read_only=True) as uow:
        for reservation in stored:
            assert await uow.reservations.get(reservation.id) == reservation
        assert await uow.reservations.live_counts(["D1", "D2"]) == {"D1": 3}
        busy = await uow.reservations.busy_during(
            [(STATION, T0, T0 + timedelta(minutes=1)), ("NONE", T0, T0 + timedelta(hours=9))]
        )
    assert sorted(b.evse_id for b in busy[STATION]) == [1, 2]
    assert list(busy) == [STATION]


async def test_a_booking_without_commit_is_dropped(
    reservations_uow: ReservationsUowFactory,
) -> None:
    async with reservations_uow() as uow:
        await uow.reservations.add(booking())
    async with reservations_uow(read_only=True) as uow:
        assert await uow.reservations.live_counts(["D1"]) == {}
        assert await uow.reservations.page("D1", None, 10) == []


async def test_a_cancelled_booking_frees_its_slot_and_keeps_its_history(
    reservations_uow: ReservationsUowFactory,
) -> None:
    (saved,) = await add(reservations_uow, booking())
    cancelled = saved.apply(Change.CANCELLED, T0 - timedelta(minutes=5), "driver")
    async with reservations_uow() as uow:
        await uow.reservations.save(cancelled)
        await uow.commit()
    (again,) = await add(reservations_uow, booking())
    async with reservations_uow(read_only=True) as uow:
        assert await uow.reservations.get(saved.id) == cancelled
        assert await uow.reservations.live_counts(["D1"]) == {"D1": 1}
        assert [r.id for r in await uow.reservations.live_at(STATION, T0)] == [again.id]


async def test_pages_go_newest_first_per_driver(reservations_uow: ReservationsUowFactory) -> None:
    mine = await add(
        reservations_uow,
        *(booking(T0 + timedelta(hours=hour)) for hour in range(3)),
        booking(T0, evse=2, driver="D2"),
    )
    async with reservations_uow(read_only=True) as uow:
        first = await uow.reservations.page("D1", None, 2)
        rest = await uow.reservations.page("D1", first[-1].id, 2)
        everyone = await uow.reservations.page(None, None, 10)
    assert [r.id for r in first + rest] == [r.id for r in reversed(mine[:3])]
    assert [r.id for r in everyone] == sorted((r.id for r in mine), reverse=True)
