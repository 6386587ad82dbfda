"""Raise an alarm once when something breaks, clear it when it recovers."""

from __future__ import annotations

from datetime import datetime

from voltbook.alarms.events import AlarmCleared, AlarmRaised
from voltbook.alarms.model import Alarm, AlarmKind, Severity
from voltbook.alarms.ports import AlarmsUowFactory
from voltbook.core.bus import EventBus


class AlarmService:
    def __init__(self, uow: AlarmsUowFactory, bus: EventBus) -> None:
        self._uow = uow
        self._bus = bus

    async def connector_status(
        self,
        station_id: str,
        evse_id: int,
        connector_id: int,
        faulted: bool,
        error_code: str | None,
        at: datetime,
    ) -> None:
        """A connector reported a status: Faulted raises, anything else clears."""
        if faulted:
            await self._raise(
                station_id, evse_id, connector_id, AlarmKind.FAULTED,
                error_code or "Faulted", Severity.CRITICAL, at,
            )  # fmt: skip
        else:
            await self._clear(station_id, evse_id, connector_id, AlarmKind.FAULTED, at)

    async def station_offline(self, station_id: str, at: datetime) -> None:
        await self._raise(
            station_id, None, None, AlarmKind.OFFLINE, "Offline", Severity.WARNING, at
        )

    async def station_online(self, station_id: str, at: datetime) -> None:
        await self._clear(station_id, None, None, AlarmKind.OFFLINE, at)

    async def active(self, after_id: int | None = None, limit: int = 100) -> list[Alarm]:
        async with self._uow(read_only=True) as uow:
            return await uow.alarms.active(after_id, limit)

    async def _raise(
        self,
        station_id: str,
        evse_id: int | None,
        connector_id: int | None,
        kind: AlarmKind,
        code: str,
        severity: Severity,
        at: datetime,
    ) -> None:
        async with self._uow() as uow:
            if await uow.alarms.open_alarm(station_id, evse_id, connector_id, kind):
                return
            alarm = await uow.alarms.raise_alarm(
                station_id, evse_id, connector_id, kind, code, severity, at
            )
            await uow.commit()
        await self._bus.publish(AlarmRaised(alarm))

    async def _clear(
        self,
        station_id: str,
        evse_id: int | None,
        connector_id: int | None,
        kind: AlarmKind,
        at: datetime,
    ) -> None:
        async with self._uow() as uow:
            alarm = await uow.alarms.open_alarm(station_id, evse_id, connector_id, kind)
            if alarm is None:
                return
            cleared = await uow.alarms.clear(alarm, at)
            await uow.commit()
        await self._bus.publish(AlarmCleared(cleared))
