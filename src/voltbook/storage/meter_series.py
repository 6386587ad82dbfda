"""Sessions' meter series in SQL: one row per session and write, its samples as JSON."""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.charging.model import MeterSample
from voltbook.storage.records import session_meter_chunks
from voltbook.storage.timestamps import as_utc

_C = session_meter_chunks
_ROWS_READ = 64


class SqlMeterSeriesRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add_many(self, series: dict[int, list[MeterSample]]) -> None:
        rows = [
            {
                "session_id": session_id,
                "last_at": max(s.at for s in samples),
                "count": len(samples),
                "samples": json.dumps(
                    [[s.at.isoformat(), s.energy_wh, s.power_w, s.soc_percent] for s in samples],
                    separators=(",", ":"),
                ),
            }
            for session_id, samples in series.items()
            if samples
        ]
        if rows:
            await self._connection.execute(_C.insert(), rows)

    async def of_session(self, session_id: int, limit: int) -> list[MeterSample]:
        newest_first: list[list[MeterSample]] = []
        taken = 0
        below: int | None = None
        while taken < limit:
            query = (
                sa.select(_C.c.id, _C.c.samples)
                .where(_C.c.session_id == session_id)
                .order_by(_C.c.id.desc())
                .limit(_ROWS_READ)
            )
            if below is not None:
                query = query.where(_C.c.id < below)
            rows = (await self._connection.execute(query)).all()
            for row in rows:
                chunk = [_sample(item) for item in json.loads(row.samples)]
                newest_first.append(chunk)
                taken += len(chunk)
                if taken >= limit:
                    break
            if len(rows) < _ROWS_READ:
                break
            below = rows[-1].id
        samples = [s for chunk in reversed(newest_first) for s in chunk]
        samples.sort(key=lambda s: s.at)  # a late-written chunk may hold older samples
        return samples[-limit:] if limit else []

    async def purge(self, older_than: datetime) -> int:
        counted = await self._connection.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(_C.c.count), 0)).where(_C.c.last_at < older_than)
        )
        await self._connection.execute(_C.delete().where(_C.c.last_at < older_than))
        return int(counted or 0)


def _number(value: object) -> float | None:
    return None if value is None else float(str(value))


def _sample(item: list[object]) -> MeterSample:
    at, energy, power, soc = item
    return MeterSample(
        at=as_utc(datetime.fromisoformat(str(at))),
        energy_wh=_number(energy),
        power_w=_number(power),
        soc_percent=_number(soc),
    )
