"""Charger states and the status history (stations/states.py, stations/history.py): one set
of states for every OCPP status, time counted per state, hour and connector, and the sites
where chargers sit available longest."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.fakes import FakeClock
from tests.unit.memory_uow import MemoryStore, MemoryUnitOfWork
from voltbook.core.errors import InvalidInput
from voltbook.stations.history import StatusHistoryService
from voltbook.stations.model import ConnectorStatus
from voltbook.stations.states import ChargerState, Span, StateChange, buckets, spans, state_of

T0 = datetime(2026, 12, 1, 8, tzinfo=UTC)
HOUR = timedelta(hours=1)


@dataclass
class HistoryRows:
    rows: list[StateChange] = field(default_factory=list)
    sites: dict[str, int | None] = field(default_factory=dict)


class MemoryHistory(MemoryStore[HistoryRows]):
    """The committed history; calling it opens a unit of work (the factory the service takes)."""

    def __init__(self) -> None:
        super().__init__(HistoryRows())

    @property
    def rows(self) -> list[StateChange]:
        return self.state.rows

    @property
    def sites(self) -> dict[str, int | None]:
        return self.state.sites

    @sites.setter
    def sites(self, sites: dict[str, int | None]) -> None:
        self.state.sites = sites

    def __call__(self, *, read_only: bool = False) -> HistoryUow:
        return HistoryUow(self, read_only=read_only)


class HistoryUow(MemoryUnitOfWork[HistoryRows]):
    def __init__(self, store: MemoryHistory, *, read_only: bool = False) -> None:
        super().__init__(store, read_only=read_only)
        self.status_history = MemoryHistoryRepository(self)


class MemoryHistoryRepository:
    def __init__(self, uow: HistoryUow) -> None:
        self._uow = uow

    @property
    def rows(self) -> list[StateChange]:
        return self._uow.state.rows

    @rows.setter
    def rows(self, rows: list[StateChange]) -> None:
        self._uow.writable("a write").rows = rows

    @property
    def sites(self) -> dict[str, int | None]:
        return self._uow.state.sites

    async def add_many(self, changes: list[StateChange]) -> None:
        self._uow.writable("add_many").rows.extend(changes)

    async def changes(
        self, station_ids: list[str] | None, start: datetime, end: datetime
    ) -> list[StateChange]:
        mine = [r for r in self.rows if station_ids is None or r.station_id in station_ids]
        last: dict[tuple[str, int, int | None], StateChange] = {}
        for row in mine:
            if row.at <= start:
                last[row.station_id, row.evse_id, row.connector_id] = row
        inside = [r for r in mine if start < r.at < end]
        return sorted([*last.values(), *inside], key=lambda r: r.at)

    async def sites_of(self, station_ids: list[str]) -> dict[str, int | None]:
        return {s: self.sites.get(s) for s in station_ids}

    async def purge(self, older_than: datetime) -> int:
        before = len(self.rows)
        self.rows = [r for r in self.rows if r.at >= older_than]
        return before - len(self.rows)


@pytest.fixture
def store() -> MemoryHistory:
    return MemoryHistory()


@pytest.fixture
def history(store: MemoryHistory) -> StatusHistoryService:
    return StatusHistoryService(store, FakeClock(T0 + 48 * HOUR), timedelta(days=1))


def test_every_ocpp_status_has_one_state_and_an_offline_station_is_offline() -> None:
    assert {s: state_of(s) for s in ConnectorStatus} == {
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
    assert all(state_of(s, online=False) is ChargerState.OFFLINE for s in ConnectorStatus)


@given(
    offsets=st.lists(st.integers(0, 7200), max_size=8).map(sorted),
    states=st.lists(st.sampled_from(list(ChargerState)), min_size=8, max_size=8),
)
def test_spans_and_buckets_cover_the_range_exactly_once(
    offsets: list[int], states: list[ChargerState]
) -> None:
    changes = [
        StateChange("S", 1, 1, states[i], T0 + timedelta(seconds=o)) for i, o in enumerate(offsets)
    ]
    start, end = T0 + timedelta(minutes=10), T0 + timedelta(minutes=100)
    cut = list(spans(changes, start, end, ChargerState.AVAILABLE))
    assert sum(s.seconds for s in cut) == (end - start).total_seconds()
    assert all(a.end == b.start for a, b in itertools.pairwise(cut))
    pieces = [p for s in cut for _, p in buckets(s, HOUR)]
    assert sum(p.seconds for p in pieces) == (end - start).total_seconds()
    assert all(p.start.hour == (p.end - timedelta(microseconds=1)).hour for p in pieces)


def test_a_span_over_midnight_falls_into_two_days() -> None:
    span = Span(ChargerState.CHARGING, T0 + 15 * HOUR, T0 + 18 * HOUR)  # 23:00 to 02:00
    assert [(b.day, p.seconds) for b, p in buckets(span, timedelta(days=1))] == [
        (1, 3600.0),
        (2, 7200.0),
    ]


async def test_utilisation_counts_each_state_per_hour_and_offline_times(
    history: StatusHistoryService,
) -> None:
    history.connector_changed("S1", 1, 1, ConnectorStatus.AVAILABLE, T0)
    history.connector_changed("S1", 1, 1, ConnectorStatus.CHARGING, T0 + timedelta(minutes=30))
    history.station_online("S1", False, T0 + timedelta(minutes=45))
    history.station_online("S1", True, T0 + timedelta(minutes=50))  # status unchanged
    history.connector_changed("S1", 1, 1, ConnectorStatus.SUSPENDED_EV, T0 + timedelta(minutes=70))
    assert await history.flush() == 5
    usage = await history.utilisation(None, T0, T0 + 2 * HOUR, HOUR)
    assert [(u.bucket, u.seconds) for u in usage] == [
        (
            T0,
            {
                ChargerState.AVAILABLE: 1800.0,
                ChargerState.CHARGING: 1500.0,
                ChargerState.OFFLINE: 300.0,
            },
        ),
        (
            T0 + HOUR,
            {ChargerState.CHARGING: 600.0, ChargerState.PLUGGED_NOT_CHARGING: 3000.0},
        ),
    ]
    assert usage[0].charging_share == pytest.approx(1500 / 3600)


async def test_the_state_before_the_range_counts_from_its_start(
    history: StatusHistoryService,
) -> None:
    history.connector_changed("S1", 1, 1, ConnectorStatus.FAULTED, T0 - 5 * HOUR)
    await history.flush()
    [usage] = await history.utilisation(["S1"], T0, T0 + HOUR, HOUR)
    assert usage.seconds == {ChargerState.FAULTED: 3600.0}


async def test_sites_whose_chargers_sit_available_longest_come_first(
    history: StatusHistoryService, store: MemoryHistory
) -> None:
    store.sites = {"BUSY": 1, "IDLE-A": 2, "IDLE-B": 2}
    history.connector_changed("BUSY", 1, 1, ConnectorStatus.CHARGING, T0)
    history.connector_changed("IDLE-A", 1, 1, ConnectorStatus.AVAILABLE, T0)
    history.connector_changed("IDLE-B", 1, 1, ConnectorStatus.AVAILABLE, T0 + HOUR)
    await history.flush()
    places = await history.idle_places(T0, T0 + 2 * HOUR, 10)
    assert [(p.site_id, p.available_seconds, p.connectors) for p in places] == [
        (2, 3 * 3600.0, 2),
        (1, 0.0, 1),
    ]
    assert places[0].available_share == 1.0


async def test_a_range_is_forward_and_at_most_a_month(history: StatusHistoryService) -> None:
    with pytest.raises(InvalidInput):
        await history.utilisation(None, T0, T0, HOUR)
    with pytest.raises(InvalidInput):
        await history.utilisation(None, T0, T0 + timedelta(days=32), HOUR)


async def test_rows_past_the_retention_go(
    history: StatusHistoryService, store: MemoryHistory
) -> None:
    history.connector_changed("S1", 1, 1, ConnectorStatus.AVAILABLE, T0)
    history.connector_changed("S1", 1, 1, ConnectorStatus.CHARGING, T0 + 40 * HOUR)
    await history.flush()
    assert await history.purge() == 1
    assert len(store.rows) == 1


async def test_a_stations_history_is_one_row_per_change_newest_first_within_the_range(
    history: StatusHistoryService,
) -> None:
    history.connector_changed("S1", 1, 1, ConnectorStatus.AVAILABLE, T0 - HOUR)  # before
    history.connector_changed("S1", 1, 1, ConnectorStatus.FAULTED, T0 + timedelta(minutes=5))
    history.connector_changed("S2", 1, 1, ConnectorStatus.CHARGING, T0 + timedelta(minutes=6))
    history.station_online("S1", False, T0 + timedelta(minutes=10))
    history.station_online("S1", True, T0 + timedelta(minutes=12))
    history.connector_changed("S1", 1, 1, ConnectorStatus.AVAILABLE, T0 + timedelta(minutes=20))
    history.connector_changed("S1", 1, 1, ConnectorStatus.CHARGING, T0 + 2 * HOUR)  # after
    await history.flush()
    rows = await history.changes("S1", T0, T0 + HOUR, 10)
    assert [(r.evse_id, r.state, r.status, r.at - T0) for r in rows] == [
        (1, ChargerState.AVAILABLE, "Available", timedelta(minutes=20)),
        (0, ChargerState.AVAILABLE, "Online", timedelta(minutes=12)),
        (0, ChargerState.OFFLINE, "Offline", timedelta(minutes=10)),
        (1, ChargerState.FAULTED, "Faulted", timedelta(minutes=5)),
    ]
    assert [r.at for r in await history.changes("S1", T0, T0 + HOUR, 2)] == [
        T0 + timedelta(minutes=20),
        T0 + timedelta(minutes=12),
    ]
    with pytest.raises(InvalidInput):
        await history.changes("S1", T0, T0 + timedelta(days=32), 10)
