"""From status history to features, on a grid of minutes.

A station's connectors become a matrix of state codes, one row per connector and one column
per minute (the state at the start of the minute; -1 unknown), built from the same spans as
utilisation (`stations.history.connector_spans`: a station's offline times laid over its
connectors). Training and serving read the same features from it: training at every
`step`-th minute of a long grid, serving at the last minute of a grid that ends now.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from voltbook.forecasts.model import Booking
from voltbook.stations.history import connector_spans
from voltbook.stations.states import ChargerState, StateChange

WEEK_MIN = 7 * 24 * 60
RECENT_MIN = 60  # the "recent share free" window
CAP_H = 6.0  # times in state are capped at this many hours
# What serving needs behind "now": a week for the same hour last week, and a margin.
LOOKBACK = timedelta(minutes=WEEK_MIN + 2 * RECENT_MIN)

_CODE = {state: code for code, state in enumerate(ChargerState)}
FREE = _CODE[ChargerState.AVAILABLE]
CHARGING = _CODE[ChargerState.CHARGING]
PLUGGED = _CODE[ChargerState.PLUGGED_NOT_CHARGING]
RESERVED = _CODE[ChargerState.RESERVED]
DOWN = (_CODE[ChargerState.FAULTED], _CODE[ChargerState.UNAVAILABLE], _CODE[ChargerState.OFFLINE])

FEATURES = (
    "free_now",
    "share_free",
    "share_charging",
    "share_plugged",
    "share_reserved",
    "share_down",
    "free_for_h",
    "busy_for_h",
    "longest_session_h",
    "recent_free",
    "recent_share_free",
    "week_free",
    "week_share_free",
    "booked_per_connector",
    "booked_all_free",
    "hour_sin",
    "hour_cos",
    "hour2_sin",
    "hour2_cos",
    "weekend",
    "log_connectors",
    "free_now_x_booked",
    "busy_x_longest_session",
    "charging_0_30",
    "charging_30_90",
    "charging_90_180",
    "charging_180_up",
    "plugged_0_30",
    "plugged_30_up",
    "typical_stay_h",
    "days_free",
    "due_share",
    "overdue_share",
)

Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Grid:
    """One station's connectors, minute by minute from `start`."""

    station_id: str
    start: datetime
    codes: npt.NDArray[np.int8]  # (connectors, minutes)
    booking_starts: tuple[tuple[int, int], ...] = ()  # (known from, starts) as minute indices

    @property
    def minutes(self) -> int:
        return int(self.codes.shape[1])


