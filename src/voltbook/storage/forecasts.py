"""Forecast models and what they learn from, in SQL."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.forecasts.model import Booking, TrainedModel
from voltbook.stations.states import StateChange
from voltbook.storage.records import forecast_models
from voltbook.storage.status_history import SqlStatusHistoryRepository
from voltbook.storage.tables import connectors, reservations, stations
from voltbook.storage.timestamps import as_utc

_M = forecast_models
_R = reservations
_GONE = ("cancelled", "failed")


class SqlForecastRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._history = SqlStatusHistoryRepository(connection)

    async def history(
        self, station_ids: list[str] | None, start: datetime, end: datetime
    ) -> list[StateChange]:
        return await self._history.changes(station_ids, start, end)

    async def bookings(
        self, station_ids: list[str] | None, start: datetime, end: datetime
    ) -> list[Booking]:
        scope = [] if station_ids is None else [_R.c.station_id.in_(station_ids)]
        rows = await self._connection.execute(
            sa.select(_R.c.station_id, _R.c.created_at, _R.c.starts_at).where(
                _R.c.starts_at >= start, _R.c.starts_at < end, _R.c.status.not_in(_GONE), *scope
            )
        )
        return [Booking(r.station_id, as_utc(r.created_at), as_utc(r.starts_at)) for r in rows]

    async def sites_of(self, station_ids: list[str]) -> dict[str, int | None]:
        return await self._history.sites_of(station_ids)

    async def station_exists(self, station_id: str) -> bool:
        found = await self._connection.execute(
            sa.select(stations.c.id).where(stations.c.id == station_id)
        )
        return found.first() is not None

    async def evses_fitting(self, station_id: str, standards: frozenset[str]) -> set[int]:
        rows = await self._connection.execute(
            sa.select(connectors.c.evse_id)
            .where(connectors.c.station_id == station_id, connectors.c.standard.in_(standards))
            .distinct()
        )
        return {int(r.evse_id) for r in rows}

    async def latest(self) -> TrainedModel | None:
        row = (
            await self._connection.execute(sa.select(_M).order_by(_M.c.id.desc()).limit(1))
        ).first()
        if row is None:
            return None
        return TrainedModel.from_json(as_utc(row.trained_at), row.body)

    async def save(self, model: TrainedModel, keep: int) -> None:
        await self._connection.execute(
            _M.insert().values(trained_at=model.trained_at, body=model.to_json())
        )
        kept = sa.select(_M.c.id).order_by(_M.c.id.desc()).limit(keep).scalar_subquery()
        await self._connection.execute(_M.delete().where(_M.c.id.not_in(kept)))
