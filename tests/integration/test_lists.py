"""A list bound at execution selects the same rows on both databases, whatever its length."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.test_push_storage import given_drivers
from voltbook.storage.lists import among, insert_many, per_database
from voltbook.storage.tables import drivers, notices
from voltbook.storage.timestamps import as_utc

_ids_among = per_database(
    lambda on_sqlite: (
        sa.select(drivers.c.id)
        .where(among(drivers.c.id, "ids", sqlite=on_sqlite))
        .order_by(drivers.c.id)
    )
)
IDS = [f"d{n:04d}" for n in range(1, 1201)]


@pytest.mark.parametrize("count", [0, 1, 3, 1200])
async def test_the_rows_whose_value_is_in_the_list(engine: AsyncEngine, count: int) -> None:
    await given_drivers(engine, *IDS[:600])
    asked = IDS[600 - count // 2 : 600 - count // 2 + count]  # half of them stored

    async with engine.connect() as connection:
        rows = await connection.execute(_ids_among(engine.dialect.name == "sqlite"), {"ids": asked})
        found = list(rows.scalars())

    assert found == [i for i in asked if i in set(IDS[:600])]


def test_postgresql_gets_one_statement_text_for_every_length() -> None:
    statement = str(_ids_among(False).compile(dialect=sa.dialects.postgresql.dialect()))
    assert "= ANY (" in statement
    assert _ids_among(False) is _ids_among(False)  # built once, reused


@pytest.mark.parametrize("count", [0, 1, 250])
async def test_many_rows_go_in_with_their_values_as_given(engine: AsyncEngine, count: int) -> None:
    await given_drivers(engine, "d0001")
    at = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    rows = [
        {
            "driver_id": "d0001",
            "seq": n,
            "kind": "test",
            "payload": f'{{"n": {n}, "text": "it\'s \\"quoted\\", ü"}}',
            "urgency": "normal",
            "created_at": at + timedelta(seconds=n),
            "expires_at": at + timedelta(days=2),
            "pushed_at": None if n % 2 else at,
        }
        for n in range(count)
    ]

    async with engine.begin() as connection:
        await insert_many(connection, notices, rows)
    columns = [notices.c[name] for name in ("driver_id", "seq", "kind", "payload", "urgency",
                                            "created_at", "expires_at", "pushed_at")]  # fmt: skip
    async with engine.connect() as connection:
        stored = (await connection.execute(sa.select(*columns).order_by(notices.c.seq))).all()

    read = [tuple(as_utc(v) if isinstance(v, datetime) else v for v in r) for r in stored]
    assert read == [tuple(r.values()) for r in rows]  # SQLite gives times back naive
