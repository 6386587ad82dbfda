"""Storage that cannot take the work in time is "busy, try again", not a fault: the unit of
work raises `StorageBusy` (503 with Retry-After on HTTP) and nothing is changed."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.unit.fakes import FakeClock
from voltbook.core.errors import StorageBusy
from voltbook.storage.busy import storage_busy
from voltbook.storage.tables import stations
from voltbook.storage.unit_of_work import SqlUnitOfWork


async def add_station(engine: AsyncEngine, station_id: str) -> None:
    async with SqlUnitOfWork(engine, FakeClock()) as uow:
        await uow.stations.add(station_id, None, "hash")
        await uow.commit()


async def test_no_free_connection_in_time_is_busy(
    migrated_engine: AsyncEngine, database_url: str
) -> None:
    engine = create_async_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        async with engine.connect():  # the pool's only connection, held
            with pytest.raises(StorageBusy) as raised:
                await add_station(engine, "CP-BUSY")
        assert isinstance(raised.value.__cause__, sqlalchemy.exc.TimeoutError)
    finally:
        await engine.dispose()


async def test_a_write_lock_held_too_long_is_busy_and_changes_nothing(
    migrated_engine: AsyncEngine, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's one write lock; PostgreSQL writers wait on rows instead")
    path = database_url.removeprefix("sqlite+aiosqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    engine = create_async_engine(database_url, connect_args={"timeout": 0.2})
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StorageBusy):
            await add_station(engine, "CP-LOCKED")
        holder.execute("ROLLBACK")
        async with migrated_engine.connect() as connection:
            found = await connection.scalar(
                sa.select(sa.func.count()).where(stations.c.id == "CP-LOCKED")
            )
        assert found == 0
    finally:
        holder.close()
        await engine.dispose()


def test_only_busy_failures_count_as_busy() -> None:
    locked = sqlite3.OperationalError("database is locked")
    assert storage_busy(sqlalchemy.exc.OperationalError("INSERT", {}, locked))
    assert storage_busy(sqlalchemy.exc.TimeoutError("QueuePool limit reached"))
    assert storage_busy(ConnectionRefusedError())

    class TooManyConnectionsError(Exception):  # asyncpg's name for "no slots left"
        pass

    assert storage_busy(sqlalchemy.exc.DBAPIError("connect", {}, TooManyConnectionsError()))
    broken = sqlite3.IntegrityError("UNIQUE constraint failed: stations.id")
    assert not storage_busy(sqlalchemy.exc.IntegrityError("INSERT", {}, broken))
    assert not storage_busy(sqlalchemy.exc.OperationalError("SELECT", {}, Exception("syntax")))
    assert not storage_busy(ValueError(datetime.now(UTC).isoformat()))
