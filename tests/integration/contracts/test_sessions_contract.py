"""What every SessionRepository does, the fake's as well as SQL's."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tests.integration.contracts.conftest import STATION
from voltbook.charging.model import ChargingSession, SessionFilter
from voltbook.charging.ports import ChargingUowFactory

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def started(evse: int = 1, at: datetime = T0, external_id: str | None = None) -> ChargingSession:
    return ChargingSession(0, STATION, evse, 1, "TAG", at, 1000.0, external_id=external_id)


async def add(uow: ChargingUowFactory, *sessions: ChargingSession) -> list[ChargingSession]:
    async with uow() as writing:
        saved = [await writing.sessions.add(s) for s in sessions]
        await writing.commit()
    return saved


async def test_a_session_is_found_by_the_reference_its_station_knows(
    charging_uow: ChargingUowFactory,
) -> None:
    v16, v201 = await add(charging_uow, started(), started(evse=2, external_id="tx-9"))
    assert v16 == replace(started(), id=v16.id)
    async with charging_uow(read_only=True) as uow:
        assert await uow.sessions.get(STATION, str(v16.id)) == v16
        assert await uow.sessions.get(STATION, "tx-9") == v201
        assert await uow.sessions.get(STATION, str(v201.id)) is None  # it has its own id
        assert await uow.sessions.get("OTHER", "tx-9") is None
        assert await uow.sessions.find_start(STATION, 1, T0, "TAG") == v16
        assert await uow.sessions.find_start(STATION, 1, T0, "OTHER") is None
        assert await uow.sessions.by_id(v201.id) == v201


async def test_a_saved_session_reads_back_whole(charging_uow: ChargingUowFactory) -> None:
    (session,) = await add(charging_uow, started())
    stopped = replace(
        session,
        stopped_at=T0 + timedelta(hours=1),
        meter_stop_wh=9000.0,
        energy_wh=8000.0,
        stop_reason="Local",
    )
    async with charging_uow() as uow:
        await uow.sessions.save(stopped)
        await uow.commit()
    async with charging_uow(read_only=True) as uow:
        assert await uow.sessions.by_id(session.id) == stopped


async def test_meter_figures_are_saved_only_when_newer_and_only_while_running(
    charging_uow: ChargingUowFactory,
) -> None:
    running, ended = await add(charging_uow, started(), started(evse=2))
    async with charging_uow() as uow:
        await uow.sessions.save(replace(ended, stopped_at=T0 + timedelta(minutes=1)))
        await uow.commit()

    def sample(session: ChargingSession, minutes: int, wh: float) -> ChargingSession:
        return replace(session, energy_wh=wh, last_sample_at=T0 + timedelta(minutes=minutes))

    async with charging_uow() as uow:
        await uow.sessions.save_meters([sample(running, 10, 500.0), sample(ended, 10, 500.0)])
        await uow.sessions.save_meters([sample(running, 5, 100.0)])  # older: ignored
        await uow.commit()
    async with charging_uow(read_only=True) as uow:
        now_running = await uow.sessions.by_id(running.id)
        now_ended = await uow.sessions.by_id(ended.id)
    assert now_running is not None
    assert now_ended is not None
    assert (now_running.energy_wh, now_running.last_sample_at) == (
        500.0,
        T0 + timedelta(minutes=10),
    )
    assert now_ended.energy_wh == 0.0


async def test_pages_go_newest_first_and_filter(charging_uow: ChargingUowFactory) -> None:
    sessions = await add(
        charging_uow, *(started(evse=1, at=T0 + timedelta(hours=h)) for h in range(3))
    )
    async with charging_uow(read_only=True) as uow:
        first = await uow.sessions.page(SessionFilter(), None, 2)
        rest = await uow.sessions.page(SessionFilter(), first[-1].id, 2)
        late = await uow.sessions.page(SessionFilter(since=T0 + timedelta(hours=1)), None, 10)
    assert [s.id for s in first + rest] == [s.id for s in reversed(sessions)]
    assert [s.id for s in late] == [s.id for s in reversed(sessions[1:])]


async def test_sessions_without_commit_are_dropped(charging_uow: ChargingUowFactory) -> None:
    async with charging_uow() as uow:
        await uow.sessions.add(started())
    async with charging_uow(read_only=True) as uow:
        assert await uow.sessions.page(SessionFilter(), None, 10) == []
