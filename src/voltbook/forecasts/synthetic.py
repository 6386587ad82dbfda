"""A synthetic network's status history and bookings, in voltbook's own states, for scoring
the forecasts where no real history is at hand (docs/forecasts.md states every parameter).

Each station has 1-6 connectors (AC or DC), a kind of place (work, home, shop: when people
come) and a popularity (its mean share of connectors occupied). Drivers arrive as a Poisson
process following the place's hour-of-week profile, scaled per station and per day; one who
finds no free connector leaves. A session is plugged (Preparing) for a minute, charges for a
log-normal time, and stays plugged without charging for a while in some sessions. Some
arrivals were booked ahead: the connector is held (Reserved) from shortly before the slot
until the driver comes, or until the grace period ends when they do not. Connectors fault
and get repaired; stations go offline for a while.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from voltbook.forecasts.model import Booking
from voltbook.stations.states import ChargerState, StateChange


@dataclass(frozen=True, slots=True)
class Parameters:
    stations: int = 120
    weeks: int = 4
    seed: int = 17
    connectors: tuple[int, ...] = (1, 1, 2, 2, 2, 2, 4, 4, 6)  # drawn uniformly
    dc_share: float = 0.3
    occupancy_median: float = 0.25  # a station's mean share of connectors occupied ...
    occupancy_sigma: float = 0.7  # ... log-normal across stations, clipped to 3-85 %
    day_sigma: float = 0.25  # day-to-day variation of demand (log-normal)
    ac_session_median_min: float = 120.0
    ac_session_sigma: float = 0.6
    dc_session_median_min: float = 35.0
    dc_session_sigma: float = 0.4
    idle_tail_share: float = 0.3  # sessions that stay plugged after charging ...
    ac_idle_tail_mean_min: float = 45.0  # ... for an exponential time
    dc_idle_tail_mean_min: float = 8.0
    booked_share: float = 0.15  # arrivals booked ahead ...
    lead_min: tuple[int, int] = (15, 120)  # ... this long before (uniform)
    hold_before_min: int = 10  # the charger is told to hold it this long before the slot
    no_show_share: float = 0.1
    grace_min: int = 15
    arrival_spread_min: tuple[int, int] = (-5, 10)  # when a booked driver comes
    faults_per_connector_day: float = 1 / 20
    repair_median_h: float = 4.0
    offline_per_station_day: float = 1 / 30
    offline_median_min: float = 30.0


# Relative arrival rate by hour of day: (weekday, weekend) per kind of place.
_PROFILES = {
    "work": (
        [0.1] * 6 + [0.5, 1.8, 2.2, 1.4, 1.0, 1.0, 1.2, 1.0, 0.8, 0.6, 0.5, 0.3] + [0.1] * 6,
        [0.1] * 8 + [0.3] * 10 + [0.1] * 6,
    ),
    "home": (
        [0.3] * 6
        + [0.3, 0.4, 0.4, 0.4, 0.4, 0.5, 0.5, 0.5, 0.6, 0.8, 1.2, 1.8, 2.2, 2.0]
        + [1.4, 1.0, 0.6, 0.4],
        [0.3] * 8
        + [0.6, 0.8, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.2, 1.5, 1.8, 1.6, 1.2, 0.9]
        + [0.6, 0.4],
    ),
    "shop": (
        [0.05] * 7
        + [0.3, 0.6, 1.0, 1.3, 1.6, 1.8, 1.6, 1.4, 1.5, 1.8, 1.9, 1.6, 1.0, 0.5]
        + [0.2, 0.1, 0.05],
        [0.05] * 8
        + [0.6, 1.2, 1.8, 2.2, 2.2, 2.0, 1.8, 1.6, 1.2, 0.8, 0.4, 0.2]
        + [0.1, 0.05, 0.05, 0.05],
    ),
}

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday


@dataclass(frozen=True, slots=True)
class History:
    rows: list[StateChange]
    bookings: list[Booking]
    start: datetime
    end: datetime


def generate(p: Parameters = Parameters()) -> History:
    rng = np.random.default_rng(p.seed)
    minutes = p.weeks * 7 * 24 * 60
    rows: list[StateChange] = []
    bookings: list[Booking] = []
    for number in range(p.stations):
        station_rows, station_bookings = _station(f"SYN-{number:04d}", p, rng, minutes)
        rows.extend(station_rows)
        bookings.extend(station_bookings)
    rows.sort(key=lambda r: (r.at, r.station_id, r.evse_id))
    return History(rows, bookings, START, START + timedelta(minutes=minutes))


def _station(
    station_id: str, p: Parameters, rng: np.random.Generator, minutes: int
) -> tuple[list[StateChange], list[Booking]]:
    n = int(rng.choice(p.connectors))
    dc = bool(rng.random() < p.dc_share)
    kind = str(rng.choice(list(_PROFILES)))
    occupancy = float(np.clip(rng.lognormal(np.log(p.occupancy_median), p.occupancy_sigma),
                              0.03, 0.85))  # fmt: skip
    median, sigma = (
        (p.dc_session_median_min, p.dc_session_sigma)
        if dc
        else (p.ac_session_median_min, p.ac_session_sigma)
    )
    tail_mean = p.dc_idle_tail_mean_min if dc else p.ac_idle_tail_mean_min
    mean_stay = 1 + median * np.exp(sigma**2 / 2) + p.idle_tail_share * tail_mean
    events, bookings = _demand(station_id, p, rng, minutes, kind, occupancy * n / mean_stay, n)
    timelines: list[list[tuple[int, ChargerState]]] = [
        [(0, ChargerState.AVAILABLE)] for _ in range(n)
    ]
    free_at = [0] * n
    for at, _, what in sorted(events):
        if what.startswith("fault:"):
            c = int(what.split(":")[1])
            begin = max(at, free_at[c])
            repair = int(rng.lognormal(np.log(p.repair_median_h * 60), 0.8)) + 1
            free_at[c] = _occupy(timelines[c], begin, [(ChargerState.FAULTED, repair)])
            continue
        free = [c for c in range(n) if free_at[c] <= at]
        if not free:
            continue  # the driver leaves (a booking finds no charger to hold: the same)
        c = free[0]
        charge = int(rng.lognormal(np.log(median), sigma)) + 1
        tail = int(rng.exponential(tail_mean)) if rng.random() < p.idle_tail_share else 0
        stay: list[tuple[ChargerState, int]] = []
        if what == "booked":
            if rng.random() < p.no_show_share:
                stay = [(ChargerState.RESERVED, p.hold_before_min + p.grace_min)]
            else:
                come = int(rng.integers(p.arrival_spread_min[0], p.arrival_spread_min[1] + 1))
                stay = [(ChargerState.RESERVED, max(1, p.hold_before_min + come))]
        stay += [(ChargerState.PLUGGED_NOT_CHARGING, 1), (ChargerState.CHARGING, charge)]
        if tail:
            stay.append((ChargerState.PLUGGED_NOT_CHARGING, tail))
        free_at[c] = _occupy(timelines[c], at, stay)
    rows = [
        StateChange(station_id, c + 1, 1, state, _at(at), None)
        for c, timeline in enumerate(timelines)
        for at, state in timeline
        if at < minutes
    ]
    rows.append(StateChange(station_id, 0, None, ChargerState.AVAILABLE, _at(0), "Online"))
    for at in (
        int(m) for m in np.flatnonzero(rng.random(minutes) < p.offline_per_station_day / 1440)
    ):
        away = int(rng.lognormal(np.log(p.offline_median_min), 0.8)) + 1
        rows.append(StateChange(station_id, 0, None, ChargerState.OFFLINE, _at(at)))
        if at + away < minutes:
            rows.append(StateChange(station_id, 0, None, ChargerState.AVAILABLE, _at(at + away)))
    return rows, bookings


def _demand(
    station_id: str,
    p: Parameters,
    rng: np.random.Generator,
    minutes: int,
    kind: str,
    per_minute_mean: float,
    n: int,
) -> tuple[list[tuple[int, int, str]], list[Booking]]:
    """Arrivals (walk-in or booked) and faults, as (minute, order, kind), and the bookings."""
    weekday, weekend = (np.array(v) for v in _PROFILES[kind])
    hour_of_week = np.concatenate([np.tile(weekday, 5), np.tile(weekend, 2)])
    per_minute = np.repeat(np.tile(hour_of_week, minutes // (7 * 24 * 60)), 60)
    per_minute = per_minute / per_minute.mean()
    daily = np.repeat(rng.lognormal(0.0, p.day_sigma, minutes // 1440 + 1), 1440)[:minutes]
    rate = per_minute * daily * per_minute_mean  # arrivals per minute
    arrivals = np.flatnonzero(rng.random(minutes) < np.minimum(rate, 0.9))
    events: list[tuple[int, int, str]] = []  # (minute, order, kind)
    bookings: list[Booking] = []
    for at in (int(m) for m in arrivals):
        if rng.random() < p.booked_share and at > p.hold_before_min:
            lead = int(rng.integers(p.lead_min[0], p.lead_min[1] + 1))
            bookings.append(Booking(station_id, _at(at - lead), _at(at)))
            events.append((int(at) - p.hold_before_min, 1, "booked"))
        else:
            events.append((int(at), 1, "walk_in"))
    for connector in range(n):
        faults = np.flatnonzero(rng.random(minutes) < p.faults_per_connector_day / 1440)
        events.extend((int(at), 0, f"fault:{connector}") for at in faults)
    return events, bookings


def _occupy(
    timeline: list[tuple[int, ChargerState]], at: int, stay: list[tuple[ChargerState, int]]
) -> int:
    """Put `stay` on a connector from `at` (when it is free, or becomes free): the
    connector's last entry is its AVAILABLE from then on, replaced when that is `at`."""
    if timeline[-1][0] >= at:
        at = timeline[-1][0]
        timeline.pop()
    for state, length in stay:
        timeline.append((at, state))
        at += length
    timeline.append((at, ChargerState.AVAILABLE))
    return at


def _at(minute: int) -> datetime:
    return START + timedelta(minutes=int(minute))
