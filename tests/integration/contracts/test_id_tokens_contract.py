"""What every id-token and authorization-list repository does, the fake's as well as SQL's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol, cast

from tests.integration.contracts.conftest import DRIVERS, STATION
from voltbook.idtokens.list_model import HeldList, ListMode, ListRule
from voltbook.idtokens.model import IdToken, Standing, TokenChange, TokenFilter, TokenKind
from voltbook.idtokens.ports import (
    AuthListUnitOfWork,
    AuthListUowFactory,
    IdTokenUnitOfWork,
    IdTokenUowFactory,
)

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def card(token: str, **fields: object) -> IdToken:
    values: dict[str, object] = {"kind": TokenKind.RFID, "blocked": False, "created_at": WHEN}
    values.update(fields)
    return IdToken(token, **values)  # type: ignore[arg-type]


async def given(uow: IdTokenUowFactory, *tokens: IdToken) -> None:
    async with uow() as writing:
        for token in tokens:
            assert await writing.id_tokens.add(token)
        await writing.commit()


async def test_a_token_is_added_once_and_read_back_as_stored(
    id_tokens_uow: IdTokenUowFactory,
) -> None:
    stored = card("04A1B2C3", driver_id=DRIVERS[0], expires_at=WHEN + timedelta(days=30))
    await given(id_tokens_uow, stored)
    async with id_tokens_uow() as uow:
        assert not await uow.id_tokens.add(card("04A1B2C3", kind=TokenKind.APP))
        await uow.commit()
    async with id_tokens_uow(read_only=True) as uow:
        assert await uow.id_tokens.get("04A1B2C3") == stored
        assert await uow.id_tokens.get("unknown") is None


async def test_a_saved_change_replaces_the_token(id_tokens_uow: IdTokenUowFactory) -> None:
    await given(id_tokens_uow, card("CARD-1"))
    changed = card("CARD-1").block().assign(DRIVERS[1]).expire(WHEN + timedelta(hours=1))
    async with id_tokens_uow() as uow:
        await uow.id_tokens.save(changed)
        await uow.commit()
    async with id_tokens_uow(read_only=True) as uow:
        assert await uow.id_tokens.get("CARD-1") == changed


async def test_pages_go_by_value_after_the_cursor_and_honour_every_filter(
    id_tokens_uow: IdTokenUowFactory,
) -> None:
    await given(
        id_tokens_uow,
        card("A-1", driver_id=DRIVERS[0]),
        card("A-2", blocked=True),
        card("B-1", kind=TokenKind.APP, driver_id=DRIVERS[0]),
        card("B-2", expires_at=WHEN - timedelta(minutes=1)),
    )
    now, every = WHEN, TokenFilter()
    async with id_tokens_uow(read_only=True) as uow:
        tokens = uow.id_tokens

        async def values(
            where: TokenFilter, after: str | None = None, limit: int = 10
        ) -> list[str]:
            return [t.token for t in await tokens.page(after, limit, where, now)]

        assert await values(every) == ["A-1", "A-2", "B-1", "B-2"]
        assert await values(every, after="A-1", limit=2) == ["A-2", "B-1"]
        assert await values(TokenFilter(kind=TokenKind.APP)) == ["B-1"]
        assert await values(TokenFilter(driver_id=DRIVERS[0])) == ["A-1", "B-1"]
        assert await values(TokenFilter(prefix="B-")) == ["B-1", "B-2"]
        assert await values(TokenFilter(standing=Standing.BLOCKED)) == ["A-2"]
        assert await values(TokenFilter(standing=Standing.EXPIRED)) == ["B-2"]
        assert await values(TokenFilter(standing=Standing.ACCEPTED)) == ["A-1", "B-1"]


async def test_only_known_drivers_exist(id_tokens_uow: IdTokenUowFactory) -> None:
    async with id_tokens_uow(read_only=True) as uow:
        assert await uow.id_tokens.driver_exists(DRIVERS[0])
        assert not await uow.id_tokens.driver_exists("nobody")


async def test_a_token_without_commit_is_dropped(id_tokens_uow: IdTokenUowFactory) -> None:
    async with id_tokens_uow() as uow:
        await uow.id_tokens.add(card("LOST"))
    async with id_tokens_uow(read_only=True) as uow:
        assert await uow.id_tokens.get("LOST") is None


async def test_the_list_rule_is_none_until_set_and_then_as_set(
    auth_lists_uow: AuthListUowFactory,
) -> None:
    async with auth_lists_uow(read_only=True) as uow:
        assert await uow.auth_lists.rule() == ListRule(ListMode.NONE)
    wanted = ListRule(ListMode.SITES, frozenset({3, 7}))
    async with auth_lists_uow() as uow:
        await uow.auth_lists.set_rule(wanted, WHEN)
        await uow.commit()
    async with auth_lists_uow(read_only=True) as uow:
        assert await uow.auth_lists.rule() == wanted


async def test_what_a_station_holds_and_how_its_last_update_went_are_kept(
    auth_lists_uow: AuthListUowFactory,
) -> None:
    held = HeldList(4, {"A-1": Standing.ACCEPTED, "A-2": Standing.BLOCKED})
    async with auth_lists_uow() as uow:
        await uow.auth_lists.store(STATION, held, "Accepted", WHEN)
        await uow.commit()
    async with auth_lists_uow(read_only=True) as uow:
        assert await uow.auth_lists.held(STATION) == held
        state = await uow.auth_lists.outcome(STATION)
        assert state is not None
        assert (state.version, state.entries, state.outcome) == (4, 2, "Accepted")
        assert state.synced_at == WHEN
        assert await uow.auth_lists.held("other") is None
        assert await uow.auth_lists.outcome("other") is None
        assert await uow.auth_lists.station_site(STATION) == (False, None)
        assert await uow.auth_lists.station_site("other") is None
        assert await uow.auth_lists.online_stations() == []
    async with auth_lists_uow() as uow:  # a failed update: what it holds is unknown
        await uow.auth_lists.store(STATION, None, "Failed", WHEN + timedelta(minutes=1))
        await uow.commit()
    async with auth_lists_uow(read_only=True) as uow:
        assert await uow.auth_lists.held(STATION) is None
        state = await uow.auth_lists.outcome(STATION)
        assert state is not None
        assert (state.version, state.entries, state.outcome) == (None, 0, "Failed")


class _Both(IdTokenUnitOfWork, AuthListUnitOfWork, Protocol):
    """A unit of work of the whole id-token area (every repository here is both)."""


async def test_changes_are_taken_oldest_first_once_each_and_only_once_committed(
    auth_lists_uow: AuthListUowFactory,
) -> None:
    both = cast(Callable[..., _Both], auth_lists_uow)
    async with both() as uow:
        for n in range(5):
            await uow.id_tokens.note_change(TokenChange(f"C{n}", n == 3, WHEN))
        await uow.commit()
    async with both() as uow:  # taken, then rolled back: still there
        assert len(await uow.auth_lists.take_changes(10)) == 5
    async with both() as uow:
        first = await uow.auth_lists.take_changes(2)
        await uow.commit()
    async with both() as uow:
        rest = await uow.auth_lists.take_changes(10)
        await uow.commit()
    assert sorted(c.token for c in first) == ["C0", "C1"]
    assert sorted((c.token, c.blocked, c.at) for c in rest) == [
        ("C2", False, WHEN),
        ("C3", True, WHEN),
        ("C4", False, WHEN),
    ]
    async with both() as uow:
        assert await uow.auth_lists.take_changes(10) == []
