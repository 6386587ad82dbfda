"""Charging sessions and id tags in SQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.charging.model import ChargingSession, SessionFilter
from voltbook.core.clock import Clock
from voltbook.storage.tables import charging_sessions, id_tokens
from voltbook.storage.timestamps import as_utc, as_utc_or_none

_T = charging_sessions


class SqlSessionRepository:
    def __init__(self, connection: AsyncConnection, clock: Clock) -> None:
        self._connection = connection
        self._clock = clock  # an id tag past its expiry date is Expired

    async def add(self, session: ChargingSession) -> ChargingSession:
        values = _values(session)
        result = await self._connection.execute(_T.insert().values(**values).returning(_T.c.id))
        return replace(session, id=int(result.scalar_one()))

    async def get(self, station_id: str, reference: str) -> ChargingSession | None:
        condition = _T.c.external_id == reference
        if reference.isdigit() and len(reference) < 10:
            condition = sa.or_(
                condition, sa.and_(_T.c.id == int(reference), _T.c.external_id.is_(None))
            )
        row = (
            await self._connection.execute(
                sa.select(_T).where(_T.c.station_id == station_id, condition).limit(1)
            )
        ).first()
        return None if row is None else _session(row._mapping)

    async def find_start(
        self, station_id: str, evse_id: int, started_at: datetime, id_tag: str | None
    ) -> ChargingSession | None:
        row = (
            await self._connection.execute(
                sa.select(_T)
                .where(
                    _T.c.station_id == station_id,
                    _T.c.evse_id == evse_id,
                    _T.c.started_at == started_at,
                    _T.c.id_tag.is_(None) if id_tag is None else _T.c.id_tag == id_tag,
                )
                .limit(1)
            )
        ).first()
        return None if row is None else _session(row._mapping)

    async def save(self, session: ChargingSession) -> None:
        await self._connection.execute(
            _T.update().where(_T.c.id == session.id).values(**_values(session))
        )

    async def save_meters(self, sessions: list[ChargingSession]) -> None:
        if not sessions:
            return
        newer = sa.or_(_T.c.last_sample_at.is_(None), _T.c.last_sample_at < sa.bindparam("b_at"))
        await self._connection.execute(
            _T.update()
            .where(_T.c.id == sa.bindparam("b_id"), _T.c.stopped_at.is_(None), newer)
            .values(
                energy_wh=sa.bindparam("b_energy"),
                power_w=sa.bindparam("b_power"),
                soc_percent=sa.bindparam("b_soc"),
                last_sample_at=sa.bindparam("b_at"),
                last_seq_no=sa.bindparam("b_seq"),
            ),
            [
                {
                    "b_id": s.id,
                    "b_energy": s.energy_wh,
                    "b_power": s.power_w,
                    "b_soc": s.soc_percent,
                    "b_at": s.last_sample_at,
                    "b_seq": s.last_seq_no,
                }
                for s in sessions
            ],
        )

    async def id_tag_status(self, id_tag: str) -> str | None:
        row = (
            await self._connection.execute(
                sa.select(id_tokens.c.status, id_tokens.c.expires_at).where(
                    id_tokens.c.token == id_tag
                )
            )
        ).first()
        if row is None:
            return None
        status, expires_at = str(row.status), as_utc_or_none(row.expires_at)
        if status == "Accepted" and expires_at is not None and expires_at <= self._clock.now():
            return "Expired"
        return status

    async def by_id(self, session_id: int) -> ChargingSession | None:
        row = (await self._connection.execute(sa.select(_T).where(_T.c.id == session_id))).first()
        return None if row is None else _session(row._mapping)

    async def page(
        self, where: SessionFilter, before: int | None, limit: int
    ) -> list[ChargingSession]:
        query = sa.select(_T).order_by(_T.c.id.desc()).limit(limit)
        if before is not None:
            query = query.where(_T.c.id < before)
        if where.station_id is not None:
            query = query.where(_T.c.station_id == where.station_id)
        if where.id_tag is not None:
            query = query.where(_T.c.id_tag == where.id_tag)
        if where.driver_id is not None:
            tokens = sa.select(id_tokens.c.token).where(id_tokens.c.driver_id == where.driver_id)
            query = query.where(_T.c.id_tag.in_(tokens))
        if where.since is not None:
            query = query.where(_T.c.started_at >= where.since)
        if where.until is not None:
            query = query.where(_T.c.started_at < where.until)
        if where.active is not None:
            stopped = _T.c.stopped_at.is_(None) if where.active else _T.c.stopped_at.is_not(None)
            query = query.where(stopped)
        rows = await self._connection.execute(query)
        return [_session(r._mapping) for r in rows]


def _values(session: ChargingSession) -> dict[str, Any]:
    return {
        "station_id": session.station_id,
        "evse_id": session.evse_id,
        "connector_id": session.connector_id,
        "id_tag": session.id_tag,
        "external_id": session.external_id,
        "reservation_id": session.reservation_id,
        "started_at": session.started_at,
        "stopped_at": session.stopped_at,
        "meter_start_wh": session.meter_start_wh,
        "meter_stop_wh": session.meter_stop_wh,
        "energy_wh": session.energy_wh,
        "power_w": session.power_w,
        "soc_percent": session.soc_percent,
        "last_sample_at": session.last_sample_at,
        "last_seq_no": session.last_seq_no,
        "stop_reason": session.stop_reason,
    }


def _session(row: Any) -> ChargingSession:
    return ChargingSession(
        id=row["id"],
        station_id=row["station_id"],
        evse_id=row["evse_id"],
        connector_id=row["connector_id"],
        id_tag=row["id_tag"],
        started_at=as_utc(row["started_at"]),
        meter_start_wh=row["meter_start_wh"],
        external_id=row["external_id"],
        reservation_id=row["reservation_id"],
        stopped_at=as_utc_or_none(row["stopped_at"]),
        meter_stop_wh=row["meter_stop_wh"],
        energy_wh=row["energy_wh"],
        power_w=row["power_w"],
        soc_percent=row["soc_percent"],
        last_sample_at=as_utc_or_none(row["last_sample_at"]),
        last_seq_no=row["last_seq_no"],
        stop_reason=row["stop_reason"],
    )
