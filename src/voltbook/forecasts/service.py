"""Use cases of the forecasts: train on the history kept, keep every station's forecast in
memory for search and recommendations, and answer one station's forecast fresh.

Training and scoring work on arrays (minutes for a city's month); they run in a worker
thread so that the event loop keeps serving. Several nodes share the stored model: one that
finds a model younger than `train_every` trained elsewhere uses it instead of training.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np

from voltbook.core.clock import Clock
from voltbook.core.errors import NotFound
from voltbook.forecasts.features import FREE, LOOKBACK, Grid, features_at, grids
from voltbook.forecasts.model import (
    HORIZONS,
    Booking,
    Forecast,
    HorizonForecast,
    TrainedModel,
)
from voltbook.forecasts.ports import ForecastUowFactory
from voltbook.forecasts.training import Evaluation, NotEnoughHistory, evaluate, train
from voltbook.stations.states import StateChange

KEEP_MODELS = 3


class ForecastService:
    def __init__(
        self,
        uow: ForecastUowFactory,
        clock: Clock,
        train_days: int = 28,
        train_every: timedelta = timedelta(hours=1),
        step_min: int = 10,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._train_days = train_days
        self._train_every = train_every
        self._step = step_min
        self._model: TrainedModel | None = None
        self._stations: dict[str, Forecast] = {}
        self._sites: dict[int, bool] = {}

    def now(self) -> datetime:
        return self._clock.now()

    @property
    def model(self) -> TrainedModel | None:
        return self._model

    @property
    def likely_free_sites(self) -> dict[int, bool]:
        """Per site, whether a station there is likely to have a free connector in 30
        minutes, as of the last refresh (sites without history are absent)."""
        return self._sites

    def likely_free(self, station_id: str) -> bool | None:
        forecast = self._stations.get(station_id)
        return None if forecast is None else forecast.likely_free

    async def train(self, *, force: bool = False) -> TrainedModel | None:
        """Train on the last `train_days` unless a model younger than `train_every` exists
        (or `force`); None when the history does not hold enough yet."""
        now = self._clock.now()
        async with self._uow(read_only=True) as uow:
            stored = await uow.forecasts.latest()
            if not force and stored is not None and now - stored.trained_at < self._train_every:
                self._model = stored
                return stored
        rows, bookings, start = await self._history(now)
        try:
            model = await asyncio.to_thread(_train, rows, bookings, start, now, self._step)
        except NotEnoughHistory:
            return None
        async with self._uow() as uow:
            await uow.forecasts.save(model, KEEP_MODELS)
            await uow.commit()
        self._model = model
        return model

    async def _history(self, now: datetime) -> tuple[list[StateChange], list[Booking], datetime]:
        start = now - timedelta(days=self._train_days)
        async with self._uow(read_only=True) as uow:
            rows = await uow.forecasts.history(None, start, now)
            bookings = await uow.forecasts.bookings(None, start, now)
        return rows, bookings, start

    async def evaluate(self, test_days: int) -> list[Evaluation]:
        """Train on the kept history but its last `test_days`, and score on those days
        against the baselines; NotEnoughHistory when it is too short."""
        now = _minute(self._clock.now())
        rows, bookings, start = await self._history(now)

        def work() -> list[Evaluation]:
            found = grids(rows, start, now, bookings).values()
            return evaluate(found, now, test_days, self._step)[1]

        return await asyncio.to_thread(work)

    async def refresh(self) -> int:
        """Every station's forecast as of now, into memory (the likely-free flags); the
        number of stations forecast."""
        now = _minute(self._clock.now())
        async with self._uow(read_only=True) as uow:
            stored = await uow.forecasts.latest()
            rows = await uow.forecasts.history(None, now - LOOKBACK, now)
            bookings = await uow.forecasts.bookings(None, now, now + timedelta(minutes=61))
            sites = await uow.forecasts.sites_of(sorted({r.station_id for r in rows}))
        if stored is not None:
            self._model = stored
        model = self._model
        found = await asyncio.to_thread(_forecasts, model, rows, bookings, now)
        likely: dict[int, bool] = defaultdict(bool)
        for station_id, forecast in found.items():
            site = sites.get(station_id)
            if site is not None:
                likely[site] |= forecast.likely_free
        self._stations, self._sites = found, dict(likely)
        return len(found)

    async def forecast(self, station_id: str, standards: frozenset[str] = frozenset()) -> Forecast:
        """The station's forecast from its history up to now, for its connectors of these
        standards (OCPI names; none: every connector); NotFound for no station."""
        now = _minute(self._clock.now())
        fitting: set[int] = set()
        async with self._uow(read_only=True) as uow:
            if not await uow.forecasts.station_exists(station_id):
                raise NotFound("no such station")
            rows = await uow.forecasts.history([station_id], now - LOOKBACK, now)
            bookings = await uow.forecasts.bookings([station_id], now, now + timedelta(minutes=61))
            if standards:
                fitting = await uow.forecasts.evses_fitting(station_id, standards)
                # The station's own rows (EVSE 0: offline and back) hold for every EVSE.
                rows = [r for r in rows if r.evse_id == 0 or r.evse_id in fitting]
        found = _forecasts(self._model, rows, bookings, now)
        if station_id in found:
            return found[station_id]
        return Forecast(
            station_id,
            now,
            tuple(HorizonForecast(h, 0.0, False) for h in HORIZONS),
            None if self._model is None else self._model.trained_at,
            "no_fitting_connector" if standards and not fitting else "no_history",
        )


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0) + timedelta(minutes=1)


def _train(
    rows: list[StateChange], bookings: list[Booking], start: datetime, end: datetime, step: int
) -> TrainedModel:
    return train(grids(rows, start, end, bookings).values(), end, step)


def _forecasts(
    model: TrainedModel | None, rows: list[StateChange], bookings: list[Booking], now: datetime
) -> dict[str, Forecast]:
    """Each station's forecast at the last minute before `now`; without a model, the last
    value (free then as now) stands in, and says so."""
    found = {}
    for station_id, grid in grids(rows, now - LOOKBACK, now, bookings).items():
        last = grid.minutes - 1
        if grid.codes[:, last].max() < 0:
            continue  # nothing known of it now
        found[station_id] = _forecast(model, grid, last, now)
    return found


def _forecast(model: TrainedModel | None, grid: Grid, last: int, now: datetime) -> Forecast:
    index = np.array([last], dtype=np.int64)
    if model is None:
        free = bool((grid.codes[:, last] == FREE).any())
        chance = 1.0 if free else 0.0
        horizons = tuple(HorizonForecast(h, chance, free) for h in HORIZONS)
        return Forecast(grid.station_id, now, horizons, None, "last_value")
    items = []
    for minutes, weights in sorted(model.horizons.items()):
        row = [float(v) for v in features_at(grid, index, minutes)[0]]
        p = weights.probability(row)
        items.append(HorizonForecast(minutes, round(p, 4), p >= weights.threshold))
    return Forecast(grid.station_id, now, tuple(items), model.trained_at, None)
