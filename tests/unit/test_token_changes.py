"""Card changes reach the stations wherever they were made (idtokens/lists.py, ADR 0035):
each change is kept with it, and a server takes it once and carries it out."""

from __future__ import annotations

import asyncio

import pytest

from tests.unit.fakes import FakeClock
from tests.unit.idtoken_fakes import FakeCharger, FakeStations, TokenStore
from voltbook.core.bus import InProcessBus
from voltbook.idtokens.events import IdTokenChanged
from voltbook.idtokens.list_model import ListMode, ListRule
from voltbook.idtokens.lists import CHANGES_PER_ROUND, AuthListService
from voltbook.idtokens.service import IdTokenService
from voltbook.wiring.idtokens import IdTokenReactions


@pytest.fixture
def store() -> TokenStore:
    store = TokenStore()
    store.stations = {"S1": (True, 1), "S2": (True, 2)}
    return store


@pytest.fixture
def chargers() -> FakeStations:
    stations = FakeStations()
    for station_id in ("S1", "S2"):
        stations.chargers[station_id] = FakeCharger()
    return stations


@pytest.fixture
def lists(store: TokenStore, chargers: FakeStations, clock: FakeClock) -> AuthListService:
    return AuthListService(store.uow, chargers, clock)


@pytest.fixture
def elsewhere(store: TokenStore, clock: FakeClock) -> IdTokenService:
    """Cards changed by another process (the command line): nobody here hears its events."""
    return IdTokenService(store.uow, clock, InProcessBus())


async def test_every_change_is_kept_for_the_stations_with_whether_it_blocked(
    store: TokenStore, elsewhere: IdTokenService
) -> None:
    await elsewhere.add("C1")
    await elsewhere.block("C1")
    await elsewhere.unblock("C1")
    assert [(c.token, c.blocked) for c in store.state.changes] == [
        ("C1", False),
        ("C1", True),
        ("C1", False),
    ]


async def test_a_refused_change_keeps_nothing(store: TokenStore, elsewhere: IdTokenService) -> None:
    await elsewhere.add("C1")
    store.state.changes.clear()
    with pytest.raises(Exception, match="not blocked"):
        await elsewhere.unblock("C1")
    assert store.state.changes == []


async def test_a_card_blocked_elsewhere_leaves_the_caches_and_reaches_the_lists(
    lists: AuthListService, elsewhere: IdTokenService, chargers: FakeStations
) -> None:
    await lists.set_rule(ListRule(ListMode.ALL))
    await elsewhere.add("C1")
    await elsewhere.block("C1")
    taken = await lists.carry_out_changes()
    assert [c.blocked for c in taken] == [False, True]
    for station_id in ("S1", "S2"):
        charger = chargers.chargers[station_id]
        assert charger.caches_cleared == 1
        assert charger.entries == {"C1": "Blocked"}
    assert await lists.carry_out_changes() == []  # taken once
    assert chargers.chargers["S1"].caches_cleared == 1


async def test_a_change_that_blocks_nothing_clears_no_cache(
    lists: AuthListService, elsewhere: IdTokenService, chargers: FakeStations
) -> None:
    await lists.set_rule(ListRule(ListMode.ALL))
    await elsewhere.add("C1")
    await lists.carry_out_changes()
    assert chargers.chargers["S1"].caches_cleared == 0
    assert chargers.chargers["S1"].entries == {"C1": "Accepted"}


async def test_more_changes_than_one_round_takes_are_all_taken(
    lists: AuthListService, elsewhere: IdTokenService, store: TokenStore
) -> None:
    for n in range(CHANGES_PER_ROUND + 3):
        await elsewhere.add(f"C{n}")
    assert len(await lists.carry_out_changes()) == CHANGES_PER_ROUND + 3
    assert store.state.changes == []


async def test_a_change_made_in_this_process_is_carried_out_at_once(
    lists: AuthListService, store: TokenStore, clock: FakeClock, chargers: FakeStations
) -> None:
    bus = InProcessBus()
    reactions = IdTokenReactions(lists, lists.worker)
    bus.subscribe(IdTokenChanged, reactions.token_changed)
    here = IdTokenService(store.uow, clock, bus)
    await lists.set_rule(ListRule(ListMode.ALL))
    worker = asyncio.create_task(lists.worker.run())
    try:
        await here.add("C1")
        await here.block("C1")
        await lists.worker.drained()
    finally:
        worker.cancel()
    assert store.state.changes == []
    assert chargers.chargers["S1"].caches_cleared == 1
    assert chargers.chargers["S1"].entries == {"C1": "Blocked"}


async def test_looking_for_changes_while_the_worker_is_busy_queues_one_round(
    lists: AuthListService,
) -> None:
    for _ in range(5):
        await lists.look_for_changes()
    assert lists.worker.pending == 1
