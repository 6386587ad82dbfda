"""Training on a history, and scoring on the part of it the model did not see.

`train` fits one model per horizon on every `step`-th minute of the grids. `evaluate` trains
on all but the last `test_days` and scores the model and the two baselines on those days:
the last value (free then as now) and the same hour last week (free then as it was a week
before then).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from voltbook.forecasts.features import FEATURES, Grid, samples
from voltbook.forecasts.learn import Score, fit, predict, score
from voltbook.forecasts.model import HORIZONS, TrainedModel


class NotEnoughHistory(Exception):
    """The history holds too little (under a week and an hour, or one outcome only)."""


def train(
    grids: Iterable[Grid],
    trained_at: datetime,
    step: int = 10,
    horizons: tuple[int, ...] = HORIZONS,
) -> TrainedModel:
    grids = list(grids)
    weights = {}
    rows = 0
    for horizon in horizons:
        data = samples(grids, horizon, step)
        if len(data.y) < 100 or data.y.all() or not data.y.any():
            raise NotEnoughHistory(f"{len(data.y)} rows for {horizon} min")
        weights[horizon] = fit(data.x, data.y)
        rows = max(rows, len(data.y))
    return TrainedModel(trained_at, FEATURES, weights, rows)


@dataclass(frozen=True, slots=True)
class Evaluation:
    horizon: int
    model: Score
    last_value: Score
    last_week: Score

    def as_dict(self) -> dict[str, object]:
        return {
            "horizon_min": self.horizon,
            "model": self.model.as_dict(),
            "last_value": self.last_value.as_dict(),
            "same_hour_last_week": self.last_week.as_dict(),
        }


def evaluate(
    grids: Iterable[Grid],
    trained_at: datetime,
    test_days: int = 7,
    step: int = 10,
    horizons: tuple[int, ...] = HORIZONS,
) -> tuple[TrainedModel, list[Evaluation]]:
    """Train before the last `test_days` of the grids, score on them (every 5 minutes)."""
    grids = list(grids)
    if not grids:
        raise NotEnoughHistory("no station has history")
    split = grids[0].minutes - test_days * 1440
    before = [Grid(g.station_id, g.start, g.codes[:, :split], g.booking_starts) for g in grids]
    model = train(before, trained_at, step, horizons)
    results = []
    for horizon in horizons:
        # Rows from the split on; their labels lie in the test days too.
        data = samples(grids, horizon, 5, first=split)
        weights = model.horizons[horizon]
        p = predict(weights, data.x)
        results.append(
            Evaluation(
                horizon,
                score(p, p >= weights.threshold, data.y),
                score(data.last_value.astype(np.float64), data.last_value, data.y),
                score(data.last_week.astype(np.float64), data.last_week, data.y),
            )
        )
    return model, results
