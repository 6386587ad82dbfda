"""What the journal needs from the outside world."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from voltbook.core.uow import UnitOfWork, UowFactory
from voltbook.journal.model import Direction, JournalEntry


class JournalRepository(Protocol):
    async def add_many(self, entries: list[JournalEntry]) -> None: ...

    async def recent(
        self,
        station_id: str,
        before: int | None,
        limit: int,
        action: str | None = None,
        direction: Direction | None = None,
    ) -> list[JournalEntry]:
        """The station's entries, newest first, with ids below `before`."""
        ...

    async def trim(self, station_ids: list[str], keep: int) -> int:
        """Delete all but the newest `keep` entries of each station; how many went."""
        ...

    async def purge(self, older_than: datetime) -> int: ...


class JournalUnitOfWork(UnitOfWork, Protocol):
    @property
    def journal(self) -> JournalRepository: ...


JournalUowFactory = UowFactory[JournalUnitOfWork]
