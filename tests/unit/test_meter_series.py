"""The meter series queue: a failed write keeps its samples for the next, a read sees what
a write holds, and each session's queue is bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import TracebackType

import pytest

from tests.unit.fakes import FakeClock
from voltbook.charging.model import ChargingSession, MeterSample
from voltbook.charging.series import MeterSeriesService

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


class Store:
    """Samples by session; `failing` makes the next write fail."""

    def __init__(self) -> None:
        self.rows: dict[int, list[MeterSample]] = {}
        self.failing = False
        self.during_write: list[int] = []  # what a read saw while a write was under way
        self.series: MeterSeriesService | None = None

    async def add_many(self, series: dict[int, list[MeterSample]]) -> None:
        if self.failing:
            self.failing = False
            raise ConnectionError("database went away")
        if self.series is not None:
            seen = await self.series.of_session(session(1))
            self.during_write.append(len(seen))
        for session_id, samples in series.items():
            self.rows.setdefault(session_id, []).extend(samples)

    async def of_session(self, session_id: int, limit: int) -> list[MeterSample]:
        return self.rows.get(session_id, [])[-limit:]

    async def purge(self, older_than: datetime) -> int:
        return 0


class Uow:
    def __init__(self, store: Store) -> None:
        self.meter_series = store

    async def __aenter__(self) -> Uow:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def commit(self) -> None:
        return None


def session(session_id: int) -> ChargingSession:
    return ChargingSession(session_id, "S1", 1, 1, "TAG", T0, 0.0)


def samples(n: int, start: int = 1) -> list[MeterSample]:
    return [
        MeterSample(T0 + timedelta(seconds=s), energy_wh=float(s)) for s in range(start, start + n)
    ]


def series_over(store: Store) -> MeterSeriesService:
    return MeterSeriesService(lambda read_only=False: Uow(store), FakeClock(T0))


async def test_a_failed_write_keeps_its_samples_before_newer_ones() -> None:
    store = Store()
    series = series_over(store)
    series.note(1, samples(3))
    store.failing = True
    with pytest.raises(ConnectionError):
        await series.flush()
    series.note(1, samples(2, start=4))
    assert series.queued == 5
    assert await series.flush() == 5
    assert [s.energy_wh for s in store.rows[1]] == [1.0, 2.0, 3.0, 4.0, 5.0]


async def test_a_read_during_a_write_misses_nothing_and_counts_nothing_twice() -> None:
    store = Store()
    series = series_over(store)
    store.series = series
    series.note(1, samples(3))
    await series.flush()
    assert store.during_write == [4]  # the start reading and the three samples being written
    assert len(await series.of_session(session(1))) == 4


async def test_a_sessions_queue_keeps_its_newest_samples_between_writes() -> None:
    store = Store()
    series = series_over(store)
    series.note(1, samples(2_500))
    assert series.queued == 2_000
    await series.flush()
    assert store.rows[1][0].energy_wh == 501.0
