"""A list bound at execution selects the same rows on both databases, whatever its length."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.test_push_storage import given_drivers
from voltbook.storage.lists import among, per_database
from voltbook.storage.tables import drivers

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
