"""Many writers at once, as when many stations send their status together: every write is
stored, none fails with SQLite's "database is locked", and readers are not starved of
connections by writers that wait (docs/adr/0032)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from voltbook.core.clock import SystemClock
from voltbook.stations.model import ConnectorStatus
from voltbook.storage.unit_of_work import SqlUnitOfWork
from voltbook.storage.write_turns import WriteTurns

Uow = Callable[..., SqlUnitOfWork]
CLOCK = SystemClock()


def unit_of_work(engine: AsyncEngine) -> Uow:
    """The way the application makes its units of work (bootstrap.build_services)."""
    turns = WriteTurns() if engine.dialect.name == "sqlite" else None

    def uow(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, CLOCK, read_only=read_only, turns=turns)

    return uow


async def add_stations(uow: Uow, count: int) -> list[str]:
    ids = [f"TURN{n:04d}" for n in range(count)]
    async with uow() as work:
        for station_id in ids:
            await work.stations.add(station_id, None, "not-a-real-hash")
        await work.commit()
    return ids


async def report_status(uow: Uow, station_id: str, status: ConnectorStatus) -> None:
    async with uow() as work:
        await work.stations.set_status(station_id, 1, 1, status, None, CLOCK.now())
        await work.commit()


async def stored_statuses(uow: Uow, ids: list[str]) -> set[ConnectorStatus]:
    async with uow(read_only=True) as work:
        found = [await work.stations.get(station_id) for station_id in ids]
    return {c.status for s in found if s is not None for c in s.connectors}


async def test_readers_get_a_connection_while_many_writers_wait(engine: AsyncEngine) -> None:
    uow = unit_of_work(engine)
    ids = await add_stations(uow, 41)
    holding = asyncio.Event()

    async def slow_writer() -> None:
        async with uow() as work:
            await work.stations.set_status(
                ids[0], 1, 1, ConnectorStatus.CHARGING, None, CLOCK.now()
            )
            holding.set()
            await asyncio.sleep(1.0)  # a write transaction that takes its time
            await work.commit()

    slow = asyncio.create_task(slow_writer())
    await holding.wait()
    waiting = [
        asyncio.create_task(report_status(uow, i, ConnectorStatus.CHARGING)) for i in ids[1:]
    ]
    await asyncio.sleep(0.1)  # the writers are queued (on SQLite, behind the slow one)

    started = time.perf_counter()
    async with uow(read_only=True) as work:
        assert await work.stations.get(ids[0]) is not None
    read_s = time.perf_counter() - started

    await asyncio.gather(slow, *waiting)
    assert read_s < 0.5, f"a read waited {read_s:.2f} s for a connection held by waiting writers"
    assert await stored_statuses(uow, ids) == {ConnectorStatus.CHARGING}


async def test_sqlite_writers_take_their_turns_in_arrival_order(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL lets writers of different rows write at once")
    uow = unit_of_work(engine)
    ids = await add_stations(uow, 30)
    order: list[str] = []

    async def writer(station_id: str) -> None:
        async with uow() as work:
            order.append(station_id)
            await work.stations.set_status(
                station_id, 1, 1, ConnectorStatus.FAULTED, None, CLOCK.now()
            )
            await work.commit()

    tasks = []
    for station_id in ids:
        tasks.append(asyncio.create_task(writer(station_id)))
        await asyncio.sleep(0)  # each writer arrives after the one before
    await asyncio.gather(*tasks)
    assert order == ids


async def test_a_write_opened_inside_another_of_the_same_task_is_refused_at_once(
    engine: AsyncEngine,
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("only SQLite's writers take turns")
    uow = unit_of_work(engine)
    async with uow():
        inner = uow()
        async with asyncio.timeout(1):  # rather than waiting for itself for ever
            with pytest.raises(RuntimeError, match="inside another"):
                await inner.__aenter__()
    async with uow() as work:  # the turn was given back
        await work.commit()


@pytest.mark.long
async def test_many_stations_reporting_at_once_on_a_busy_server_are_all_stored(
    engine: AsyncEngine,
) -> None:
    """The reproduction of "database is locked": 300 status writers while the event loop is
    busy with other work (each of its turns ~6 ms). Before writers took turns, SQLite's
    polling busy handler left the lock idle, waiting writers held every pooled connection,
    and most writers failed after 10-30 s; now all are stored (about a minute here)."""
    uow = unit_of_work(engine)
    ids = await add_stations(uow, 300)
    busy = True

    async def other_work() -> None:
        while busy:
            until = time.perf_counter() + 0.002  # CPU work of other requests, holding the loop
            while time.perf_counter() < until:
                pass
            await asyncio.sleep(0)

    others = [asyncio.create_task(other_work()) for _ in range(3)]
    try:
        results = await asyncio.gather(
            *(report_status(uow, i, ConnectorStatus.AVAILABLE) for i in ids),
            return_exceptions=True,
        )
    finally:
        busy = False
        await asyncio.gather(*others)
    failures = [repr(r) for r in results if isinstance(r, BaseException)]
    assert failures == []
    assert await stored_statuses(uow, ids) == {ConnectorStatus.AVAILABLE}
