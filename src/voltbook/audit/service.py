"""Keeping and reading the audit log of operator actions (docs/adr/0026)."""

from __future__ import annotations

from dataclasses import replace

from voltbook.audit.model import AuditEntry, AuditFilter
from voltbook.audit.ports import AuditUowFactory
from voltbook.core.clock import Clock


class AuditService:
    def __init__(self, uow: AuditUowFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def record(self, entry: AuditEntry) -> int:
        """Keep one entry, stamped now (in its own transaction: the action is done)."""
        async with self._uow() as uow:
            entry_id = await uow.audit.add(replace(entry, at=self._clock.now()))
            await uow.commit()
        return entry_id

    async def find(self, where: AuditFilter, before: int | None, limit: int) -> list[AuditEntry]:
        async with self._uow(read_only=True) as uow:
            return await uow.audit.find(where, before, limit)
