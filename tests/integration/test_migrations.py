"""The schema migrates up and down on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from voltbook.storage import migrate
from voltbook.storage.database import create_engine
from voltbook.storage.tables import drivers


async def test_fresh_database_reaches_the_newest_revision(engine: AsyncEngine) -> None:
    assert await migrate.is_current(engine)


async def test_upgrade_twice_is_harmless(engine: AsyncEngine) -> None:
    await migrate.upgrade(engine)
    assert await migrate.is_current(engine)


async def test_downgrade_to_base_and_back(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        await migrate.downgrade(engine, "base")
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
        assert "sites" not in names
        await migrate.upgrade(engine)
        assert await migrate.is_current(engine)
    finally:
        await engine.dispose()


async def test_going_back_a_revision_keeps_the_database_refusing_overlaps(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    booking = sa.text(
        "INSERT INTO reservations (driver_id, station_id, evse_id, any_evse, starts_at, "
        "ends_at, grace_s, status, id_tag, created_at) VALUES ('D1', 'ST', 1, false, :s, :e, "
        "900, 'scheduled', 'TAG1', :s)"
    )
    t0 = datetime(2026, 12, 1, 10, tzinfo=UTC)
    try:
        await migrate.upgrade(engine)
        await migrate.downgrade(engine, "0004")
        async with engine.begin() as connection:
            await connection.execute(
                sa.text(
                    "INSERT INTO stations (id, password_hash, created_at) VALUES ('ST', 'x', :t)"
                ),
                {"t": t0},
            )
            await connection.execute(
                drivers.insert().values(
                    id="D1", email="d1@example.org", password_hash="x", role="driver",
                    created_at=t0,
                )
            )  # fmt: skip
            await connection.execute(booking, {"s": t0, "e": t0 + timedelta(hours=1)})
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(
                    booking, {"s": t0 + timedelta(minutes=30), "e": t0 + timedelta(hours=2)}
                )
    finally:
        async with engine.begin() as connection:  # as the next test expects to find it
            for table in ("reservations", "drivers", "stations"):
                await connection.execute(sa.text(f"DELETE FROM {table}"))
        await migrate.upgrade(engine)
        await engine.dispose()
