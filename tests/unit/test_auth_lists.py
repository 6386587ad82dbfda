"""Authorization lists on in-memory fakes (idtokens/list_model.py, idtokens/lists.py): every
station ends up holding what the operator's rule says, in messages that fit its limits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.fakes import FakeClock
from tests.unit.idtoken_fakes import FakeCharger, FakeStations, TokenStore
from voltbook.core.bus import InProcessBus
from voltbook.idtokens.list_model import (
    ENTRY_BYTES,
    MESSAGE_BYTES,
    HeldList,
    ListEntry,
    ListLimits,
    ListMode,
    ListRule,
    after,
    plan_updates,
    wanted_list,
)
from voltbook.idtokens.lists import AuthListService
from voltbook.idtokens.model import IdToken, Standing, TokenKind
from voltbook.idtokens.service import IdTokenService

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
STANDINGS = st.sampled_from(list(Standing))
TOKENS = st.text("ABCDEFGH", min_size=1, max_size=3)


def entries(tokens: dict[str, Standing]) -> dict[str, ListEntry]:
    return {t: ListEntry(t, TokenKind.RFID, s) for t, s in tokens.items()}


@given(
    held=st.none() | st.dictionaries(TOKENS, STANDINGS, max_size=12),
    wanted=st.dictionaries(TOKENS, STANDINGS, max_size=12),
    per_message=st.none() | st.integers(1, 5),
    lost_track=st.booleans(),
)
def test_the_planned_updates_take_any_list_to_the_wanted_one_within_the_limit(
    held: dict[str, Standing] | None,
    wanted: dict[str, Standing],
    per_message: int | None,
    lost_track: bool,
) -> None:
    limits = ListLimits(per_message=per_message)
    current = None if held is None else HeldList(7, held)
    station_version = 3 if lost_track else (None if current is None else current.version)
    updates = plan_updates(current, entries(wanted), station_version, limits)
    state = current
    for update in updates:
        if per_message is not None:
            assert len(update.entries) <= per_message
        state = after(state, update)
    final = state.entries if state is not None else {}
    assert final == wanted
    versions = [u.version for u in updates]
    assert versions == sorted(set(versions))  # every message a newer version
    if updates and (current is None or lost_track):
        assert updates[0].full
        assert not any(u.full for u in updates[1:])
    elif updates:
        assert not any(u.full for u in updates)


def test_a_station_that_holds_the_wanted_list_gets_nothing() -> None:
    held = HeldList(4, {"A": Standing.ACCEPTED})
    assert plan_updates(held, entries({"A": Standing.ACCEPTED}), 4, ListLimits()) == []


def test_a_full_list_is_sent_even_when_empty() -> None:
    [update] = plan_updates(None, {}, 0, ListLimits())
    assert update.full
    assert update.entries == ()


def test_bytes_per_message_bounds_the_entries_of_one_message() -> None:
    limits = ListLimits(per_message=100, bytes_per_message=MESSAGE_BYTES + 3 * ENTRY_BYTES)
    wanted = entries({f"T{i}": Standing.ACCEPTED for i in range(7)})
    assert [len(u.entries) for u in plan_updates(None, wanted, None, limits)] == [3, 3, 1]


def test_a_short_memory_keeps_accepted_cards_first_and_short_id_tags_no_long_tokens() -> None:
    tokens = [
        IdToken("BLOCKED", TokenKind.RFID, True, NOW),
        IdToken("GOOD-1", TokenKind.RFID, False, NOW),
        IdToken("GOOD-2", TokenKind.RFID, False, NOW),
        IdToken("X" * 30, TokenKind.APP, False, NOW),
    ]
    rule = ListRule(ListMode.ALL)
    short = wanted_list(tokens, rule, None, ListLimits(max_entries=2, max_token_length=20), NOW)
    assert sorted(short) == ["GOOD-1", "GOOD-2"]
    roomy = wanted_list(tokens, rule, None, ListLimits(), NOW)
    assert roomy["BLOCKED"].standing is Standing.BLOCKED
    assert "X" * 30 in roomy


def test_a_rule_covers_all_stations_the_named_sites_or_none() -> None:
    assert ListRule(ListMode.ALL).covers(None)
    assert ListRule(ListMode.SITES, frozenset({1})).covers(1)
    assert not ListRule(ListMode.SITES, frozenset({1})).covers(2)
    assert not ListRule(ListMode.NONE).covers(1)
    assert not ListRule(ListMode.SITES).covers(1)  # no site named: no station


@pytest.fixture
def store() -> TokenStore:
    store = TokenStore()
    store.stations = {"S1": (True, 1), "S2": (True, 2), "OFF": (False, 1)}
    return store


@pytest.fixture
def chargers() -> FakeStations:
    stations = FakeStations()
    for station_id in ("S1", "S2", "OFF"):
        stations.chargers[station_id] = FakeCharger()
    stations.chargers["OFF"].online = False
    return stations


@pytest.fixture
def lists(store: TokenStore, chargers: FakeStations, clock: FakeClock) -> AuthListService:
    return AuthListService(store.uow, chargers, clock)


@pytest.fixture
def tokens(store: TokenStore, clock: FakeClock) -> IdTokenService:
    return IdTokenService(store.uow, clock, InProcessBus())


async def test_stations_of_the_rule_get_every_card_in_parts(
    lists: AuthListService, tokens: IdTokenService, chargers: FakeStations
) -> None:
    for value in ("C1", "C2", "C3"):
        await tokens.add(value)
    await tokens.block("C3")
    await lists.set_rule(ListRule(ListMode.SITES, frozenset({1})))
    reports = {r.station_id: r for r in await lists.sync_all()}
    assert set(reports) == {"S1", "S2"}  # OFF is offline
    assert reports["S1"].outcome == "Accepted"
    assert reports["S1"].messages == 2  # three cards, two a message
    assert chargers.chargers["S1"].entries == {"C1": "Accepted", "C2": "Accepted", "C3": "Blocked"}
    assert chargers.chargers["S2"].entries == {}  # not in the rule: an empty list
    state = await lists.state("S1")
    assert state is not None
    assert (state.version, state.entries) == (2, 3)


async def test_a_change_goes_as_a_differential_update(
    lists: AuthListService, tokens: IdTokenService, chargers: FakeStations
) -> None:
    await tokens.add("C1")
    await tokens.add("C2")
    await lists.set_rule(ListRule(ListMode.ALL))
    await lists.sync("S1")
    await tokens.block("C1")
    report = await lists.sync("S1")
    [update] = chargers.chargers["S1"].received[-1:]
    assert not update.full
    assert [(e.token, e.standing) for e in update.entries] == [("C1", Standing.BLOCKED)]
    assert report.version == update.version
    assert (await lists.sync("S1")).messages == 0  # in line: nothing to send


async def test_a_station_whose_version_moved_gets_a_full_list(
    lists: AuthListService, tokens: IdTokenService, chargers: FakeStations
) -> None:
    await tokens.add("C1")
    await lists.set_rule(ListRule(ListMode.ALL))
    await lists.sync("S1")
    charger = chargers.chargers["S1"]
    charger.version, charger.entries = 0, {}  # e.g. reset to factory settings
    await lists.sync("S1")
    assert charger.received[-1].full
    assert charger.entries == {"C1": "Accepted"}


async def test_version_mismatch_on_a_differential_update_is_answered_with_a_full_one(
    lists: AuthListService, tokens: IdTokenService, chargers: FakeStations
) -> None:
    await tokens.add("C1")
    await lists.set_rule(ListRule(ListMode.ALL))
    await lists.sync("S1")
    charger = chargers.chargers["S1"]
    # The station moved its list on by itself and still reports the old version: it says
    # so only by refusing the differential update.
    charger.reports_version, charger.version = charger.version, 50
    await tokens.add("C2")
    report = await lists.sync("S1")
    assert report.outcome == "Accepted"
    assert [u.full for u in charger.received[-2:]] == [False, True]
    assert charger.entries == {"C1": "Accepted", "C2": "Accepted"}
    assert charger.version == report.version


async def test_an_offline_or_listless_station_is_recorded_so(
    lists: AuthListService, chargers: FakeStations
) -> None:
    await lists.set_rule(ListRule(ListMode.ALL))
    assert (await lists.sync("OFF")).outcome == "unavailable"
    chargers.chargers["S2"].limits = None
    assert (await lists.sync("S2")).outcome == "NotSupported"
    state = await lists.state("S2")
    assert state is not None
    assert state.outcome == "NotSupported"


async def test_clearing_caches_asks_every_online_station(
    lists: AuthListService, chargers: FakeStations
) -> None:
    assert await lists.clear_caches() == 2
    assert chargers.chargers["S1"].caches_cleared == 1
    assert chargers.chargers["OFF"].caches_cleared == 0


async def test_a_station_outside_the_rule_that_holds_no_list_is_not_called(
    lists: AuthListService, tokens: IdTokenService, chargers: FakeStations
) -> None:
    await tokens.add("C1")
    report = await lists.sync("S1")  # the rule is none: the default
    assert (report.outcome, report.messages) == ("NotCovered", 0)
    assert chargers.chargers["S1"].received == []
