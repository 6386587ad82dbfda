"""The database itself refuses double bookings, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from voltbook.core.clock import SystemClock
from voltbook.core.connectors import EvseRef
from voltbook.reservations.model import Alternative, Change, HistoryEntry, Reservation, Status
from voltbook.reservations.ports import Job, JobKind, ReservationRepository, SlotTaken
from voltbook.storage.tables import connectors, drivers, reservation_jobs, reservations
from voltbook.storage.timestamps import as_utc
from voltbook.storage.unit_of_work import SqlUnitOfWork

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


async def given_station_and_driver(engine: AsyncEngine) -> None:
    async with SqlUnitOfWork(engine, SystemClock()) as uow:
        await uow.stations.add("ST", None, "hash")
        await uow.commit()
    async with engine.begin() as connection:
        await connection.execute(
            drivers.insert().values(
                id="D1", email="d1@example.org", password_hash="x", role="driver", created_at=T0
            )
        )


def booking(start: datetime, minutes: int = 60, evse: int = 1) -> Reservation:
    return Reservation(
        id=0,
        driver_id="D1",
        station_id="ST",
        evse_id=evse,
        any_evse=False,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        grace=timedelta(minutes=15),
        status=Status.SCHEDULED,
        id_tag="TAG1",
        created_at=T0,
        history=(HistoryEntry(T0, Status.SCHEDULED, None, "booked", EvseRef("ST", 1)),),
    )


async def add(engine: AsyncEngine, reservation: Reservation) -> Reservation:
    async with SqlUnitOfWork(engine, SystemClock()) as uow:
        saved = await uow.reservations.add(reservation)
        await uow.commit()
    return saved


async def test_a_batch_stores_what_fits_and_skips_what_the_database_refuses(
    engine: AsyncEngine,
) -> None:
    await given_station_and_driver(engine)
    first = await add(engine, replace(booking(T0), idempotency_key="k1", fingerprint="f"))
    batch = [
        booking(T0 + timedelta(minutes=30)),  # overlaps the stored one on EVSE 1
        booking(T0, evse=2),
        replace(booking(T0, evse=3), idempotency_key="k1", fingerprint="f"),  # key taken
        booking(T0 + timedelta(hours=1)),  # back to back with the stored one
    ]
    jobs = [((JobKind.HAND_OFF, b.starts_at - timedelta(minutes=5)), (JobKind.NO_SHOW, b.no_show_at))
            for b in batch]  # fmt: skip
    async with SqlUnitOfWork(engine, SystemClock()) as uow:
        saved = await uow.reservations.add_many(batch, jobs)
        await uow.commit()
    assert [s is not None for s in saved] == [False, True, False, True]
    stored = [s for s in saved if s is not None]
    assert len({s.id for s in stored} | {first.id}) == 3
    async with engine.connect() as connection:  # the jobs of the stored ones, none other
        found = (
            await connection.execute(
                sa.select(
                    reservation_jobs.c.reservation_id,
                    reservation_jobs.c.kind,
                    reservation_jobs.c.due_at,
                ).order_by(reservation_jobs.c.id)
            )
        ).all()
    assert sorted((r, JobKind(k), as_utc(at)) for r, k, at in found) == sorted(
        (s.id, kind, due_at)
        for s, theirs in zip(saved, jobs, strict=True)
        if s is not None
        for kind, due_at in theirs
    )
    async with SqlUnitOfWork(engine, SystemClock(), read_only=True) as uow:
        repo = uow.reservations
        for reservation in stored:
            assert await repo.get(reservation.id) == reservation  # history included
        busy = await repo.busy_during([("ST", T0, T0 + timedelta(minutes=1)), ("NONE", T0, T0)])
        assert sorted(b.evse_id for b in busy["ST"]) == [1, 2]
        assert list(busy) == ["ST"]
        assert await repo.live_counts(["D1", "D2"]) == {"D1": 3}
        assert (await repo.by_keys([("D1", "k1"), ("D1", "k2")])).keys() == {("D1", "k1")}


async def test_two_batches_whose_slots_cross_never_wait_for_each_other(
    engine: AsyncEngine,
) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite runs one write transaction at a time")
    await given_station_and_driver(engine)
    one, two = booking(T0, evse=1), booking(T0, evse=2)

    async def second_batch() -> list[Reservation | None]:
        async with SqlUnitOfWork(engine, SystemClock()) as second:
            saved = await second.reservations.add_many([two, one])  # the other way round
            await second.commit()
        return saved

    async with SqlUnitOfWork(engine, SystemClock()) as first:
        [held] = await first.reservations.add_many([one])  # not committed yet
        other = asyncio.create_task(second_batch())
        await until_a_transaction_waits_for_a_lock(engine)
        # Had the second batch taken EVSE 2 before it waited on EVSE 1, this would wait for
        # it in turn, and PostgreSQL would abort one of the two as a deadlock.
        [also] = await first.reservations.add_many([two])
        await first.commit()

    assert held is not None
    assert also is not None
    assert await other == [None, None]  # both slots were taken by then: refused, no error


async def until_a_transaction_waits_for_a_lock(engine: AsyncEngine) -> None:
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(500):
        async with engine.connect() as connection:
            if await connection.scalar(waiting):
                return
        await asyncio.sleep(0.01)
    raise AssertionError("the second batch never waited for the first")


async def test_an_unknown_station_has_no_evses_and_one_without_connectors_has_none(
    engine: AsyncEngine,
) -> None:
    await given_station_and_driver(engine)
    async with SqlUnitOfWork(engine, SystemClock(), read_only=True) as uow:
        assert await uow.reservations.evses_of(["ST", "NONE"]) == {"ST": []}


async def test_an_evse_says_whether_it_can_be_held_and_whether_a_vehicle_is_at_it(
    engine: AsyncEngine,
) -> None:
    await given_station_and_driver(engine)
    statuses = {1: "Available", 2: "Charging", 3: "Faulted", 4: "Finishing"}
    async with engine.begin() as connection:
        await connection.execute(
            connectors.insert(),
            [
                {"station_id": "ST", "evse_id": e, "connector_id": 1, "standard": "IEC_62196_T1",
                 "status": status}
                for e, status in statuses.items()
            ],
        )  # fmt: skip
    async with SqlUnitOfWork(engine, SystemClock(), read_only=True) as uow:
        evses = (await uow.reservations.evses_of(["ST"]))["ST"]
    assert [(e.evse_id, e.usable, e.in_use) for e in evses] == [
        (1, True, False),
        (2, True, True),
        (3, False, False),
        (4, True, True),
    ]


async def test_an_overlapping_live_booking_is_refused_by_the_database(engine: AsyncEngine) -> None:
    await given_station_and_driver(engine)
    await add(engine, booking(T0))
    with pytest.raises(SlotTaken):
        await add(engine, booking(T0 + timedelta(minutes=30)))
    # Even a raw INSERT that skips every check in Python is refused.
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(
                reservations.insert().values(
                    driver_id="D1", station_id="ST", evse_id=1, any_evse=False,
                    starts_at=T0 + timedelta(minutes=59), ends_at=T0 + timedelta(hours=2),
                    grace_s=900, status="held", id_tag="X", created_at=T0,
                )
            )  # fmt: skip


async def test_back_to_back_other_connectors_and_ended_bookings_do_not_collide(
    engine: AsyncEngine,
) -> None:
    await given_station_and_driver(engine)
    first = await add(engine, booking(T0))
    await add(engine, booking(T0 + timedelta(minutes=60)))  # [10:00, 11:00) then [11:00, 12:00)
    await add(engine, booking(T0, evse=2))
    async with SqlUnitOfWork(engine, SystemClock()) as uow:
        cancelled = replace(first, status=Status.CANCELLED)
        await uow.reservations.save(cancelled)
        await uow.commit()
    await add(engine, booking(T0 + timedelta(minutes=10), minutes=30))


async def test_moving_into_a_taken_slot_is_refused(engine: AsyncEngine) -> None:
    await given_station_and_driver(engine)
    await add(engine, booking(T0, evse=2))
    mine = await add(engine, booking(T0, evse=1))
    with pytest.raises(SlotTaken):
        async with SqlUnitOfWork(engine, SystemClock()) as uow:
            await uow.reservations.save(replace(mine, evse_id=2))
    async with SqlUnitOfWork(engine, SystemClock(), read_only=True) as uow:
        stored = await uow.reservations.get(mine.id)
    assert stored is not None
    assert stored.evse_id == 1


async def test_a_failed_booking_keeps_the_alternatives_it_offered(engine: AsyncEngine) -> None:
    await given_station_and_driver(engine)
    mine = await add(engine, booking(T0))
    other = await add(engine, booking(T0 + timedelta(hours=2)))
    offered = (Alternative("ST-2", "Market Hall", 420.5), Alternative("ST-9", "Depot", 1800.0))
    failed = replace(mine.apply(Change.FAILED, T0, "refused"), alternatives=offered)
    async with SqlUnitOfWork(engine, SystemClock()) as uow:
        await uow.reservations.save(failed)
        await uow.commit()
    async with SqlUnitOfWork(engine, SystemClock(), read_only=True) as uow:
        stored = await uow.reservations.get(mine.id)
        fresh = await uow.reservations.get(other.id)
    assert stored is not None
    assert fresh is not None
    assert stored.status is Status.FAILED
    assert stored.alternatives == offered
    assert fresh.alternatives == ()  # nothing offered, nothing stored (SQL NULL, not JSON null)
    async with engine.connect() as connection:
        empty = await connection.scalar(
            sa.select(sa.func.count()).where(
                reservations.c.id == other.id, reservations.c.alternatives.is_(None)
            )
        )
    assert empty == 1


async def test_concurrent_job_claims_never_hand_one_job_to_two_workers(
    engine: AsyncEngine,
) -> None:
    await given_station_and_driver(engine)
    saved = [await add(engine, booking(T0 + timedelta(hours=2 * n))) for n in range(10)]
    async with SqlUnitOfWork(engine, SystemClock()) as uow:
        for reservation in saved:
            await uow.reservations.schedule(reservation.id, JobKind.HAND_OFF, T0)
        await uow.commit()

    async def claim() -> list[int]:
        async with SqlUnitOfWork(engine, SystemClock()) as uow:
            jobs = await uow.reservations.claim_due(
                T0 + timedelta(seconds=1), 4, timedelta(minutes=1)
            )
            await asyncio.sleep(0.05)  # hold the claim while the others try
            await uow.commit()
        return [job.id for job in jobs]

    claims = await asyncio.gather(*(claim() for _ in range(5)))
    claimed = [job for batch in claims for job in batch]
    assert len(claimed) == len(set(claimed)) == 10
    async with engine.connect() as connection:
        leased = await connection.scalar(
            sa.text("SELECT count(*) FROM reservation_jobs WHERE locked_until IS NOT NULL")
        )
    assert leased == 10


async def test_two_changes_of_one_booking_take_turns_and_the_second_sees_the_first(
    engine: AsyncEngine,
) -> None:
    await given_station_and_driver(engine)
    mine = await add(engine, booking(T0))
    first_has_it = asyncio.Event()

    async def cancel() -> None:
        async with SqlUnitOfWork(engine, SystemClock()) as uow:
            found = await uow.reservations.get(mine.id, lock=True)
            assert found is not None
            first_has_it.set()
            await asyncio.sleep(0.2)  # as if the charger were being asked meanwhile
            await uow.reservations.save(found.apply(Change.CANCELLED, T0, "cancelled"))
            await uow.commit()

    async def hold() -> Status | None:
        await first_has_it.wait()
        async with SqlUnitOfWork(engine, SystemClock()) as uow:
            found = await uow.reservations.get(mine.id, lock=True)
            return None if found is None else found.status

    _, seen = await asyncio.gather(cancel(), hold())
    assert seen is Status.CANCELLED  # not the stale "scheduled" a second writer would undo


async def test_a_reconnect_hurries_hand_offs_waiting_to_retry_but_not_one_being_worked_on(
    engine: AsyncEngine,
) -> None:
    await given_station_and_driver(engine)
    mine = await add(engine, booking(T0 + timedelta(hours=2)))
    lease, now = timedelta(seconds=90), T0 + timedelta(seconds=1)

    async def step(
        work: Callable[[ReservationRepository], Awaitable[object]],
    ) -> object:
        async with SqlUnitOfWork(engine, SystemClock()) as uow:
            done = await work(uow.reservations)
            await uow.commit()
        return done

    await step(lambda repo: repo.schedule(mine.id, JobKind.HAND_OFF, T0))
    [job] = cast(list[Job], await step(lambda repo: repo.claim_due(now, 10, lease)))

    assert await step(lambda repo: repo.hand_offs_now("ST", now)) == 0  # being worked on
    assert await step(lambda repo: repo.claim_due(now, 10, lease)) == []

    await step(lambda repo: repo.retry_at(job.id, now + timedelta(seconds=8)))
    assert await step(lambda repo: repo.claim_due(now, 10, lease)) == []  # waits its retry
    assert await step(lambda repo: repo.hand_offs_now("ST", now)) == 1
    [again] = cast(list[Job], await step(lambda repo: repo.claim_due(now, 10, lease)))
    assert (again.id, again.attempts) == (job.id, 2)


async def test_bookings_keep_to_the_sites_opening_hours(engine: AsyncEngine) -> None:
    from voltbook.core.bus import InProcessBus
    from voltbook.core.errors import InvalidInput
    from voltbook.reservations.model import BookingRequest, Rules
    from voltbook.reservations.service import ReservationService
    from voltbook.stations.model import PowerType, SiteDetails
    from voltbook.stations.ports import ConnectorPlan, SitePlan
    from voltbook.stations.service import StationService
    from voltbook.stations.standards import Standard

    clock = SystemClock()

    def uow(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock, read_only=read_only)

    details = SiteDetails(
        "test", "OFFICE", "Office lot", "", "Boston", "MA", "02110", "US", 42.35, -71.05,
        None, "public", "8am-4:30pm daily",
    )  # fmt: skip
    plan = SitePlan(
        details, "OFFICE-1", (ConnectorPlan(1, 1, Standard.IEC_62196_T1, PowerType.AC, 7.2),)
    )
    await StationService(uow, InProcessBus()).import_sites([plan], source="test")
    async with engine.begin() as connection:
        await connection.execute(
            drivers.insert().values(
                id="D9", email="d9@example.org", password_hash="x", role="driver", created_at=T0
            )
        )

    class NoCharger:
        async def reserve(self, reservation: Reservation) -> str:
            return "Accepted"

        async def release(self, station_id: str, reservation_id: int) -> str:
            return "Accepted"

    service = ReservationService(uow, NoCharger(), clock, InProcessBus(), Rules())
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).astimezone(ZoneInfo("America/New_York"))
    at = tomorrow.replace(hour=9, minute=0, second=0, microsecond=0)
    booked, _ = await service.book("D9", BookingRequest("OFFICE-1", 60, starts_at=at))
    assert booked.starts_at == at.astimezone(UTC)
    late = at.replace(hour=16)
    with pytest.raises(InvalidInput, match="not open"):
        await service.book("D9", BookingRequest("OFFICE-1", 60, starts_at=late))
