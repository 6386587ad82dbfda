"""What a forecast is, and the trained model as plain numbers (stored, and used without any
array library: a forecast is one dot product per horizon)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

HORIZONS = (15, 30, 60)  # minutes ahead
FLAG_HORIZON = 30  # the horizon of the `likely_free` flag in search and recommendations


@dataclass(frozen=True, slots=True)
class Booking:
    """A reservation as the forecast sees it: known from `created_at`, starting at
    `starts_at`, at a station."""

    station_id: str
    created_at: datetime
    starts_at: datetime


@dataclass(frozen=True, slots=True)
class Weights:
    """One horizon's logistic regression on standardised features."""

    coefficients: tuple[float, ...]  # intercept first, then one per feature
    means: tuple[float, ...]
    scales: tuple[float, ...]
    threshold: float  # the probability from which the answer is "free"

    def probability(self, features: list[float]) -> float:
        z = self.coefficients[0]
        for x, mean, scale, weight in zip(
            features, self.means, self.scales, self.coefficients[1:], strict=True
        ):
            z += weight * (x - mean) / scale
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True, slots=True)
class TrainedModel:
    trained_at: datetime
    features: tuple[str, ...]
    horizons: dict[int, Weights]
    samples: int
    scores: dict[str, Any] = field(default_factory=dict)  # held-out figures of the training

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "samples": self.samples,
            "scores": self.scores,
            "horizons": {
                str(minutes): {
                    "coefficients": list(w.coefficients),
                    "means": list(w.means),
                    "scales": list(w.scales),
                    "threshold": w.threshold,
                }
                for minutes, w in self.horizons.items()
            },
        }

    @classmethod
    def from_json(cls, trained_at: datetime, data: dict[str, Any]) -> TrainedModel:
        return cls(
            trained_at=trained_at,
            features=tuple(data["features"]),
            samples=int(data["samples"]),
            scores=dict(data.get("scores", {})),
            horizons={
                int(minutes): Weights(
                    tuple(float(v) for v in w["coefficients"]),
                    tuple(float(v) for v in w["means"]),
                    tuple(float(v) for v in w["scales"]),
                    float(w["threshold"]),
                )
                for minutes, w in data["horizons"].items()
            },
        )


@dataclass(frozen=True, slots=True)
class HorizonForecast:
    minutes: int
    probability_free: float
    likely_free: bool


@dataclass(frozen=True, slots=True)
class Forecast:
    """A station's chance of at least one free connector ahead. `fallback` names what
    answered instead of a model ("last_value": free then as now), None when a model did."""

    station_id: str
    as_of: datetime
    horizons: tuple[HorizonForecast, ...]
    model_trained_at: datetime | None
    fallback: str | None

    @property
    def likely_free(self) -> bool:
        return next(h.likely_free for h in self.horizons if h.minutes == FLAG_HORIZON)
