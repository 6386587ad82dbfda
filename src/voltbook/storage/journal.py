"""The message journal in SQL: one row per station and write, its frames as JSON.

An entry's id is its row's id times `PER_ROW` plus its place in the row, so ids keep the
order frames were written in, and a cursor is one number."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import datetime
from itertools import accumulate

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.journal.model import FRAMES_PER_TURN, Direction, JournalEntry, Kind
from voltbook.storage.records import station_message_chunks
from voltbook.storage.timestamps import as_utc

_C = station_message_chunks
PER_ROW = 10_000  # more than a station's queue holds between two writes
_ROWS_READ = 16


class SqlJournalRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add_many(self, entries: list[JournalEntry]) -> None:
        by_station: defaultdict[str, list[JournalEntry]] = defaultdict(list)
        for entry in entries:
            by_station[entry.station_id].append(entry)
        rows = []
        made = 0
        for station_id, mine in by_station.items():
            if made >= FRAMES_PER_TURN:  # a second of a busy server's frames: let others in
                made = 0
                await asyncio.sleep(0)
            made += len(mine)
            for start in range(0, len(mine), PER_ROW):
                part = mine[start : start + PER_ROW]
                frames = [
                    [
                        e.at.isoformat(),
                        e.direction.value,
                        e.kind.value,
                        e.unique_id,
                        e.action,
                        e.text,
                    ]
                    for e in part
                ]
                rows.append(
                    {
                        "station_id": station_id,
                        "last_at": max(e.at for e in part),
                        "count": len(part),
                        "frames": json.dumps(frames, separators=(",", ":")),
                    }
                )
        if rows:
            await self._connection.execute(_C.insert(), rows)

    async def recent(
        self,
        station_id: str,
        before: int | None,
        limit: int,
        action: str | None = None,
        direction: Direction | None = None,
    ) -> list[JournalEntry]:
        found: list[JournalEntry] = []
        async for entry in self._newest_first(station_id, before):
            if (action is None or entry.action == action) and (
                direction is None or entry.direction is direction
            ):
                found.append(entry)
                if len(found) == limit:
                    break
        return found

    async def _newest_first(
        self, station_id: str, before: int | None
    ) -> AsyncIterator[JournalEntry]:
        row_limit = None if before is None else before // PER_ROW
        while True:
            query = (
                sa.select(_C.c.id, _C.c.frames)
                .where(_C.c.station_id == station_id)
                .order_by(_C.c.id.desc())
                .limit(_ROWS_READ)
            )
            if row_limit is not None:
                query = query.where(_C.c.id <= row_limit)
            rows = (await self._connection.execute(query)).all()
            for row in rows:
                frames = json.loads(row.frames)
                for index in range(len(frames) - 1, -1, -1):
                    entry_id = row.id * PER_ROW + index
                    if before is not None and entry_id >= before:
                        continue
                    yield _entry(station_id, entry_id, frames[index])
            if len(rows) < _ROWS_READ:
                return
            row_limit = rows[-1].id - 1

    async def trim(self, station_ids: list[str], keep: int) -> int:
        """Drop each station's rows older than the one that holds its `keep`-th newest frame."""
        gone = 0
        for station_id in station_ids:
            rows = (
                await self._connection.execute(
                    sa.select(_C.c.id, _C.c.count.label("n"))
                    .where(_C.c.station_id == station_id)
                    .order_by(_C.c.id.desc())
                )
            ).all()
            totals = list(accumulate(int(r.n) for r in rows))
            oldest_kept = next((r.id for r, t in zip(rows, totals, strict=True) if t >= keep), None)
            if oldest_kept is None:
                continue
            deleted = [r for r in rows if r.id < oldest_kept]
            if deleted:
                await self._connection.execute(
                    _C.delete().where(_C.c.station_id == station_id, _C.c.id < oldest_kept)
                )
                gone += sum(int(r.n) for r in deleted)
        return gone

    async def purge(self, older_than: datetime) -> int:
        counted = await self._connection.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(_C.c.count), 0)).where(_C.c.last_at < older_than)
        )
        await self._connection.execute(_C.delete().where(_C.c.last_at < older_than))
        return int(counted or 0)


def _entry(station_id: str, entry_id: int, frame: list[str | None]) -> JournalEntry:
    at, direction, kind, unique_id, action, text = frame
    return JournalEntry(
        station_id=station_id,
        direction=Direction(str(direction)),
        at=as_utc(datetime.fromisoformat(str(at))),
        kind=Kind(str(kind)),
        unique_id=unique_id,
        action=action,
        text=str(text),
        id=entry_id,
    )
