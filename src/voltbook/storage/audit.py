"""The audit log in SQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.audit.model import AuditEntry, AuditFilter
from voltbook.storage.records import audit_log
from voltbook.storage.tables import drivers
from voltbook.storage.timestamps import as_utc

_A = audit_log


class SqlAuditRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, entry: AuditEntry) -> int:
        result = await self._connection.execute(
            _A.insert()
            .values(
                at=entry.at,
                actor_id=entry.actor_id[:36],
                actor_role=entry.actor_role[:16],
                action=entry.action[:200],
                station_id=entry.station_id[:48] if entry.station_id else None,
                target=entry.target[:300],
                request=entry.request,
                status_code=entry.status_code,
                outcome=entry.outcome[:200] if entry.outcome else None,
                answer=entry.answer,
            )
            .returning(_A.c.id)
        )
        return int(result.scalar_one())

    async def find(self, where: AuditFilter, before: int | None, limit: int) -> list[AuditEntry]:
        query = (
            sa.select(_A, drivers.c.email.label("actor_email"))
            .select_from(_A.outerjoin(drivers, drivers.c.id == _A.c.actor_id))
            .order_by(_A.c.id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(_A.c.id < before)
        if where.actor_id is not None:
            query = query.where(_A.c.actor_id == where.actor_id)
        if where.station_id is not None:
            query = query.where(_A.c.station_id == where.station_id)
        if where.since is not None:
            query = query.where(_A.c.at >= where.since)
        if where.until is not None:
            query = query.where(_A.c.at < where.until)
        rows = (await self._connection.execute(query)).mappings()
        return [
            AuditEntry(
                at=as_utc(row["at"]),
                actor_id=row["actor_id"],
                actor_role=row["actor_role"],
                action=row["action"],
                target=row["target"],
                station_id=row["station_id"],
                status_code=row["status_code"],
                outcome=row["outcome"],
                request=row["request"],
                answer=row["answer"],
                id=row["id"],
                actor_email=row["actor_email"],
            )
            for row in rows
        ]
