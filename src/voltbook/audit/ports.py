"""What the audit log needs from storage."""

from __future__ import annotations

from typing import Protocol

from voltbook.audit.model import AuditEntry, AuditFilter
from voltbook.core.uow import UnitOfWork, UowFactory


class AuditRepository(Protocol):
    async def add(self, entry: AuditEntry) -> int: ...

    async def find(self, where: AuditFilter, before: int | None, limit: int) -> list[AuditEntry]:
        """Entries that match, newest first, with ids below `before`."""
        ...


class AuditUnitOfWork(UnitOfWork, Protocol):
    @property
    def audit(self) -> AuditRepository: ...


AuditUowFactory = UowFactory[AuditUnitOfWork]
