"""Vehicles in SQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.drivers.vehicle_model import ChargingSessionRef, Vehicle
from voltbook.storage.tables import id_tokens, reservations, vehicles
from voltbook.storage.timestamps import as_utc, as_utc_or_none

_V = vehicles
# A booking is held by the charger from a few minutes before its slot: a session that
# starts this early still belongs to it.
_EARLY_START = timedelta(hours=1)


class SqlVehicleRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, vehicle: Vehicle) -> None:
        await self._connection.execute(_V.insert().values(**_row(vehicle)))

    async def get(self, vehicle_id: str) -> Vehicle | None:
        row = (await self._connection.execute(sa.select(_V).where(_V.c.id == vehicle_id))).first()
        return None if row is None else _vehicle(row._mapping)

    async def of_driver(self, driver_id: str) -> list[Vehicle]:
        rows = await self._connection.execute(
            sa.select(_V).where(_V.c.driver_id == driver_id).order_by(_V.c.created_at, _V.c.id)
        )
        return [_vehicle(row._mapping) for row in rows]

    async def save(self, vehicle: Vehicle) -> None:
        row = _row(vehicle)
        await self._connection.execute(
            _V.update()
            .where(_V.c.id == vehicle.id)
            .values(
                {
                    key: row[key]
                    for key in ("name", "battery_kwh", "standards", "max_ac_kw", "max_dc_kw")
                }
            )
        )

    async def save_state(self, vehicle: Vehicle) -> bool:
        result = await self._connection.execute(
            _V.update()
            .where(
                _V.c.id == vehicle.id,
                sa.or_(_V.c.reported_at.is_(None), _V.c.reported_at < vehicle.reported_at),
            )
            .values(
                soc_percent=vehicle.soc_percent,
                range_km=vehicle.range_km,
                reported_at=vehicle.reported_at,
            )
        )
        return bool(result.rowcount)

    async def delete(self, vehicle_id: str) -> bool:
        result = await self._connection.execute(_V.delete().where(_V.c.id == vehicle_id))
        return bool(result.rowcount)

    async def for_charging(self, session: ChargingSessionRef) -> str | None:
        r = reservations.c
        if session.reservation_id is not None:
            named = await self._connection.scalar(
                sa.select(r.vehicle_id).where(
                    r.id == session.reservation_id, r.station_id == session.station_id
                )
            )
            if named is not None:
                return await self._existing(str(named))
        if session.id_tag is None:
            return None
        fulfilled = await self._connection.scalar(
            sa.select(r.vehicle_id)
            .where(
                r.station_id == session.station_id,
                r.evse_id == session.evse_id,
                r.id_tag == session.id_tag,
                r.status == "fulfilled",
                r.vehicle_id.is_not(None),
                r.starts_at <= session.started_at + _EARLY_START,
                r.ends_at > session.started_at,
            )
            .order_by(r.starts_at.desc())
            .limit(1)
        )
        if fulfilled is not None:
            found = await self._existing(str(fulfilled))
            if found is not None:
                return found
        owner = await self._connection.scalar(
            sa.select(id_tokens.c.driver_id).where(id_tokens.c.token == session.id_tag)
        )
        if owner is None:
            return None
        theirs = (
            await self._connection.scalars(
                sa.select(_V.c.id).where(_V.c.driver_id == owner).limit(2)
            )
        ).all()
        return str(theirs[0]) if len(theirs) == 1 else None

    async def _existing(self, vehicle_id: str) -> str | None:
        found = await self._connection.scalar(sa.select(_V.c.id).where(_V.c.id == vehicle_id))
        return None if found is None else str(found)


def _row(vehicle: Vehicle) -> dict[str, Any]:
    return {
        "id": vehicle.id,
        "driver_id": vehicle.driver_id,
        "name": vehicle.name,
        "battery_kwh": vehicle.battery_kwh,
        "standards": ";".join(vehicle.standards),
        "max_ac_kw": vehicle.max_ac_kw,
        "max_dc_kw": vehicle.max_dc_kw,
        "soc_percent": vehicle.soc_percent,
        "range_km": vehicle.range_km,
        "reported_at": vehicle.reported_at,
        "created_at": vehicle.created_at,
    }


def _vehicle(row: Any) -> Vehicle:
    return Vehicle(
        id=row["id"],
        driver_id=row["driver_id"],
        name=row["name"],
        battery_kwh=float(row["battery_kwh"]),
        standards=tuple(s for s in str(row["standards"]).split(";") if s),
        max_ac_kw=row["max_ac_kw"],
        max_dc_kw=row["max_dc_kw"],
        created_at=as_utc(row["created_at"]),
        soc_percent=row["soc_percent"],
        range_km=row["range_km"],
        reported_at=as_utc_or_none(row["reported_at"]),
    )
