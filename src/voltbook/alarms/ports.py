"""What the alarms area needs from the outside world."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from voltbook.alarms.model import Alarm, AlarmKind, Severity, Subject
from voltbook.core.uow import UnitOfWork, UowFactory


class AlarmRepository(Protocol):
    async def open_alarm(self, subject: Subject, kind: AlarmKind) -> Alarm | None:
        """The alarm of this kind about exactly this subject that is not cleared, if any."""
        ...

    async def raise_alarm(
        self, subject: Subject, kind: AlarmKind, code: str, severity: Severity, at: datetime
    ) -> Alarm: ...

    async def clear(self, alarm: Alarm, at: datetime) -> Alarm: ...

    async def get(self, alarm_id: int) -> Alarm | None: ...

    async def acknowledge(self, alarm: Alarm) -> bool:
        """Store the alarm's acknowledgement unless one is stored already (two operators
        at once: the first stands); whether this one was stored."""
        ...

    async def active(self, after_id: int | None, limit: int) -> list[Alarm]:
        """Alarms not cleared, oldest first, after the given id."""
        ...


class AlarmsUnitOfWork(UnitOfWork, Protocol):
    @property
    def alarms(self) -> AlarmRepository: ...


AlarmsUowFactory = UowFactory[AlarmsUnitOfWork]
