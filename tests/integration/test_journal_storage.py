"""The message journal on both databases: batches land, pages go back in time, each
station keeps its newest entries (whole writes of them) and nothing older than the
retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.unit.fakes import FakeClock
from voltbook.journal.model import Direction, Kind
from voltbook.journal.service import JournalService
from voltbook.storage.unit_of_work import SqlUnitOfWork

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


async def test_frames_are_written_paged_trimmed_and_purged(engine: AsyncEngine) -> None:
    clock = FakeClock(T0)

    def uow(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock, read_only=read_only)

    journal = JournalService(uow, clock, keep=4, retention=timedelta(hours=2))
    for n in range(6):
        journal.note("ST1", False, f'[2,"m{n}","ChangeConfiguration",'
                     f'{{"key":"AuthorizationKey","value":"secret-{n}-padding!"}}]')  # fmt: skip
        journal.note("ST1", True, f'[3,"m{n}",{{"status":"Accepted"}}]')
        if n == 5:
            journal.note("ST2", True, '[2,"x","Heartbeat",{}]')
        assert await journal.flush() == (3 if n == 5 else 2)  # a row per station and write

    newest = await journal.recent("ST1", None, 3)
    assert [(e.direction, e.kind, e.action) for e in newest] == [
        (Direction.IN, Kind.RESULT, "ChangeConfiguration"),
        (Direction.OUT, Kind.CALL, "ChangeConfiguration"),
        (Direction.IN, Kind.RESULT, "ChangeConfiguration"),
    ]
    older = await journal.recent("ST1", newest[-1].id, 100)
    assert len(older) == 9
    assert all("secret-" not in e.text for e in newest + older)
    calls = await journal.recent("ST1", None, 100, direction=Direction.OUT)
    assert len(calls) == 6
    assert await journal.recent("ST1", None, 100, action="Heartbeat") == []

    assert await journal.purge() == 8  # ST1 keeps its newest four
    assert [e.unique_id for e in await journal.recent("ST1", None, 100)] == [
        "m5",
        "m5",
        "m4",
        "m4",
    ]
    assert len(await journal.recent("ST2", None, 100)) == 1
    clock.advance(3 * 3600)
    assert await journal.purge() == 5
