"""The meter series queue: a failed write keeps its samples for the next, a read sees what
a write holds, and each session's queue is bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.fakes import FakeClock
from tests.unit.memory_uow import MemoryStore, MemoryUnitOfWork
from voltbook.charging.model import ChargingSession, MeterSample
from voltbook.charging.series import MeterSeriesService

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


class Store(MemoryStore[dict[int, list[MeterSample]]]):
    """Samples by session; `failing` makes the next write fail."""

    def __init__(self) -> None:
        super().__init__({})
        self.failing = False
        self.during_write: list[int] = []  # what a read saw while a write was under way
        self.series: MeterSeriesService | None = None

    @property
    def rows(self) -> dict[int, list[MeterSample]]:
        return self.state

    def uow(self, *, read_only: bool = False) -> Uow:
        return Uow(self, read_only=read_only)


class Uow(MemoryUnitOfWork[dict[int, list[MeterSample]]]):
    store: Store

    def open_repositories(self) -> None:
        self.meter_series = Samples(self)


class Samples:
    def __init__(self, uow: Uow) -> None:
        self._uow = uow

    async def add_many(self, series: dict[int, list[MeterSample]]) -> None:
        store = self._uow.store
        rows = self._uow.writable("add_many")
        if store.failing:
            store.failing = False
            raise ConnectionError("database went away")
        if store.series is not None:
            seen = await store.series.of_session(session(1))
            store.during_write.append(len(seen))
        for session_id, samples in series.items():
            rows.setdefault(session_id, []).extend(samples)

    async def of_session(self, session_id: int, limit: int) -> list[MeterSample]:
        return self._uow.state.get(session_id, [])[-limit:]

    async def purge(self, older_than: datetime) -> int:
        return 0


def session(session_id: int) -> ChargingSession:
    return ChargingSession(session_id, "S1", 1, 1, "TAG", T0, 0.0)


def samples(n: int, start: int = 1) -> list[MeterSample]:
    return [
        MeterSample(T0 + timedelta(seconds=s), energy_wh=float(s)) for s in range(start, start + n)
    ]


def series_over(store: Store) -> MeterSeriesService:
    return MeterSeriesService(store.uow, FakeClock(T0))


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
