"""Charging sessions on both databases: replays change nothing, meter figures are batched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from voltbook.charging.model import Authorization, MeterSample
from voltbook.charging.service import ChargingService
from voltbook.core.bus import InProcessBus
from voltbook.core.clock import SystemClock
from voltbook.storage.unit_of_work import SqlUnitOfWork

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def charging(engine: AsyncEngine, *, free_vend: bool = False) -> ChargingService:
    clock = SystemClock()

    def uow(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock, read_only=read_only)

    return ChargingService(uow, clock, InProcessBus(), accept_unknown_id_tags=free_vend)


async def add_station(engine: AsyncEngine, station_id: str) -> None:
    async with SqlUnitOfWork(engine, SystemClock()) as uow:
        await uow.stations.add(station_id, None, "not-a-real-hash")
        await uow.commit()


async def test_meter_figures_reach_the_database_on_flush_and_survive_a_restart(
    engine: AsyncEngine,
) -> None:
    await add_station(engine, "S1")
    service = charging(engine, free_vend=True)
    session, status = await service.start("S1", 1, None, "TAG", 1000.0, T0)
    assert status is Authorization.ACCEPTED
    samples = [MeterSample(T0 + timedelta(minutes=5), energy_wh=1800.0, soc_percent=40.0)]
    await service.meter("S1", session.reference, samples)

    restarted = charging(engine)
    before = await restarted.get("S1", session.reference)
    assert before is not None
    assert before.energy_wh == 0.0  # not flushed yet

    assert await service.flush() == 1
    after = await charging(engine).get("S1", session.reference)
    assert after is not None
    assert after.energy_wh == 800.0
    assert after.soc_percent == 40.0
    assert await service.flush() == 0


async def test_an_older_flush_never_overwrites_newer_figures(engine: AsyncEngine) -> None:
    await add_station(engine, "S2")
    node_a = charging(engine, free_vend=True)
    session, _ = await node_a.start("S2", 1, None, "TAG", 0.0, T0)
    await node_a.meter("S2", session.reference, [MeterSample(T0 + timedelta(minutes=1), 100.0)])
    node_b = charging(engine)
    await node_b.meter("S2", session.reference, [MeterSample(T0 + timedelta(minutes=2), 200.0)])
    await node_b.flush()
    await node_a.flush()  # late, with older figures
    stored = await charging(engine).get("S2", session.reference)
    assert stored is not None
    assert stored.energy_wh == 200.0


async def test_replayed_start_and_stop_change_nothing(engine: AsyncEngine) -> None:
    await add_station(engine, "S3")
    service = charging(engine)
    first, status = await service.start("S3", 2, None, "UNKNOWN", 500.0, T0)
    assert status is Authorization.INVALID
    again, _ = await service.start("S3", 2, None, "UNKNOWN", 500.0, T0)
    assert again.id == first.id
    stopped = await service.stop("S3", first.reference, 1500.0, T0 + timedelta(hours=1), "Local")
    assert stopped is not None
    assert stopped.energy_wh == 1000.0
    replay = await service.stop("S3", first.reference, 9999.0, T0 + timedelta(hours=2), "Other")
    assert replay == stopped
    late = await service.meter("S3", first.reference, [MeterSample(T0 + timedelta(hours=3), 5e5)])
    assert late == stopped


async def test_operators_page_sessions_by_station_driver_and_time(engine: AsyncEngine) -> None:
    from voltbook.charging.model import SessionFilter
    from voltbook.storage.tables import drivers, id_tokens

    await add_station(engine, "S9")
    async with engine.begin() as connection:
        await connection.execute(
            drivers.insert().values(
                id="D9", email="d9@example.org", password_hash="unused", role="driver",
                created_at=T0,
            )
        )  # fmt: skip
        await connection.execute(
            id_tokens.insert().values(
                token="MINE", driver_id="D9", status="Accepted", created_at=T0
            )
        )
    service = charging(engine, free_vend=True)
    mine, _ = await service.start("S9", 1, None, "MINE", 0.0, T0)
    other, _ = await service.start("S9", 2, None, "OTHER", 0.0, T0 + timedelta(hours=1))
    assert [s.id for s in await service.find(SessionFilter(station_id="S9"), None, 10)] == [
        other.id,
        mine.id,
    ]
    assert [s.id for s in await service.find(SessionFilter(driver_id="D9"), None, 10)] == [mine.id]
    later = SessionFilter(since=T0 + timedelta(minutes=1))
    assert [s.id for s in await service.find(later, None, 10)] == [other.id]
    assert [s.id for s in await service.find(SessionFilter(), other.id, 10)] == [mine.id]
    closed = await service.close(mine.id, "stuck")
    assert closed.stop_reason == "stuck"
    assert (await service.by_id(mine.id)).stopped_at is not None
