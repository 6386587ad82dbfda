"""SQLite's connection pool keeps the connections a burst made: the next burst opens none
(each opening costs a thread, the schema read again and a page cache, and what a closed one
freed stayed with the allocator: docs/benchmarks.md, idle chargers)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from voltbook.storage.database import create_engine


async def test_a_second_burst_of_readers_reuses_the_first_one_s_connections(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}", pool_size=5)
    opened: list[Any] = []
    sa.event.listen(engine.sync_engine, "connect", lambda raw, _record: opened.append(raw))
    release = asyncio.Event()

    async def reader() -> None:
        async with engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
            await release.wait()

    try:
        for _burst in range(2):
            release.clear()
            readers = [asyncio.create_task(reader()) for _ in range(10)]
            while engine.pool.checkedout() < 10:  # type: ignore[attr-defined]
                await asyncio.sleep(0.01)
            release.set()
            await asyncio.gather(*readers)
        assert len(opened) == 10  # 2 x pool_size, made once
        async with engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
        assert len(opened) == 10
    finally:
        await engine.dispose()
