"""Alarms in SQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.alarms.model import Alarm, AlarmKind, Severity, Subject
from voltbook.storage.tables import alarms
from voltbook.storage.timestamps import as_utc, as_utc_or_none


class SqlAlarmRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def open_alarm(self, subject: Subject, kind: AlarmKind) -> Alarm | None:
        row = (
            await self._connection.execute(
                sa.select(alarms)
                .where(
                    alarms.c.station_id == subject.station_id,
                    alarms.c.kind == kind.value,
                    alarms.c.cleared_at.is_(None),
                    _equal_or_null(alarms.c.evse_id, subject.evse_id),
                    _equal_or_null(alarms.c.connector_id, subject.connector_id),
                )
                .limit(1)
            )
        ).first()
        return None if row is None else _alarm(row._mapping)

    async def raise_alarm(
        self, subject: Subject, kind: AlarmKind, code: str, severity: Severity, at: datetime
    ) -> Alarm:
        result = await self._connection.execute(
            alarms.insert()
            .values(
                station_id=subject.station_id,
                evse_id=subject.evse_id,
                connector_id=subject.connector_id,
                kind=kind.value,
                code=code[:50],
                severity=severity.value,
                raised_at=at,
            )
            .returning(alarms.c.id)
        )
        return Alarm(
            int(result.scalar_one()), subject.station_id, subject.evse_id, subject.connector_id,
            kind, code[:50], severity, at,
        )  # fmt: skip

    async def clear(self, alarm: Alarm, at: datetime) -> Alarm:
        await self._connection.execute(
            alarms.update().where(alarms.c.id == alarm.id).values(cleared_at=at)
        )
        return replace(alarm, cleared_at=at)

    async def get(self, alarm_id: int) -> Alarm | None:
        row = (
            await self._connection.execute(sa.select(alarms).where(alarms.c.id == alarm_id))
        ).first()
        return None if row is None else _alarm(row._mapping)

    async def acknowledge(self, alarm: Alarm) -> bool:
        result = await self._connection.execute(
            alarms.update()
            .where(alarms.c.id == alarm.id, alarms.c.acknowledged_at.is_(None))
            .values(acknowledged_at=alarm.acknowledged_at, acknowledged_by=alarm.acknowledged_by)
        )
        return bool(result.rowcount)

    async def active(self, after_id: int | None, limit: int) -> list[Alarm]:
        statement = sa.select(alarms).where(alarms.c.cleared_at.is_(None))
        if after_id is not None:
            statement = statement.where(alarms.c.id > after_id)
        rows = await self._connection.execute(statement.order_by(alarms.c.id).limit(limit))
        return [_alarm(row._mapping) for row in rows.all()]


def _equal_or_null(column: sa.ColumnElement[Any], value: int | None) -> sa.ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def _alarm(row: Any) -> Alarm:
    return Alarm(
        id=row["id"],
        station_id=row["station_id"],
        evse_id=row["evse_id"],
        connector_id=row["connector_id"],
        kind=AlarmKind(row["kind"]),
        code=row["code"],
        severity=Severity(row["severity"]),
        raised_at=as_utc(row["raised_at"]),
        cleared_at=as_utc_or_none(row["cleared_at"]),
        acknowledged_at=as_utc_or_none(row["acknowledged_at"]),
        acknowledged_by=row["acknowledged_by"],
    )
