"""Authorization lists on in-memory fakes (idtokens/list_model.py, idtokens/lists.py): every
station ends up holding what the operator's rule says, in messages that fit its limits (its
number of entries, and its bytes as the gateway writes the message)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.fakes import FakeClock
from tests.unit.idtoken_fakes import FakeCharger, FakeStations, TokenStore, wire_bytes
from voltbook.core.bus import InProcessBus
from voltbook.idtokens.list_model import (
    HeldList,
    ListEntry,
    ListLimits,
    ListMode,
    ListRule,
    ListUpdate,
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
    updates = plan_updates(current, entries(wanted), station_version, limits, wire_bytes)
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
    wanted = entries({"A": Standing.ACCEPTED})
    assert plan_updates(held, wanted, 4, ListLimits(), wire_bytes) == []


def test_a_full_list_is_sent_even_when_empty() -> None:
    [update] = plan_updates(None, {}, 0, ListLimits(bytes_per_message=100), wire_bytes)
    assert update.full
    assert update.entries == ()


# Any text a token of any type may hold (2.0.1 idToken: up to 36 characters): non-ASCII
# characters take several bytes, quotes and control characters are escaped in JSON.
ANY_TOKENS = st.text(min_size=1, max_size=36)
CHANGES = st.tuples(st.sampled_from(list(TokenKind)), STANDINGS)


@given(
    held=st.none() | st.dictionaries(ANY_TOKENS, STANDINGS, max_size=30),
    wanted=st.dictionaries(ANY_TOKENS, CHANGES, max_size=40),
    version=st.integers(0, 2**31 - 100),
    lost_track=st.booleans(),
    per_message=st.none() | st.integers(1, 50),
    bytes_per_message=st.integers(100, 6000),
    extra=st.dictionaries(ANY_TOKENS, st.integers(0, 500)),
)
def test_every_message_fits_the_stations_bytes_and_items_and_no_entry_is_lost(
    held: dict[str, Standing] | None,
    wanted: dict[str, tuple[TokenKind, Standing]],
    version: int,
    lost_track: bool,
    per_message: int | None,
    bytes_per_message: int,
    extra: dict[str, int],
) -> None:
    """Each message, written as the gateway sends it, is within BytesPerMessage and
    ItemsPerMessage, and holds as many of the next entries as fit; together they take the
    station to the wanted list, each entry once, in order. An entry may carry more than its
    token (`extra` bytes of it, as additional info would): the split measures, never guesses.
    Only a message of one entry that alone does not fit may be over (nothing smaller exists)."""

    def size(update: ListUpdate) -> int:
        return wire_bytes(update) + sum(extra.get(e.token, 0) for e in update.entries)

    limits = ListLimits(per_message=per_message, bytes_per_message=bytes_per_message)
    current = None if held is None else HeldList(version, held)
    station_version = version + 7 if lost_track else version
    want = {t: ListEntry(t, kind, standing) for t, (kind, standing) in wanted.items()}
    updates = plan_updates(current, want, station_version, limits, size)

    for n, update in enumerate(updates):
        assert len(update.entries) <= (per_message or len(update.entries))
        assert size(update) <= bytes_per_message or len(update.entries) <= 1
        if n + 1 < len(updates):  # it took as many of the next entries as fit
            following = updates[n + 1].entries[0]
            more = ListUpdate(update.version, update.full, (*update.entries, following))
            assert len(more.entries) > (per_message or len(more.entries)) or (
                size(more) > bytes_per_message
            )
    sent = [e.token for u in updates for e in u.entries]
    assert sent == sorted(set(sent))  # in order, none twice
    state = current
    for update in updates:
        state = after(state, update)
    assert (state.entries if state is not None else {}) == {t: s for t, (_, s) in wanted.items()}
    if updates and updates[0].full:
        assert sent == sorted(wanted)  # a full list sends every wanted entry


def test_a_message_of_long_tokens_stays_within_4096_bytes() -> None:
    """41 cards of 36 characters fitted an estimate of 96 bytes an entry, but are nearly
    5 kB as sent: the split measures the messages themselves."""
    limits = ListLimits(per_message=100, bytes_per_message=4096)
    wanted = entries({f"{i:036d}": Standing.ACCEPTED for i in range(41)})
    updates = plan_updates(None, wanted, 0, limits, wire_bytes)
    assert len(updates) == 2
    assert all(wire_bytes(u) <= 4096 for u in updates)
    assert sum(len(u.entries) for u in updates) == 41


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
