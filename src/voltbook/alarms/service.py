"""Raise an alarm once when something breaks, clear it when it recovers."""

from __future__ import annotations

from datetime import datetime

from voltbook.alarms.events import AlarmAcknowledged, AlarmCleared, AlarmRaised
from voltbook.alarms.model import Alarm, AlarmKind, Severity, Subject
from voltbook.alarms.ports import AlarmsUowFactory
from voltbook.core.bus import EventBus
from voltbook.core.clock import Clock
from voltbook.core.connectors import ConnectorRef
from voltbook.core.errors import Conflict, NotFound


class AlarmService:
    def __init__(self, uow: AlarmsUowFactory, bus: EventBus, clock: Clock) -> None:
        self._uow = uow
        self._bus = bus
        self._clock = clock

    async def connector_status(
        self, connector: ConnectorRef, faulted: bool, error_code: str | None, at: datetime
    ) -> None:
        """A connector reported a status: Faulted raises, anything else clears."""
        subject = Subject.of(connector)
        if faulted:
            code = error_code or "Faulted"
            await self._raise(subject, AlarmKind.FAULTED, code, Severity.CRITICAL, at)
        else:
            await self._clear(subject, AlarmKind.FAULTED, at)

    async def station_offline(self, station_id: str, at: datetime) -> None:
        await self._raise(Subject(station_id), AlarmKind.OFFLINE, "Offline", Severity.WARNING, at)

    async def station_online(self, station_id: str, at: datetime) -> None:
        await self._clear(Subject(station_id), AlarmKind.OFFLINE, at)

    async def active(self, after_id: int | None = None, limit: int = 100) -> list[Alarm]:
        async with self._uow(read_only=True) as uow:
            return await uow.alarms.active(after_id, limit)

    async def acknowledge(self, alarm_id: int, by: str) -> Alarm:
        """Operator `by` takes the alarm in hand (active or cleared); once only."""
        async with self._uow() as uow:
            alarm = await uow.alarms.get(alarm_id)
            if alarm is None:
                raise NotFound(f"alarm {alarm_id} does not exist")
            taken = alarm.acknowledge(by, self._clock.now())
            if not await uow.alarms.acknowledge(taken):
                raise Conflict(f"alarm {alarm_id} is acknowledged already")
            await uow.commit()
        await self._bus.publish(AlarmAcknowledged(taken))
        return taken

    async def _raise(
        self, subject: Subject, kind: AlarmKind, code: str, severity: Severity, at: datetime
    ) -> None:
        async with self._uow() as uow:
            if await uow.alarms.open_alarm(subject, kind):
                return
            alarm = await uow.alarms.raise_alarm(subject, kind, code, severity, at)
            await uow.commit()
        await self._bus.publish(AlarmRaised(alarm))

    async def _clear(self, subject: Subject, kind: AlarmKind, at: datetime) -> None:
        async with self._uow() as uow:
            alarm = await uow.alarms.open_alarm(subject, kind)
            if alarm is None:
                return
            cleared = await uow.alarms.clear(alarm, at)
            await uow.commit()
        await self._bus.publish(AlarmCleared(cleared))
