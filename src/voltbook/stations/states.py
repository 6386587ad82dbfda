"""The one set of charger states voltbook reasons with, defined here once.

Stations speak OCPP's connector status (1.6 vocabulary; 2.0.1's Occupied is refined at the
gateway by TransactionEvent's chargingState into Charging, SuspendedEV, SuspendedEVSE or
Preparing). Utilisation, the places where chargers sit available longest, and any study of
what offers did, count time in these states instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from voltbook.stations.model import ConnectorStatus


class ChargerState(StrEnum):
    AVAILABLE = "available"
    RESERVED = "reserved"
    CHARGING = "charging"
    PLUGGED_NOT_CHARGING = "plugged_not_charging"  # preparing, suspended or finished
    FAULTED = "faulted"
    UNAVAILABLE = "unavailable"
    OFFLINE = "offline"  # the station is not connected, or never reported


_OF_STATUS: dict[ConnectorStatus, ChargerState] = {
    ConnectorStatus.AVAILABLE: ChargerState.AVAILABLE,
    ConnectorStatus.PREPARING: ChargerState.PLUGGED_NOT_CHARGING,
    ConnectorStatus.CHARGING: ChargerState.CHARGING,
    ConnectorStatus.SUSPENDED_EV: ChargerState.PLUGGED_NOT_CHARGING,
    ConnectorStatus.SUSPENDED_EVSE: ChargerState.PLUGGED_NOT_CHARGING,
    ConnectorStatus.FINISHING: ChargerState.PLUGGED_NOT_CHARGING,
    ConnectorStatus.RESERVED: ChargerState.RESERVED,
    ConnectorStatus.UNAVAILABLE: ChargerState.UNAVAILABLE,
    ConnectorStatus.FAULTED: ChargerState.FAULTED,
    ConnectorStatus.UNKNOWN: ChargerState.OFFLINE,
}


def state_of(status: ConnectorStatus, online: bool = True) -> ChargerState:
    """The state of a connector that reports `status` (an offline station's are OFFLINE)."""
    return _OF_STATUS[status] if online else ChargerState.OFFLINE


@dataclass(frozen=True, slots=True)
class StateChange:
    """One row of the status history: from `at` on, the connector was in `state`."""

    station_id: str
    evse_id: int
    connector_id: int | None
    state: ChargerState
    at: datetime
    status: str | None = None  # the station's own word, when it said one


@dataclass(frozen=True, slots=True)
class Span:
    state: ChargerState
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def spans(
    changes: Iterable[StateChange], start: datetime, end: datetime, before: ChargerState | None
) -> Iterator[Span]:
    """The time from `start` to `end` cut into spans of one state, from one connector's
    changes in time order; `before` is its state at `start` (None: unknown, not counted)."""
    state, since = before, start
    for change in changes:
        if change.at >= end:
            break
        at = max(change.at, start)
        if state is not None and at > since:
            yield Span(state, since, at)
        state, since = change.state, at
    if state is not None and end > since:
        yield Span(state, since, end)


def buckets(span: Span, size: timedelta) -> Iterator[tuple[datetime, Span]]:
    """The span cut at every multiple of `size` since the epoch (hours, days in UTC)."""
    epoch = datetime(1970, 1, 1, tzinfo=span.start.tzinfo)
    cursor = span.start
    while cursor < span.end:
        bucket = epoch + ((cursor - epoch) // size) * size
        until = min(span.end, bucket + size)
        yield bucket, Span(span.state, cursor, until)
        cursor = until