def grids(
    rows: list[StateChange], start: datetime, end: datetime, bookings: Iterable[Booking] = ()
) -> dict[str, Grid]:
    """Each station's grid over [start, end) from its history rows (in time order, with each
    connector's and station's last row before `start`, as the repository gives them)."""
    minutes = int((end - start).total_seconds() // 60)
    by_station: dict[str, list[npt.NDArray[np.int8]]] = defaultdict(list)
    for (station_id, _, _), spans in sorted(
        connector_spans(rows, start, end).items(), key=lambda item: _key(item[0])
    ):
        codes = np.full(minutes, -1, dtype=np.int8)
        for span in spans:
            first = _minute(span.start, start)
            last = min(minutes, _minute(span.end, start))
            codes[first:last] = _CODE[span.state]
        by_station[station_id].append(codes)
    booked: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for booking in bookings:
        at = _minute(booking.starts_at, start)
        if 0 < at <= minutes + 60:
            booked[booking.station_id].append((_minute(booking.created_at, start), at))
    return {
        station_id: Grid(station_id, start, np.vstack(rows_), tuple(sorted(booked[station_id])))
        for station_id, rows_ in by_station.items()
    }


def _key(key: tuple[str, int, int | None]) -> tuple[str, int, int]:
    return key[0], key[1], key[2] or 0


def _minute(at: datetime, start: datetime) -> int:
    return math.ceil((at - start).total_seconds() / 60)


@dataclass(frozen=True, slots=True)
class Samples:
    """Features (rows), whether a connector was free `horizon` minutes later, and the two
    baselines' guesses: the last value and the same hour last week."""

    x: Array
    y: npt.NDArray[np.bool_]
    last_value: npt.NDArray[np.bool_]
    last_week: npt.NDArray[np.bool_]
    stations: tuple[str, ...]  # the station of each row


def features_at(grid: Grid, index: npt.NDArray[np.int64], horizon: int) -> Array:
    """The feature rows of `grid` at these minute indices (each ≥ a week + an hour) for a
    forecast `horizon` minutes ahead."""
    codes = grid.codes
    known = codes >= 0
    n_known = np.maximum(known.sum(axis=0), 1)
    free = (codes == FREE).sum(axis=0)
    share = free / n_known
    free_now = (free > 0).astype(np.float64)
    busy_codes = (codes == CHARGING) | (codes == PLUGGED)
    run_connector = _run_lengths(codes)  # minutes each connector has been in its state
    longest = np.where(busy_codes, run_connector, 0).max(axis=0) / 60.0
    run_station = _run_lengths(free_now[np.newaxis, :].astype(np.int8))[0] / 60.0
    recent_free = _trailing_mean(free_now, RECENT_MIN)
    recent_share = _trailing_mean(share, RECENT_MIN)
    week = index + horizon - WEEK_MIN
    week_share = _centred_mean(free_now, week, 30)
    booked = _booked(grid, index, horizon)
    n = codes.shape[0]
    hours = np.array([(grid.start + timedelta(minutes=int(i))).timestamp() / 3600.0 for i in index])
    day_angle = 2 * np.pi * (hours % 24) / 24
    weekday = ((hours // 24) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    f = free_now[index]
    longest_i = np.minimum(longest[index], CAP_H)
    run_i = np.minimum(run_station[index], CAP_H)
    booked_n = booked / n
    typical = _typical_stay_h(codes, index)
    columns = [
        f,
        share[index],
        ((codes == CHARGING).sum(axis=0) / n_known)[index],
        ((codes == PLUGGED).sum(axis=0) / n_known)[index],
        ((codes == RESERVED).sum(axis=0) / n_known)[index],
        (np.isin(codes, DOWN).sum(axis=0) / n_known)[index],
        run_i * f,
        run_i * (1 - f),
        longest_i,
        recent_free[index],
        recent_share[index],
        free_now[week],
        week_share,
        booked_n,
        (booked >= free[index]).astype(np.float64) * (booked > 0),
        np.sin(day_angle),
        np.cos(day_angle),
        np.sin(2 * day_angle),
        np.cos(2 * day_angle),
        (weekday >= 5).astype(np.float64),
        np.full(len(index), math.log(n)),
        f * booked_n,
        (1 - f) * longest_i,
        *_elapsed(codes == CHARGING, run_connector, index, n, (0, 30, 90, 180, 10**9)),
        *_elapsed(codes == PLUGGED, run_connector, index, n, (0, 30, 10**9)),
        typical,
        np.mean([free_now[index + horizon - day * 1440] for day in range(1, 8)], axis=0),
        *_due(busy_codes[:, index], run_connector[:, index], typical, horizon, n),
    ]
    return np.column_stack(columns).astype(np.float64)


def samples(grids_: Iterable[Grid], horizon: int, step: int, first: int = 0) -> Samples:
    """Training or scoring rows every `step` minutes from `first` (at least a week and an
    hour into each grid), where the label is known."""
    xs, ys, lasts, weeks, stations = [], [], [], [], []
    for grid in grids_:
        start = max(first, WEEK_MIN + RECENT_MIN)
        index = np.arange(start, grid.minutes - horizon, step, dtype=np.int64)
        if len(index) == 0:
            continue
        known: npt.NDArray[np.bool_] = np.asarray((grid.codes >= 0).any(axis=0))
        free_now: npt.NDArray[np.bool_] = np.asarray((grid.codes == FREE).any(axis=0))
        week = index + horizon - WEEK_MIN
        keep = known[index] & known[index + horizon] & known[week]
        index = index[keep]
        if len(index) == 0:
            continue
        xs.append(features_at(grid, index, horizon))
        ys.append(free_now[index + horizon])
        lasts.append(free_now[index])
        weeks.append(free_now[week])
        stations.extend([grid.station_id] * len(index))
    if not xs:
        empty = np.zeros(0, dtype=np.bool_)
        return Samples(np.zeros((0, len(FEATURES))), empty, empty, empty, ())
    return Samples(
        np.vstack(xs),
        np.concatenate(ys),
        np.concatenate(lasts),
        np.concatenate(weeks),
        tuple(stations),
    )


def _run_lengths(codes: npt.NDArray[np.int8]) -> npt.NDArray[np.int64]:
    """Per row and minute, the minutes since the row's value last changed."""
    minutes = codes.shape[1]
    positions = np.broadcast_to(np.arange(minutes), codes.shape)
    changed = np.ones(codes.shape, dtype=np.bool_)
    changed[:, 1:] = codes[:, 1:] != codes[:, :-1]
    last_change = np.maximum.accumulate(np.where(changed, positions, 0), axis=1)
    return np.asarray(positions - last_change, dtype=np.int64)


def _elapsed(
    state: npt.NDArray[np.bool_],
    run: npt.NDArray[np.int64],
    index: npt.NDArray[np.int64],
    n: int,
    edges: tuple[int, ...],
) -> list[Array]:
    """Per bin of minutes in state, the share of connectors in `state` that long."""
    at_state, at_run = state[:, index], run[:, index]
    return [
        ((at_state & (at_run >= low) & (at_run < high)).sum(axis=0) / n).astype(np.float64)
        for low, high in itertools.pairwise(edges)
    ]


def _due(
    busy: npt.NDArray[np.bool_],
    run: npt.NDArray[np.int64],
    typical_h: Array,
    horizon: int,
    n: int,
) -> list[Array]:
    """Shares of connectors whose stay reaches the station's typical one within the
    horizon, and of those already past it."""
    typical = np.maximum(typical_h, 1 / 60) * 60
    due = busy & (run + horizon >= typical) & (run < typical)
    overdue = busy & (run >= typical)
    return [(due.sum(axis=0) / n).astype(np.float64), (overdue.sum(axis=0) / n).astype(np.float64)]


def _typical_stay_h(codes: npt.NDArray[np.int8], index: npt.NDArray[np.int64]) -> Array:
    """Hours a connector stayed taken per arrival over the week before each minute."""
    taken = (codes == CHARGING) | (codes == PLUGGED) | (codes == RESERVED)
    arrivals = np.zeros(taken.shape, dtype=np.bool_)
    arrivals[:, 1:] = taken[:, 1:] & ~taken[:, :-1]
    minutes = np.concatenate([[0], np.cumsum(taken.sum(axis=0))])
    starts = np.concatenate([[0], np.cumsum(arrivals.sum(axis=0))])
    low = np.maximum(index - WEEK_MIN, 0)
    busy = minutes[index] - minutes[low]
    count = starts[index] - starts[low]
    return np.asarray(np.minimum(busy / np.maximum(count, 1) / 60.0, CAP_H), dtype=np.float64)


def _trailing_mean(values: Array, window: int) -> Array:
    """Mean of the `window` minutes before each minute (fewer at the start)."""
    total = np.concatenate([[0.0], np.cumsum(values)])
    ends = np.arange(len(values))
    starts = np.maximum(ends - window, 0)
    counts = np.maximum(ends - starts, 1)
    return np.asarray((total[ends] - total[starts]) / counts, dtype=np.float64)


def _centred_mean(values: Array, index: npt.NDArray[np.int64], half: int) -> Array:
    total = np.concatenate([[0.0], np.cumsum(values)])
    low = np.clip(index - half, 0, len(values))
    high = np.clip(index + half + 1, 0, len(values))
    return np.asarray((total[high] - total[low]) / np.maximum(high - low, 1), dtype=np.float64)


def _booked(grid: Grid, index: npt.NDArray[np.int64], horizon: int) -> Array:
    """Bookings known at each minute that start within the next `horizon` minutes."""
    count = np.zeros(grid.minutes + 1, dtype=np.float64)
    for known_from, starts in grid.booking_starts:
        low = max(known_from, starts - horizon, 0)
        high = min(starts, grid.minutes)
        if low < high:
            count[low] += 1
            count[high] -= 1
    return np.asarray(np.cumsum(count)[index], dtype=np.float64)
