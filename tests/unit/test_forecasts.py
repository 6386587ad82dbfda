"""Availability forecasts: features read from a connector's history, the model learns what
the history shows, the figures it is judged by, and the service on in-memory storage."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tests.unit.fakes import FakeClock
from tests.unit.memory_uow import MemoryStore, MemoryUnitOfWork
from voltbook.core.errors import NotFound
from voltbook.forecasts import synthetic
from voltbook.forecasts.features import FEATURES, LOOKBACK, WEEK_MIN, features_at, grids
from voltbook.forecasts.learn import balanced_accuracy, fit, mcc, predict, score
from voltbook.forecasts.model import Booking, TrainedModel
from voltbook.forecasts.service import ForecastService
from voltbook.forecasts.training import NotEnoughHistory, evaluate, train
from voltbook.stations.states import ChargerState, StateChange

T0 = datetime(2026, 1, 5, tzinfo=UTC)
MIN = timedelta(minutes=1)


def change(station: str, at: timedelta, state: ChargerState, evse: int = 1) -> StateChange:
    return StateChange(station, evse, 1, state, T0 + at)


def column(name: str, row: np.ndarray) -> float:
    return float(row[FEATURES.index(name)])


def test_features_read_the_connectors_now_a_week_ago_and_the_bookings_ahead() -> None:
    now = WEEK_MIN + 120  # minutes after T0
    rows = [
        change("S", timedelta(0), ChargerState.AVAILABLE),
        change("S", timedelta(0), ChargerState.AVAILABLE, evse=2),
        # A week before "now + 30 min" both were busy; now one charges since 45 minutes.
        change("S", (now + 30 - WEEK_MIN - 60) * MIN, ChargerState.CHARGING),
        change("S", (now + 30 - WEEK_MIN - 60) * MIN, ChargerState.CHARGING, evse=2),
        change("S", (now + 30 - WEEK_MIN + 60) * MIN, ChargerState.AVAILABLE),
        change("S", (now + 30 - WEEK_MIN + 60) * MIN, ChargerState.AVAILABLE, evse=2),
        change("S", (now - 45) * MIN, ChargerState.CHARGING),
    ]
    bookings = [
        Booking("S", T0 + (now - 10) * MIN, T0 + (now + 20) * MIN),  # known, within 30 min
        Booking("S", T0 + (now - 10) * MIN, T0 + (now + 50) * MIN),  # beyond 30 min
        Booking("S", T0 + (now + 5) * MIN, T0 + (now + 25) * MIN),  # not known yet
    ]
    (grid,) = grids(rows, T0, T0 + (now + 1) * MIN, bookings).values()
    row = features_at(grid, np.array([now]), 30)[0]

    assert column("free_now", row) == 1.0
    assert column("share_free", row) == 0.5
    assert column("share_charging", row) == 0.5
    assert column("longest_session_h", row) == pytest.approx(0.75)
    assert column("week_free", row) == 0.0
    assert column("booked_per_connector", row) == 0.5
    assert column("log_connectors", row) == pytest.approx(np.log(2))


def test_an_offline_station_has_no_free_connector() -> None:
    rows = [
        change("S", timedelta(0), ChargerState.AVAILABLE),
        StateChange("S", 0, None, ChargerState.OFFLINE, T0 + 10 * MIN),
    ]
    (grid,) = grids(rows, T0, T0 + 20 * MIN).values()
    assert grid.codes[0, 5] == list(ChargerState).index(ChargerState.AVAILABLE)
    assert grid.codes[0, 15] == list(ChargerState).index(ChargerState.OFFLINE)


def test_the_figures_on_a_known_table() -> None:
    truth = np.array([True, True, True, False, False, False])
    guess = np.array([True, True, False, False, False, True])
    assert balanced_accuracy(guess, truth) == pytest.approx((2 / 3 + 2 / 3) / 2)
    assert mcc(guess, truth) == pytest.approx((2 * 2 - 1 * 1) / 9)
    assert mcc(truth, truth) == 1.0
    assert mcc(np.ones(6, dtype=bool), truth) == 0.0  # one column empty
    perfect = score(truth.astype(float), truth, truth)
    assert (perfect.brier, perfect.balanced_accuracy) == (0.0, 1.0)


def test_the_fit_learns_a_signal_and_the_stored_weights_answer_alike() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4000, 3))
    y = rng.random(4000) < 1 / (1 + np.exp(-(2 * x[:, 0] - x[:, 1])))
    weights = fit(x, y)
    assert weights.coefficients[1] > 1.0
    assert weights.coefficients[2] < 0
    assert abs(weights.coefficients[3]) < 0.2  # noise
    p = predict(weights, x[:5])
    assert [weights.probability(list(r)) for r in x[:5]] == pytest.approx(list(p))
    model = TrainedModel(T0, ("a", "b", "c"), {30: weights}, 4000)
    assert TrainedModel.from_json(T0, model.to_json()) == model


def test_one_outcome_only_is_not_enough_to_learn_from() -> None:
    with pytest.raises(ValueError, match="both outcomes"):
        fit(np.zeros((10, 2)), np.ones(10, dtype=bool))


def test_the_synthetic_network_speaks_the_status_states_and_moves_through_them() -> None:
    history = synthetic.generate(synthetic.Parameters(stations=4, weeks=1, seed=5))
    states = {r.state for r in history.rows if r.evse_id > 0}
    assert {ChargerState.AVAILABLE, ChargerState.CHARGING} <= states
    assert states <= set(ChargerState)
    assert all(b.created_at < b.starts_at for b in history.bookings)
    assert [r.at for r in history.rows] == sorted(r.at for r in history.rows)


def test_the_model_beats_the_same_hour_last_week_on_held_out_days() -> None:
    history = synthetic.generate(synthetic.Parameters(stations=12, weeks=3, seed=7))
    found = grids(history.rows, history.start, history.end, history.bookings)
    _, results = evaluate(found.values(), T0, test_days=3, step=20, horizons=(30,))
    (thirty,) = results
    assert thirty.model.mcc > thirty.last_week.mcc
    assert thirty.model.brier < thirty.last_value.brier


def test_under_a_week_of_history_is_not_enough() -> None:
    history = synthetic.generate(synthetic.Parameters(stations=2, weeks=1, seed=5))
    found = grids(history.rows, history.start, history.end, history.bookings)
    with pytest.raises(NotEnoughHistory):
        train(found.values(), T0)


@dataclass
class ForecastData:
    rows: list[StateChange]
    booked: list[Booking] = field(default_factory=list)
    sites: dict[str, int | None] = field(default_factory=dict)
    models: list[TrainedModel] = field(default_factory=list)


class ForecastStore(MemoryStore[ForecastData]):
    def copy_state(self, state: ForecastData) -> ForecastData:
        # History and bookings are read only here; the models are what a write changes.
        return dataclasses.replace(state, models=list(state.models))

    def uow(self, *, read_only: bool = False) -> ForecastUow:
        return ForecastUow(self, read_only=read_only)


class ForecastUow(MemoryUnitOfWork[ForecastData]):
    def open_repositories(self) -> None:
        self.forecasts = MemoryForecasts(self)


class MemoryForecasts:
    def __init__(self, uow: ForecastUow) -> None:
        self._uow = uow

    @property
    def _data(self) -> ForecastData:
        return self._uow.state

    async def history(
        self, station_ids: list[str] | None, start: datetime, end: datetime
    ) -> list[StateChange]:
        mine = [r for r in self._data.rows if station_ids is None or r.station_id in station_ids]
        before: dict[tuple[str, int, int | None], StateChange] = {}
        for r in mine:
            if r.at <= start:
                before[r.station_id, r.evse_id, r.connector_id] = r
        inside = [r for r in mine if start < r.at < end]
        return sorted([*before.values(), *inside], key=lambda r: r.at)

    async def bookings(
        self, station_ids: list[str] | None, start: datetime, end: datetime
    ) -> list[Booking]:
        return [b for b in self._data.booked if start <= b.starts_at < end]

    async def sites_of(self, station_ids: list[str]) -> dict[str, int | None]:
        return {s: self._data.sites.get(s) for s in station_ids}

    async def station_exists(self, station_id: str) -> bool:
        return any(r.station_id == station_id for r in self._data.rows)

    async def evses_fitting(self, station_id: str, standards: frozenset[str]) -> set[int]:
        return (
            {r.evse_id for r in self._data.rows if r.station_id == station_id and r.evse_id > 0}
            if "IEC_62196_T2" in standards
            else set()
        )

    async def latest(self) -> TrainedModel | None:
        models = self._data.models
        return models[-1] if models else None

    async def save(self, model: TrainedModel, keep: int) -> None:
        data = self._uow.writable("save")
        data.models = [*data.models, model][-keep:]


@pytest.fixture(scope="module")
def network() -> synthetic.History:
    return synthetic.generate(synthetic.Parameters(stations=6, weeks=2, seed=11))


def service_on(history: synthetic.History, sites: dict[str, int | None]) -> ForecastService:
    store = ForecastStore(ForecastData(history.rows, history.bookings, sites))
    return ForecastService(store.uow, FakeClock(history.end), train_days=14, step_min=20)


async def test_before_any_training_the_last_value_stands_in(network: synthetic.History) -> None:
    forecasts = service_on(network, {})
    forecast = await forecasts.forecast("SYN-0000")
    assert (forecast.fallback, forecast.model_trained_at) == ("last_value", None)
    free_now = forecast.horizons[0].likely_free
    assert [h.probability_free for h in forecast.horizons] == [float(free_now)] * 3


async def test_trained_forecasts_fill_the_likely_free_flags_by_site(
    network: synthetic.History,
) -> None:
    forecasts = service_on(network, {"SYN-0000": 7, "SYN-0001": 7, "SYN-0002": 8})
    model = await forecasts.train()
    assert model is not None
    assert await forecasts.train() is model  # young enough: not trained again
    assert await forecasts.refresh() == 6
    flags = [forecasts.likely_free(f"SYN-{n:04d}") for n in range(3)]
    assert forecasts.likely_free_sites == {7: flags[0] or flags[1], 8: flags[2]}
    one = await forecasts.forecast("SYN-0002")
    assert one.fallback is None
    assert one.likely_free == flags[2]
    assert one.as_of - network.end < timedelta(minutes=2)
    assert timedelta(days=7) < LOOKBACK


async def test_a_forecast_for_one_standard_reads_only_the_evses_that_have_it(
    network: synthetic.History,
) -> None:
    forecasts = service_on(network, {})
    every = await forecasts.forecast("SYN-0003")
    fitting = await forecasts.forecast("SYN-0003", frozenset({"IEC_62196_T2"}))
    assert fitting.horizons == every.horizons  # every EVSE of the fake has a Type 2 plug
    none = await forecasts.forecast("SYN-0003", frozenset({"CHADEMO"}))
    assert none.fallback == "no_fitting_connector"
    assert [h.probability_free for h in none.horizons] == [0.0, 0.0, 0.0]


async def test_a_station_nobody_knows_has_no_forecast(network: synthetic.History) -> None:
    with pytest.raises(NotFound):
        await service_on(network, {}).forecast("NOPE")
