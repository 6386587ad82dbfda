"""How a driver weighs an offer: a binary logit in the discount, the detour and the wait the
offer saves. The discount's weight comes from the price elasticity in the parameter file."""

from __future__ import annotations

import math

from voltbook.city.params import Parameters


def logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def discount_weight(params: Parameters) -> float:
    """The logit's weight on the discount (as a fraction of the price) that gives acceptance
    the parameter file's price elasticity at the offered discount, with no detour and no
    wait: for P = logistic(a + b·d) at price 1 - d, the elasticity is b·(1 - P)·(1 - d)."""
    elasticity = params.num("offers.elasticity")
    d = params.num("offers.discount_percent") / 100.0
    base = params.num("offers.acceptance_base")
    weight = elasticity
    for _ in range(100):  # a contraction for any elasticity the sweep uses
        weight = elasticity / ((1.0 - logistic(base + weight * d)) * (1.0 - d))
    return weight


class Acceptance:
    """P(accept) = logistic(base + b·discount - detour_per_km·detour + wait_per_min·saved)."""

    def __init__(self, params: Parameters) -> None:
        self.base = params.num("offers.acceptance_base")
        self.discount = params.num("offers.discount_percent") / 100.0
        self.weight = discount_weight(params)
        self.per_km = params.num("offers.detour_per_km")
        self.per_min = params.num("offers.wait_per_min")

    def probability(self, percent_off: float, detour_km: float, wait_saved_min: float) -> float:
        utility = (self.base + self.weight * percent_off / 100.0
                   - self.per_km * max(0.0, detour_km) + self.per_min * wait_saved_min)  # fmt: skip
        return logistic(utility)
