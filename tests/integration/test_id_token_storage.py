"""Id tokens and authorization lists on both databases: what the services store is what
they read back, and charging judges a card by the same standing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.unit.fakes import FakeClock
from tests.unit.idtoken_fakes import FakeCharger, FakeStations
from voltbook.charging.model import Authorization
from voltbook.charging.service import ChargingService
from voltbook.core.bus import InProcessBus
from voltbook.core.errors import Conflict
from voltbook.idtokens.list_model import ListMode, ListRule
from voltbook.idtokens.lists import AuthListService
from voltbook.idtokens.model import Standing, TokenFilter, TokenKind
from voltbook.idtokens.service import IdTokenService
from voltbook.storage.unit_of_work import SqlUnitOfWork

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


class Uow(Protocol):
    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork: ...


@pytest.fixture
def uow(engine: AsyncEngine, clock: FakeClock) -> Uow:
    def make(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock, read_only=read_only)

    return make


async def test_tokens_are_stored_filtered_and_paged(uow: Uow, clock: FakeClock) -> None:
    tokens = IdTokenService(uow, clock, InProcessBus())
    await tokens.add("A_1", TokenKind.RFID)
    await tokens.add("AB2", TokenKind.APP, expires_at=T0 + timedelta(days=1))
    await tokens.add("B1")
    await tokens.block("B1")
    with pytest.raises(Conflict):
        await tokens.add("A_1")
    stored = await tokens.get("AB2")
    assert (stored.kind, stored.expires_at, stored.blocked) == (
        TokenKind.APP,
        T0 + timedelta(days=1),
        False,
    )
    page = await tokens.page(None, 2)
    assert [t.token for t in page] == ["AB2", "A_1"]  # by value: "B" < "_"
    assert [t.token for t in await tokens.page(page[-1].token, 2)] == ["B1"]
    # LIKE's wildcards in a prefix are taken as they are
    assert [t.token for t in await tokens.page(None, 9, TokenFilter(prefix="A_"))] == ["A_1"]
    clock.advance(2 * 86400)
    expired = await tokens.page(None, 9, TokenFilter(standing=Standing.EXPIRED))
    assert [t.token for t in expired] == ["AB2"]
    accepted = await tokens.page(None, 9, TokenFilter(standing=Standing.ACCEPTED))
    assert [t.token for t in accepted] == ["A_1"]
    blocked = await tokens.page(None, 9, TokenFilter(standing=Standing.BLOCKED))
    assert [t.token for t in blocked] == ["B1"]


async def test_charging_refuses_a_blocked_or_expired_card_and_an_unknown_one(
    uow: Uow, clock: FakeClock
) -> None:
    tokens = IdTokenService(uow, clock, InProcessBus())
    charging = ChargingService(uow, clock, InProcessBus())
    await tokens.add("CARD-1")
    assert await charging.tag_status("CARD-1") is Authorization.ACCEPTED
    assert await charging.tag_status("NEVER-SEEN") is Authorization.INVALID
    await tokens.expire("CARD-1", T0 + timedelta(minutes=5))
    assert await charging.tag_status("CARD-1") is Authorization.ACCEPTED
    clock.advance(300)
    assert await charging.tag_status("CARD-1") is Authorization.EXPIRED
    await tokens.block("CARD-1")
    assert await charging.tag_status("CARD-1") is Authorization.BLOCKED


async def test_a_station_list_and_the_rule_survive_a_restart(uow: Uow, clock: FakeClock) -> None:
    async with uow() as work:
        await work.stations.add("S1", None, "not-a-real-hash")
        await work.stations.set_online("S1", T0)
        await work.commit()
    tokens = IdTokenService(uow, clock, InProcessBus())
    for value in ("C1", "C2", "C3"):
        await tokens.add(value)
    chargers = FakeStations()
    chargers.chargers["S1"] = FakeCharger()
    lists = AuthListService(uow, chargers, clock)
    await lists.set_rule(ListRule(ListMode.ALL))
    [report] = await lists.sync_all()
    assert (report.outcome, report.messages) == ("Accepted", 2)

    restarted = AuthListService(uow, chargers, clock)
    assert await restarted.rule() == ListRule(ListMode.ALL)
    state = await restarted.state("S1")
    assert state is not None
    assert (state.version, state.entries, state.outcome) == (2, 3, "Accepted")
    await tokens.block("C2")
    again = await restarted.sync("S1")
    assert again.messages == 1  # only the change
    assert chargers.chargers["S1"].entries["C2"] == "Blocked"
    await restarted.set_rule(ListRule(ListMode.SITES, frozenset({42})))
    assert (await restarted.rule()).site_ids == frozenset({42})
