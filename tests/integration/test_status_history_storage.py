"""The status history on both databases: rows land in batches, a range reads its own rows
and the state each connector was in when it began, and old rows go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.unit.fakes import FakeClock
from voltbook.stations.history import StatusHistoryService
from voltbook.stations.model import ConnectorStatus
from voltbook.stations.states import ChargerState
from voltbook.storage.unit_of_work import SqlUnitOfWork

T0 = datetime(2026, 12, 1, 8, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def test_utilisation_and_idle_places_from_stored_history(engine: AsyncEngine) -> None:
    clock = FakeClock(T0 + 2 * 24 * HOUR)

    def uow(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock, read_only=read_only)

    async with uow() as work:
        await work.stations.add("BUSY", None, "not-a-real-hash")
        await work.stations.add("IDLE", None, "not-a-real-hash")
        await work.commit()
    history = StatusHistoryService(uow, clock, timedelta(days=7))
    history.connector_changed("BUSY", 1, 1, ConnectorStatus.AVAILABLE, T0 - 10 * 24 * HOUR)
    history.connector_changed("BUSY", 1, 1, ConnectorStatus.CHARGING, T0 - HOUR)
    history.connector_changed("BUSY", 1, 1, ConnectorStatus.FINISHING, T0 + HOUR / 2)
    history.connector_changed("IDLE", 1, 1, ConnectorStatus.AVAILABLE, T0 - 2 * HOUR)
    history.station_online("IDLE", False, T0 + HOUR / 4)
    history.station_online("IDLE", True, T0 + HOUR / 2)
    assert await history.flush() == 6

    usage = await history.utilisation(["BUSY"], T0, T0 + HOUR, HOUR)
    assert [u.seconds for u in usage] == [
        {ChargerState.CHARGING: 1800.0, ChargerState.PLUGGED_NOT_CHARGING: 1800.0}
    ]
    places = await history.idle_places(T0, T0 + HOUR, 5)
    assert [(p.station_ids, p.available_seconds) for p in places] == [
        (("IDLE",), 2700.0),
        (("BUSY",), 0.0),
    ]
    assert await history.purge() == 1  # the row from ten days back
