"""The status history in SQL: one row per connector state change, and per station going
offline or coming back (EVSE 0)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.stations.states import ChargerState, StateChange
from voltbook.storage.records import status_history
from voltbook.storage.sites import sites_of
from voltbook.storage.timestamps import as_utc

_H = status_history


class SqlStatusHistoryRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add_many(self, changes: list[StateChange]) -> None:
        await self._connection.execute(
            _H.insert(),
            [
                {
                    "station_id": c.station_id,
                    "evse_id": c.evse_id,
                    "connector_id": c.connector_id,
                    "state": c.state.value,
                    "status": c.status,
                    "at": c.at,
                }
                for c in changes
            ],
        )

    async def changes(
        self, station_ids: list[str] | None, start: datetime, end: datetime
    ) -> list[StateChange]:
        """Rows within [start, end), and each connector's and station's last row before."""
        scope = [] if station_ids is None else [_H.c.station_id.in_(station_ids)]
        last_before = (
            sa.select(sa.func.max(_H.c.id))
            .where(_H.c.at <= start, *scope)
            .group_by(_H.c.station_id, _H.c.evse_id, _H.c.connector_id)
        )
        query = (
            sa.select(_H)
            .where(
                sa.or_(sa.and_(_H.c.at > start, _H.c.at < end), _H.c.id.in_(last_before)), *scope
            )
            .order_by(_H.c.at, _H.c.id)
        )
        rows = await self._connection.execute(query)
        return [_change(r._mapping) for r in rows]

    async def sites_of(self, station_ids: list[str]) -> dict[str, int | None]:
        return await sites_of(self._connection, station_ids)

    async def purge(self, older_than: datetime) -> int:
        result = await self._connection.execute(_H.delete().where(_H.c.at < older_than))
        return result.rowcount or 0


def _change(row: Any) -> StateChange:
    return StateChange(
        station_id=row["station_id"],
        evse_id=int(row["evse_id"]),
        connector_id=row["connector_id"],
        state=ChargerState(row["state"]),
        at=as_utc(row["at"]),
        status=row["status"],
    )
