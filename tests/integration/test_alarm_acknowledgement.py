"""An operator takes an alarm in hand (alarms/service.py), on both databases: once, by one
operator, told to the other staff as it happens; the alarm stays active until it clears."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.unit.fakes import FakeClock
from voltbook.alarms.events import AlarmAcknowledged
from voltbook.alarms.service import AlarmService
from voltbook.core.bus import Event, InProcessBus
from voltbook.core.errors import Conflict, NotFound
from voltbook.storage.unit_of_work import SqlUnitOfWork

WHEN = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)


@pytest.fixture
async def heard() -> list[Event]:
    return []


@pytest.fixture
async def alarms(engine: AsyncEngine, heard: list[Event]) -> AlarmService:
    clock = FakeClock(WHEN)
    async with SqlUnitOfWork(engine, clock) as uow:
        await uow.stations.add("ALARM-1", None, "hash")
        await uow.commit()
    bus = InProcessBus()

    async def hear(event: Event) -> None:
        heard.append(event)

    bus.subscribe(AlarmAcknowledged, hear)

    def uow(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock, read_only=read_only)

    return AlarmService(uow, bus, clock)


async def test_an_alarm_is_acknowledged_once_and_stays_active_until_it_clears(
    alarms: AlarmService, heard: list[Event]
) -> None:
    await alarms.station_offline("ALARM-1", WHEN)
    [alarm] = await alarms.active()
    taken = await alarms.acknowledge(alarm.id, "operator-a")
    assert (taken.acknowledged_by, taken.acknowledged_at) == ("operator-a", WHEN)
    [still] = await alarms.active()
    assert still == taken  # read back as stored, and still active
    assert heard == [AlarmAcknowledged(taken)]
    with pytest.raises(Conflict):
        await alarms.acknowledge(alarm.id, "operator-b")
    assert (await alarms.active())[0].acknowledged_by == "operator-a"
    await alarms.station_online("ALARM-1", WHEN)
    assert await alarms.active() == []


async def test_of_two_operators_at_once_one_takes_the_alarm(alarms: AlarmService) -> None:
    await alarms.station_offline("ALARM-1", WHEN)
    [alarm] = await alarms.active()
    outcomes = await asyncio.gather(
        *(alarms.acknowledge(alarm.id, f"operator-{n}") for n in range(4)),
        return_exceptions=True,
    )
    taken = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(taken) == 1
    assert all(isinstance(o, Conflict) for o in outcomes if isinstance(o, BaseException))
    assert (await alarms.active())[0].acknowledged_by == taken[0].acknowledged_by


async def test_an_unknown_alarm_is_not_found(alarms: AlarmService) -> None:
    with pytest.raises(NotFound):
        await alarms.acknowledge(999_999, "operator-a")
