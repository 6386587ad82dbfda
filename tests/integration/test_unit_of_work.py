"""A unit of work gives its connection back whatever happens, even while it is opening."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from voltbook.core.clock import SystemClock
from voltbook.storage.unit_of_work import SqlUnitOfWork


async def test_a_begin_that_fails_gives_the_connection_back_to_the_pool(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def begin_fails(self: AsyncConnection) -> None:
        raise TimeoutError("the write lock did not come")  # SQLite: 'database is locked'

    before = engine.pool.checkedout()  # type: ignore[attr-defined]
    monkeypatch.setattr(AsyncConnection, "begin", begin_fails)
    with pytest.raises(TimeoutError):
        async with SqlUnitOfWork(engine, SystemClock()):
            pass
    assert engine.pool.checkedout() == before  # type: ignore[attr-defined]
