"""Charges started from the app, and the app id tokens they use, in SQL."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.charging.model import ChargingSession
from voltbook.charging.remote_model import AppCharge, ChargeState
from voltbook.core.clock import Clock
from voltbook.storage.sessions import SqlSessionRepository
from voltbook.storage.tables import (
    app_charges,
    charging_sessions,
    connectors,
    id_tokens,
    sites,
    stations,
)
from voltbook.storage.timestamps import as_utc

_A = app_charges
_WAITING = [s.value for s in ChargeState if s.waiting]


class SqlAppChargeRepository:
    def __init__(self, connection: AsyncConnection, clock: Clock) -> None:
        self._connection = connection
        self._clock = clock

    async def add(self, charge: AppCharge) -> bool:
        try:
            async with self._connection.begin_nested():
                await self._connection.execute(_A.insert().values(**_values(charge)))
        except IntegrityError:
            return False
        return True

    async def get(self, charge_id: str) -> AppCharge | None:
        return await self._one(_A.c.id == charge_id)

    async def by_key(self, driver_id: str, idempotency_key: str) -> AppCharge | None:
        return await self._one(_A.c.driver_id == driver_id, _A.c.idempotency_key == idempotency_key)

    async def save(self, charge: AppCharge) -> None:
        await self._connection.execute(
            _A.update().where(_A.c.id == charge.id).values(**_values(charge))
        )

    async def waiting_for(
        self, station_id: str, evse_id: int, id_tag: str | None
    ) -> AppCharge | None:
        conditions = [_A.c.station_id == station_id, _A.c.evse_id == evse_id]
        conditions.append(_A.c.state.in_(_WAITING))
        if id_tag is not None:
            conditions.append(_A.c.id_tag == id_tag)
        return await self._one(*conditions)

    async def of_session(self, session_id: int) -> AppCharge | None:
        return await self._one(_A.c.session_id == session_id)

    async def of_driver(
        self, driver_id: str, before: datetime | None, limit: int
    ) -> list[AppCharge]:
        query = sa.select(_A).where(_A.c.driver_id == driver_id)
        if before is not None:
            query = query.where(_A.c.created_at < before)
        rows = await self._connection.execute(
            query.order_by(_A.c.created_at.desc(), _A.c.id.desc()).limit(limit)
        )
        return [_charge(row._mapping) for row in rows]

    async def session(self, session_id: int) -> ChargingSession | None:
        row = (
            await self._connection.execute(
                sa.select(charging_sessions.c.station_id, charging_sessions.c.external_id).where(
                    charging_sessions.c.id == session_id
                )
            )
        ).first()
        if row is None:
            return None
        reference = row.external_id or str(session_id)
        return await SqlSessionRepository(self._connection, self._clock).get(
            row.station_id, reference
        )

    async def place(self, station_id: str) -> tuple[str | None, str | None]:
        row = (
            await self._connection.execute(
                sa.select(sites.c.name, sites.c.address, sites.c.city)
                .select_from(stations.join(sites, sites.c.id == stations.c.site_id))
                .where(stations.c.id == station_id)
            )
        ).first()
        if row is None:
            return None, None
        address = ", ".join(part for part in (row.address, row.city) if part)
        return row.name, address or None

    async def evse_status(self, station_id: str, evse_id: int) -> tuple[str, bool] | None:
        row = (
            await self._connection.execute(
                sa.select(connectors.c.status, stations.c.online)
                .select_from(connectors.join(stations, stations.c.id == connectors.c.station_id))
                .where(connectors.c.station_id == station_id, connectors.c.evse_id == evse_id)
                .order_by(connectors.c.connector_id)
                .limit(1)
            )
        ).first()
        return None if row is None else (str(row.status), bool(row.online))

    async def app_token(self, driver_id: str) -> str:
        # The same pick as a booking's id tag: the driver's first token, so both agree.
        token = await self._connection.scalar(
            sa.select(sa.func.min(id_tokens.c.token)).where(id_tokens.c.driver_id == driver_id)
        )
        if token is not None:
            return str(token)
        # 14 characters: within OCPP 1.6's 20 for an idTag, and 2.0.1's 36.
        made = "VB" + secrets.token_hex(6).upper()
        await self._connection.execute(
            id_tokens.insert().values(
                token=made, driver_id=driver_id, status="Accepted", created_at=self._clock.now()
            )
        )
        return made

    async def _one(self, *conditions: Any) -> AppCharge | None:
        row = (
            await self._connection.execute(
                sa.select(_A).where(*conditions).order_by(_A.c.created_at.desc()).limit(1)
            )
        ).first()
        return None if row is None else _charge(row._mapping)


def _values(charge: AppCharge) -> dict[str, Any]:
    return {
        "id": charge.id,
        "driver_id": charge.driver_id,
        "station_id": charge.station_id,
        "evse_id": charge.evse_id,
        "id_tag": charge.id_tag,
        "state": charge.state.value,
        "reason": charge.reason,
        "session_id": charge.session_id,
        "idempotency_key": charge.idempotency_key,
        "request_hash": charge.request_hash,
        "created_at": charge.created_at,
        "updated_at": charge.updated_at,
    }


def _charge(row: Any) -> AppCharge:
    return AppCharge(
        id=row["id"],
        driver_id=row["driver_id"],
        station_id=row["station_id"],
        evse_id=row["evse_id"],
        id_tag=row["id_tag"],
        state=ChargeState(row["state"]),
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
        idempotency_key=row["idempotency_key"],
        request_hash=row["request_hash"],
        reason=row["reason"],
        session_id=row["session_id"],
    )
