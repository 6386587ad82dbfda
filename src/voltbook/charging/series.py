"""Use cases of the meter series: keep the meter values a station sends during a session
(energy register, power, state of charge, each with its time), and read a session's back.

`note` is called on the path of OCPP meter messages, so it only appends to an in-memory
queue (bounded per session). `flush` (bootstrap runs it every second) writes what queued in
one transaction; `purge` drops the series of sessions older than the retention time.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from voltbook.charging.model import ChargingSession, MeterSample
from voltbook.core.clock import Clock
from voltbook.core.uow import UnitOfWork, UowFactory

MAX_POINTS = 20_000  # a session's series read back: the newest this many samples
_MAX_QUEUED = 2_000  # per session between two writes (a station flooding loses its oldest)


class MeterSeriesRepository(Protocol):
    async def add_many(self, series: dict[int, list[MeterSample]]) -> None:
        """Store each session's new samples (in time order)."""
        ...

    async def of_session(self, session_id: int, limit: int) -> list[MeterSample]:
        """The session's newest `limit` samples, oldest first."""
        ...

    async def purge(self, older_than: datetime) -> int:
        """Drop samples taken before `older_than`; how many went."""
        ...


class MeterSeriesUnitOfWork(UnitOfWork, Protocol):
    @property
    def meter_series(self) -> MeterSeriesRepository: ...


MeterSeriesUowFactory = UowFactory[MeterSeriesUnitOfWork]


class SampleSink(Protocol):
    """Where the charging service hands a session's new samples (cheap, synchronous)."""

    def note(self, session_id: int, samples: list[MeterSample]) -> None: ...


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One sample of a session as a chart draws it: energy is the session's own (the
    register's reading less the reading at the start)."""

    at: datetime
    energy_wh: float | None
    register_wh: float | None
    power_w: float | None
    soc_percent: float | None


def newer_samples(session: ChargingSession, samples: list[MeterSample]) -> list[MeterSample]:
    """The samples a session has not seen yet (a replayed message brings none)."""
    last = session.last_sample_at
    fresh = [s for s in samples if last is None or s.at > last]
    fresh.sort(key=lambda s: s.at)
    return fresh


class MeterSeriesService:
    def __init__(
        self,
        uow: MeterSeriesUowFactory,
        clock: Clock,
        retention: timedelta = timedelta(days=90),
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._retention = retention
        self._queued: dict[int, deque[MeterSample]] = {}
        self._writing: dict[int, list[MeterSample]] = {}  # taken by a write not yet committed

    def note(self, session_id: int, samples: list[MeterSample]) -> None:
        if not samples:
            return
        queue = self._queued.get(session_id)
        if queue is None:
            queue = self._queued[session_id] = deque(maxlen=_MAX_QUEUED)
        queue.extend(samples)

    @property
    def queued(self) -> int:
        return sum(len(q) for q in self._queued.values())

    async def flush(self) -> int:
        """Write every queued sample in one transaction; how many. A failed write keeps
        them queued for the next round (within each session's bound)."""
        queued, self._queued = self._queued, {}
        if not queued:
            return 0
        series = self._writing = {session_id: list(q) for session_id, q in queued.items()}
        try:
            async with self._uow() as uow:
                await uow.meter_series.add_many(series)
                await uow.commit()
        except BaseException:
            for session_id, samples in series.items():
                newer = self._queued.pop(session_id, deque())
                self._queued[session_id] = deque([*samples, *newer], maxlen=_MAX_QUEUED)
            raise
        finally:
            self._writing = {}
        return sum(len(s) for s in series.values())

    async def purge(self) -> int:
        async with self._uow() as uow:
            gone = await uow.meter_series.purge(self._clock.now() - self._retention)
            await uow.commit()
        return gone

    async def of_session(self, session: ChargingSession) -> list[SeriesPoint]:
        """The session's series as written, with what is still queued after it: the
        session's start reading first when the station gave one."""
        # What is not written yet is taken first, then the database read: a sample is in
        # one or the other (or both, while a write commits: a sample's time is its identity
        # within a session, so one seen twice counts once).
        unwritten = [*self._writing.get(session.id, ()), *self._queued.get(session.id, ())]
        async with self._uow(read_only=True) as uow:
            stored = await uow.meter_series.of_session(session.id, MAX_POINTS)
        by_time = {s.at: s for s in [*stored, *unwritten]}
        samples = sorted(by_time.values(), key=lambda s: s.at)[-MAX_POINTS:]
        start = session.meter_start_wh
        points = []
        if not samples or samples[0].at > session.started_at:
            points.append(SeriesPoint(session.started_at, 0.0, start, None, None))
        for s in samples:
            energy = None if s.energy_wh is None else max(0.0, s.energy_wh - start)
            points.append(SeriesPoint(s.at, energy, s.energy_wh, s.power_w, s.soc_percent))
        return points
