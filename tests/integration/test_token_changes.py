"""Two servers taking the card changes kept for the stations at once: each change goes to
exactly one of them (idtokens/lists.py, ADR 0035), on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.unit.fakes import FakeClock
from voltbook.idtokens.model import TokenChange
from voltbook.storage.unit_of_work import SqlUnitOfWork

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
CHANGES = 300


async def test_servers_taking_changes_at_once_each_get_their_own(engine: AsyncEngine) -> None:
    async with SqlUnitOfWork(engine, FakeClock()) as uow:
        for n in range(CHANGES):
            await uow.id_tokens.note_change(TokenChange(f"C{n}", n % 7 == 0, WHEN))
        await uow.commit()

    async def server() -> list[str]:
        taken: list[str] = []
        while True:
            async with SqlUnitOfWork(engine, FakeClock()) as uow:
                batch = await uow.auth_lists.take_changes(7)
                await uow.commit()
            if not batch:
                return taken
            taken += [change.token for change in batch]
            await asyncio.sleep(0)

    shares = await asyncio.gather(*(server() for _ in range(4)))
    every = [token for share in shares for token in share]
    assert sorted(every) == sorted(f"C{n}" for n in range(CHANGES))  # none lost, none twice
