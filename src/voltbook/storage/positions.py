"""The last position of each driver in SQL: one row per driver, never a history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.drivers.privacy_model import Position
from voltbook.storage.tables import driver_positions, drivers
from voltbook.storage.timestamps import as_utc

_P = driver_positions


class SqlPositionRepository:
    def __init__(self, connection: AsyncConnection, *, sqlite: bool) -> None:
        self._connection = connection
        self._sqlite = sqlite

    async def put_if_consented(self, position: Position) -> bool:
        # The row lock (PostgreSQL; SQLite serializes writers anyway) orders this after or
        # before a concurrent consent change, never in between.
        consent = await self._connection.scalar(
            sa.select(drivers.c.consent_location)
            .where(drivers.c.id == position.driver_id)
            .with_for_update()
        )
        if not consent:
            return False
        values = {
            "driver_id": position.driver_id,
            "lat": position.lat,
            "lon": position.lon,
            "accuracy_m": position.accuracy_m,
            "reported_at": position.reported_at,
            "expires_at": position.expires_at,
        }
        insert: Any = (sqlite.insert if self._sqlite else postgresql.insert)(_P).values(values)
        await self._connection.execute(
            insert.on_conflict_do_update(
                index_elements=[_P.c.driver_id],
                set_={key: insert.excluded[key] for key in values if key != "driver_id"},
                where=_P.c.reported_at <= insert.excluded.reported_at,
            )
        )
        return True

    async def get(self, driver_id: str, now: datetime) -> Position | None:
        row = (
            await self._connection.execute(
                sa.select(_P).where(_P.c.driver_id == driver_id, _P.c.expires_at > now)
            )
        ).first()
        if row is None:
            return None
        found = row._mapping
        return Position(
            driver_id=found["driver_id"],
            lat=found["lat"],
            lon=found["lon"],
            accuracy_m=found["accuracy_m"],
            reported_at=as_utc(found["reported_at"]),
            expires_at=as_utc(found["expires_at"]),
        )

    async def delete(self, driver_id: str) -> bool:
        result = await self._connection.execute(_P.delete().where(_P.c.driver_id == driver_id))
        return bool(result.rowcount)

    async def purge(self, now: datetime) -> int:
        result = await self._connection.execute(_P.delete().where(_P.c.expires_at <= now))
        return int(result.rowcount or 0)
