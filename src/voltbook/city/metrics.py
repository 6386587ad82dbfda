"""The figures of a run (issue 17's metrics) and paired confidence intervals across runs."""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass

from voltbook.city.ledger import Ledger, Use

# Two-sided 95 % Student t quantiles for 1..30 degrees of freedom; the normal beyond.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # fmt: skip


@dataclass(frozen=True)
class Figures:
    arrivals: int
    failed_share: float  # arrivals that never plugged in
    booked_failed_share: float  # of drivers who came with a booking: not honoured (nan: none)
    search_wait_mean_min: float
    search_wait_p95_min: float
    sessions_per_charger_day: float
    kwh_per_charger_day: float
    least_quarter_sessions_per_charger_day: float
    least_quarter_kwh_per_charger_day: float
    utilisation_mean: float
    utilisation_cv: float
    share_charging: float
    share_plugged_not_charging: float
    share_reserved_empty: float
    share_faulted: float
    share_idle: float
    reserved_of_occupied: float
    server_answer_mean_min: float  # simulated time per driver spent on voltbook's answers
    refused_starts_per_arrival: float  # chargers that looked free and did not start
    unresolved_share: float  # needs still searching (or waiting on voltbook) at the end
    offered_share: float = math.nan  # drivers voltbook sent an offer (offer arms)
    accepted_share: float = math.nan  # of those, drivers who went to the offered charger
    moved_share: float = math.nan  # drivers an offer sent elsewhere than their own pick
    discount_per_charger_day: float = 0.0  # what redeemed offers took off, per charger-day

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def figures(ledger: Ledger) -> Figures:
    days = ledger.horizon_s / 86_400.0
    drivers = [o for o in ledger.outcomes if o.need_id >= 0]
    came_booked = [o for o in drivers if o.booked]
    offered = [o for o in drivers if o.offered]
    waits = [o.search_wait_s / 60.0 for o in drivers]
    sessions = dict.fromkeys(ledger.chargers, 0)
    kwh = dict.fromkeys(ledger.chargers, 0.0)
    for o in drivers:
        if o.charged and o.charger is not None:
            sessions[o.charger] += 1
            kwh[o.charger] += o.kwh
    used = dict.fromkeys(ledger.chargers, 0.0)
    totals = dict.fromkeys(Use, 0.0)
    for charger, use, start, end in ledger.spans:
        totals[use] += end - start
        if use in (Use.CHARGING, Use.PLUGGED):
            used[charger] += end - start
    n = max(1, len(ledger.chargers))
    capacity = n * ledger.horizon_s
    least = sorted(ledger.chargers, key=lambda c: (sessions[c], kwh[c]))[: max(1, n // 4)]
    utilisation = [used[c] / ledger.horizon_s for c in ledger.chargers]
    mean_u = statistics.fmean(utilisation) if utilisation else 0.0
    spread = statistics.pstdev(utilisation) / mean_u if mean_u > 0 else math.nan
    occupied = totals[Use.CHARGING] + totals[Use.PLUGGED] + totals[Use.RESERVED]
    shares = {use: totals[use] / capacity for use in Use}
    return Figures(
        arrivals=len(drivers),
        failed_share=_share(sum(not o.charged for o in drivers), len(drivers)),
        booked_failed_share=_share(sum(not o.honoured for o in came_booked), len(came_booked)),
        search_wait_mean_min=statistics.fmean(waits) if waits else math.nan,
        search_wait_p95_min=percentile(waits, 0.95),
        sessions_per_charger_day=sum(sessions.values()) / n / days,
        kwh_per_charger_day=sum(kwh.values()) / n / days,
        least_quarter_sessions_per_charger_day=sum(sessions[c] for c in least) / len(least) / days,
        least_quarter_kwh_per_charger_day=sum(kwh[c] for c in least) / len(least) / days,
        utilisation_mean=mean_u,
        utilisation_cv=spread,
        share_charging=shares[Use.CHARGING],
        share_plugged_not_charging=shares[Use.PLUGGED],
        share_reserved_empty=shares[Use.RESERVED],
        share_faulted=shares[Use.FAULTED],
        share_idle=max(0.0, 1.0 - sum(shares.values())),
        reserved_of_occupied=_share(totals[Use.RESERVED], occupied),
        server_answer_mean_min=statistics.fmean(o.server_s / 60 for o in drivers)
        if drivers
        else math.nan,
        refused_starts_per_arrival=_share(sum(o.refused_starts for o in drivers), len(drivers)),
        unresolved_share=_share(ledger.started - len(drivers), ledger.started),
        offered_share=_share(len(offered), len(drivers)) if ledger.arm.offers else math.nan,
        accepted_share=_share(sum(o.accepted for o in offered), len(offered)),
        moved_share=_share(sum(o.moved for o in drivers), len(drivers))
        if ledger.arm.offers
        else math.nan,
        discount_per_charger_day=sum(o.discount for o in drivers) / n / days,
    )


def _share(part: float, whole: float) -> float:
    return part / whole if whole else math.nan


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    runs: int

    def __str__(self) -> str:
        return f"{self.mean:+.3g} [{self.low:+.3g}, {self.high:+.3g}] (n={self.runs})"


def paired(treated: list[float], baseline: list[float]) -> Interval:
    """Mean of the paired differences (treated - baseline, same seeds) with its 95 % CI."""
    pairs = [(t, b) for t, b in zip(treated, baseline, strict=True) if not (
        math.isnan(t) or math.isnan(b))]  # fmt: skip
    return mean_interval([t - b for t, b in pairs])


def mean_interval(values: list[float]) -> Interval:
    n = len(values)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = statistics.fmean(values)
    if n == 1:
        return Interval(mean, math.nan, math.nan, 1)
    t = _T95[n - 2] if n - 1 <= len(_T95) else 1.96
    half = t * statistics.stdev(values) / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)
