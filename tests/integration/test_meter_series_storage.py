"""Sessions' meter series on both databases: the samples a station sends during a session
are kept with their time, a replay adds nothing, a read sees what is still queued, and
samples past the retention go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.unit.fakes import FakeClock
from voltbook.charging.model import MeterSample
from voltbook.charging.series import MeterSeriesService
from voltbook.charging.service import ChargingService
from voltbook.core.bus import InProcessBus
from voltbook.storage.unit_of_work import SqlUnitOfWork

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


async def test_a_sessions_samples_are_kept_read_back_and_purged(engine: AsyncEngine) -> None:
    clock = FakeClock(T0)

    def uow(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock, read_only=read_only)

    async with uow() as setup:
        await setup.stations.add("MS1", None, "not-a-real-hash")
        await setup.commit()
    series = MeterSeriesService(uow, clock, retention=timedelta(days=2))
    charging = ChargingService(
        uow, clock, InProcessBus(), accept_unknown_id_tags=True, series=series
    )
    session, _ = await charging.start("MS1", 1, None, "TAG", 10_000.0, T0)
    minute = timedelta(minutes=1)
    first = [
        MeterSample(T0 + minute, energy_wh=10_200.0, power_w=11_000.0, soc_percent=40.0),
        MeterSample(T0 + 2 * minute, energy_wh=10_400.0, power_w=11_500.0),
    ]
    await charging.meter("MS1", session.reference, first)
    await charging.meter("MS1", session.reference, first)  # a replay: nothing new
    assert series.queued == 2
    assert await series.flush() == 2
    assert await series.flush() == 0

    # A sample still queued is read with the written ones.
    await charging.meter("MS1", session.reference, [MeterSample(T0 + 3 * minute, soc_percent=42)])
    stopped = await charging.stop("MS1", session.reference, 10_700.0, T0 + 4 * minute, "Local")
    assert stopped is not None
    points = await series.of_session(stopped)
    assert [(p.at - T0, p.energy_wh, p.power_w, p.soc_percent) for p in points] == [
        (timedelta(0), 0.0, None, None),  # the start reading
        (minute, 200.0, 11_000.0, 40.0),
        (2 * minute, 400.0, 11_500.0, None),
        (3 * minute, None, None, 42.0),
        (4 * minute, 700.0, None, None),  # the reading at the stop
    ]
    assert points[1].register_wh == 10_200.0
    assert await series.flush() == 2
    assert await series.of_session(stopped) == points

    # Another session's series is its own.
    other, _ = await charging.start("MS1", 2, None, "TAG", 0.0, T0 + 3 * timedelta(days=1))
    clock.advance(3 * 86_400)
    await charging.meter(
        "MS1", other.reference, [MeterSample(clock.now() + minute, energy_wh=500.0)]
    )
    await series.flush()
    assert await series.purge() == 4  # the first session's samples are past two days
    assert [p.energy_wh for p in await series.of_session(stopped)] == [0.0]
    assert [p.energy_wh for p in await series.of_session(other)] == [0.0, 500.0]
