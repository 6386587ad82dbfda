"""What the alarms area needs from the outside world."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from voltbook.alarms.model import Alarm, AlarmKind, Severity


class AlarmRepository(Protocol):
    async def open_alarm(
        self, station_id: str, evse_id: int | None, connector_id: int | None, kind: AlarmKind
    ) -> Alarm | None: ...

    async def raise_alarm(
        self,
        station_id: str,
        evse_id: int | None,
        connector_id: int | None,
        kind: AlarmKind,
        code: str,
        severity: Severity,
        at: datetime,
    ) -> Alarm: ...

    async def clear(self, alarm: Alarm, at: datetime) -> Alarm: ...

    async def active(self, after_id: int | None, limit: int) -> list[Alarm]:
        """Alarms not cleared, oldest first, after the given id."""
        ...


class AlarmsUnitOfWork(Protocol):
    @property
    def alarms(self) -> AlarmRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


class AlarmsUowFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> AlarmsUnitOfWork: ...
