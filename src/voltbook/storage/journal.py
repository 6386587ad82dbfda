"""The message journal in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.journal.model import Direction, JournalEntry, Kind
from voltbook.storage.tables import station_messages
from voltbook.storage.timestamps import as_utc

_M = station_messages


class SqlJournalRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add_many(self, entries: list[JournalEntry]) -> None:
        await self._connection.execute(
            _M.insert(),
            [
                {
                    "station_id": e.station_id,
                    "at": e.at,
                    "direction": e.direction.value,
                    "kind": e.kind.value,
                    "unique_id": e.unique_id,
                    "action": e.action,
                    "text": e.text,
                }
                for e in entries
            ],
        )

    async def recent(
        self,
        station_id: str,
        before: int | None,
        limit: int,
        action: str | None = None,
        direction: Direction | None = None,
    ) -> list[JournalEntry]:
        query = sa.select(_M).where(_M.c.station_id == station_id).order_by(_M.c.id.desc())
        if before is not None:
            query = query.where(_M.c.id < before)
        if action is not None:
            query = query.where(_M.c.action == action)
        if direction is not None:
            query = query.where(_M.c.direction == direction.value)
        rows = await self._connection.execute(query.limit(limit))
        return [_entry(r._mapping) for r in rows]

    async def trim(self, station_ids: list[str], keep: int) -> int:
        gone = 0
        for station_id in station_ids:
            oldest_kept = (
                sa.select(_M.c.id)
                .where(_M.c.station_id == station_id)
                .order_by(_M.c.id.desc())
                .offset(keep - 1)
                .limit(1)
                .scalar_subquery()
            )
            result = await self._connection.execute(
                _M.delete().where(_M.c.station_id == station_id, _M.c.id < oldest_kept)
            )
            gone += result.rowcount or 0
        return gone

    async def purge(self, older_than: datetime) -> int:
        result = await self._connection.execute(_M.delete().where(_M.c.at < older_than))
        return result.rowcount or 0


def _entry(row: Any) -> JournalEntry:
    return JournalEntry(
        station_id=row["station_id"],
        direction=Direction(row["direction"]),
        at=as_utc(row["at"]),
        kind=Kind(row["kind"]),
        unique_id=row["unique_id"],
        action=row["action"],
        text=row["text"],
        id=int(row["id"]),
    )
