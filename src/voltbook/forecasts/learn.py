"""Fitting and scoring: an L2-regularised logistic regression by Newton's method (a few
dense solves of about 30 unknowns per horizon), and the three figures the forecasts are
judged by."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voltbook.forecasts.model import Weights

Array = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


def fit(x: Array, y: Bools, l2: float = 1.0, iterations: int = 25) -> Weights:
    """Weights for P(y | x); the decision threshold maximises MCC on the training rows."""
    if len(y) == 0 or y.all() or not y.any():
        raise ValueError("training needs rows of both outcomes")
    means = x.mean(axis=0)
    scales = x.std(axis=0)
    scales[scales < 1e-9] = 1.0
    z = np.column_stack([np.ones(len(x)), (x - means) / scales])
    target = y.astype(np.float64)
    beta = np.zeros(z.shape[1])
    penalty = l2 * np.eye(z.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(iterations):
        p = _sigmoid(z @ beta)
        gradient = z.T @ (target - p) - penalty @ beta
        hessian = (z * (p * (1 - p))[:, np.newaxis]).T @ z + penalty
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if float(np.abs(step).max()) < 1e-6:
            break
    probabilities = _sigmoid(z @ beta)
    return Weights(
        tuple(float(v) for v in beta),
        tuple(float(v) for v in means),
        tuple(float(v) for v in scales),
        best_threshold(probabilities, y),
    )


def predict(weights: Weights, x: Array) -> Array:
    coefficients = np.array(weights.coefficients)
    z = (x - np.array(weights.means)) / np.array(weights.scales)
    return _sigmoid(coefficients[0] + z @ coefficients[1:])


def _sigmoid(z: Array) -> Array:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -30, 30))), dtype=np.float64)


def best_threshold(probabilities: Array, y: Bools) -> float:
    candidates = np.linspace(0.2, 0.8, 25)
    return float(max(candidates, key=lambda t: mcc(probabilities >= t, y)))


@dataclass(frozen=True, slots=True)
class Score:
    balanced_accuracy: float
    mcc: float
    brier: float
    rows: int
    free_share: float  # how often a connector was free at the horizon

    def as_dict(self) -> dict[str, float]:
        return {
            "balanced_accuracy": round(self.balanced_accuracy, 4),
            "mcc": round(self.mcc, 4),
            "brier": round(self.brier, 4),
            "rows": self.rows,
            "free_share": round(self.free_share, 4),
        }


def score(probabilities: Array, predicted: Bools, y: Bools) -> Score:
    return Score(
        balanced_accuracy(predicted, y),
        mcc(predicted, y),
        float(np.mean((probabilities - y.astype(np.float64)) ** 2)) if len(y) else math.nan,
        len(y),
        float(y.mean()) if len(y) else math.nan,
    )


def _counts(predicted: Bools, y: Bools) -> tuple[float, float, float, float]:
    tp = float(np.sum(predicted & y))
    tn = float(np.sum(~predicted & ~y))
    fp = float(np.sum(predicted & ~y))
    fn = float(np.sum(~predicted & y))
    return tp, tn, fp, fn


def balanced_accuracy(predicted: Bools, y: Bools) -> float:
    tp, tn, fp, fn = _counts(predicted, y)
    recall = tp / (tp + fn) if tp + fn else 0.0
    specificity = tn / (tn + fp) if tn + fp else 0.0
    return (recall + specificity) / 2


def mcc(predicted: Bools, y: Bools) -> float:
    """Matthews correlation coefficient; 0 when a row or column of the table is empty."""
    tp, tn, fp, fn = _counts(predicted, y)
    denominator = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return (tp * tn - fp * fn) / denominator if denominator else 0.0
