"""Use cases of the status history: note every state change off the hot path, and read
utilisation and the places where chargers sit available longest.

A station's own rows have EVSE 0: OFFLINE when it went away, any other state when it came
back (its connectors' own states hold again from then on). Changes are queued in memory
and written once a second (`flush`) in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from voltbook.core.clock import Clock
from voltbook.core.errors import InvalidInput
from voltbook.stations.model import ConnectorStatus
from voltbook.stations.ports import HistoryUowFactory
from voltbook.stations.states import ChargerState, Span, StateChange, buckets, spans, state_of

MAX_RANGE = timedelta(days=31)
Key = tuple[str, int, int | None]  # station, EVSE, connector


@dataclass(frozen=True, slots=True)
class Usage:
    """Seconds a connector spent in each state within one bucket."""

    station_id: str
    evse_id: int
    connector_id: int | None
    bucket: datetime
    seconds: dict[ChargerState, float]

    @property
    def charging_share(self) -> float:
        total = sum(self.seconds.values())
        return self.seconds.get(ChargerState.CHARGING, 0.0) / total if total else 0.0


@dataclass(frozen=True, slots=True)
class IdlePlace:
    site_id: int | None
    station_ids: tuple[str, ...]
    connectors: int
    available_seconds: float
    observed_seconds: float

    @property
    def available_share(self) -> float:
        return self.available_seconds / self.observed_seconds if self.observed_seconds else 0.0


class StatusHistoryService:
    def __init__(
        self, uow: HistoryUowFactory, clock: Clock, retention: timedelta = timedelta(days=90)
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._retention = retention
        self._queued: list[StateChange] = []

    def connector_changed(
        self,
        station_id: str,
        evse_id: int,
        connector_id: int | None,
        status: ConnectorStatus,
        at: datetime,
    ) -> None:
        self._queued.append(
            StateChange(station_id, evse_id, connector_id, state_of(status), at, status.value)
        )

    def station_online(self, station_id: str, online: bool, at: datetime) -> None:
        state = ChargerState.AVAILABLE if online else ChargerState.OFFLINE
        word = "Online" if online else "Offline"
        self._queued.append(StateChange(station_id, 0, None, state, at, word))

    async def flush(self) -> int:
        queued, self._queued = self._queued, []
        if not queued:
            return 0
        async with self._uow() as uow:
            await uow.status_history.add_many(queued)
            await uow.commit()
        return len(queued)

    async def purge(self) -> int:
        async with self._uow() as uow:
            gone = await uow.status_history.purge(self._clock.now() - self._retention)
            await uow.commit()
        return gone

    async def _timelines(
        self, station_ids: list[str] | None, start: datetime, end: datetime
    ) -> dict[Key, list[Span]]:
        _check_range(start, end)
        async with self._uow(read_only=True) as uow:
            rows = await uow.status_history.changes(station_ids, start, end)
        return connector_spans(rows, start, end)

    async def utilisation(
        self, station_ids: list[str] | None, start: datetime, end: datetime, size: timedelta
    ) -> list[Usage]:
        """Per connector and bucket (an hour or a day), the seconds in each state."""
        table: dict[tuple[Key, datetime], dict[ChargerState, float]] = defaultdict(
            lambda: defaultdict(float)
        )
        for key, connector in (await self._timelines(station_ids, start, end)).items():
            for span in connector:
                for bucket, piece in buckets(span, size):
                    table[key, bucket][piece.state] += piece.seconds
        return [
            Usage(key[0], key[1], key[2], bucket, dict(seconds))
            for (key, bucket), seconds in sorted(table.items(), key=_order)
        ]

    async def changes(
        self, station_id: str, start: datetime, end: datetime, limit: int
    ) -> list[StateChange]:
        """One station's rows of the history within the range, newest first: one per change
        of a connector's state (EVSE 0: the station going offline and coming back)."""
        _check_range(start, end)
        async with self._uow(read_only=True) as uow:
            rows = await uow.status_history.changes([station_id], start, end)
        inside = [r for r in rows if start <= r.at < end]
        return inside[::-1][:limit]

    async def idle_places(self, start: datetime, end: datetime, limit: int) -> list[IdlePlace]:
        """Sites whose chargers sat available longest in the range: where offers help."""
        timelines = await self._timelines(None, start, end)
        async with self._uow(read_only=True) as uow:
            sites = await uow.status_history.sites_of(sorted({k[0] for k in timelines}))
        # A station at no known site is a place of its own.
        grouped: dict[int | str, list[tuple[Key, list[Span]]]] = defaultdict(list)
        for key, connector in timelines.items():
            site = sites.get(key[0])
            grouped[key[0] if site is None else site].append((key, connector))
        places = [
            IdlePlace(
                place if isinstance(place, int) else None,
                tuple(sorted({key[0] for key, _ in members})),
                len(members),
                sum(s.seconds for _, c in members for s in c if s.state is ChargerState.AVAILABLE),
                sum(s.seconds for _, c in members for s in c),
            )
            for place, members in grouped.items()
        ]
        places.sort(key=lambda p: (-p.available_seconds, p.station_ids))
        return places[:limit]


def _order(item: tuple[tuple[Key, datetime], object]) -> tuple[str, int, int, datetime]:
    (station_id, evse_id, connector_id), bucket = item[0]
    return station_id, evse_id, connector_id or 0, bucket


def _check_range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise InvalidInput("the range ends after it starts")
    if end - start > MAX_RANGE:
        raise InvalidInput("a range covers at most 31 days")


def connector_spans(
    rows: list[StateChange], start: datetime, end: datetime
) -> dict[Key, list[Span]]:
    """Each connector's spans, with its station's offline times laid over it. `rows` are
    in time order and include each connector's and station's last change before `start`."""
    station_rows: dict[str, list[StateChange]] = defaultdict(list)
    connector_rows: dict[Key, list[StateChange]] = defaultdict(list)
    for row in rows:
        if row.evse_id == 0:
            station_rows[row.station_id].append(row)
        else:
            connector_rows[row.station_id, row.evse_id, row.connector_id].append(row)
    result: dict[Key, list[Span]] = {}
    for key, own in connector_rows.items():
        effective = _effective(own, station_rows.get(key[0], []))
        before = [c for c in effective if c.at <= start]
        after = [c for c in effective if c.at > start]
        state = before[-1].state if before else None
        result[key] = list(spans(after, start, end, state))
    return result


def _effective(own: list[StateChange], station: list[StateChange]) -> list[StateChange]:
    """The connector's states as seen from outside: OFFLINE while its station is away."""
    merged = sorted(own + station, key=lambda c: (c.at, c.evse_id != 0))
    online, reported = True, None
    out: list[StateChange] = []
    for change in merged:
        if change.evse_id == 0:
            online = change.state is not ChargerState.OFFLINE
        else:
            reported = change
        if reported is None:
            continue
        state = reported.state if online else ChargerState.OFFLINE
        if not out or out[-1].state is not state:
            out.append(
                StateChange(reported.station_id, reported.evse_id, reported.connector_id,
                            state, change.at)
            )  # fmt: skip
    return out
