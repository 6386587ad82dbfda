"""Id tokens on in-memory fakes (idtokens/service.py): what an operator does to a card, and
what a station is told about it afterwards."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.fakes import EventRecorder, FakeClock
from tests.unit.idtoken_fakes import TokenStore
from voltbook.core.bus import InProcessBus
from voltbook.core.errors import Conflict, InvalidInput, NotFound
from voltbook.idtokens.events import IdTokenBlocked, IdTokenChanged
from voltbook.idtokens.model import Standing, TokenFilter, TokenKind
from voltbook.idtokens.service import IdTokenService


@pytest.fixture
def store() -> TokenStore:
    store = TokenStore()
    store.drivers.add("driver-1")
    return store


@pytest.fixture
def service(store: TokenStore, clock: FakeClock, bus: InProcessBus) -> IdTokenService:
    return IdTokenService(store.uow, clock, bus)


async def test_a_card_added_is_accepted_and_announced(
    service: IdTokenService, events: EventRecorder
) -> None:
    card = await service.add("04A1B2C3D4")
    assert card.standing(service.now()) is Standing.ACCEPTED
    assert card.kind is TokenKind.RFID
    [changed] = events.of_type(IdTokenChanged)
    assert (changed.token, changed.standing) == ("04A1B2C3D4", "Accepted")


async def test_the_same_card_twice_is_a_conflict(service: IdTokenService) -> None:
    await service.add("CARD-1")
    with pytest.raises(Conflict):
        await service.add("CARD-1")


@pytest.mark.parametrize("bad", ["", "has space", "x" * 37, "slash/in", "ünïcode"])
async def test_a_malformed_token_is_refused(service: IdTokenService, bad: str) -> None:
    with pytest.raises(InvalidInput):
        await service.add(bad)


async def test_a_card_for_a_driver_who_does_not_exist_is_refused(
    service: IdTokenService,
) -> None:
    with pytest.raises(NotFound):
        await service.add("CARD-1", driver_id="nobody")
    with pytest.raises(NotFound):
        await service.get("CARD-1")  # nothing was stored


async def test_blocking_refuses_the_card_and_asks_for_caches_to_be_cleared(
    service: IdTokenService, events: EventRecorder
) -> None:
    await service.add("CARD-1")
    blocked = await service.block("CARD-1")
    assert blocked.standing(service.now()) is Standing.BLOCKED
    assert [e.token for e in events.of_type(IdTokenBlocked)] == ["CARD-1"]
    with pytest.raises(Conflict):
        await service.block("CARD-1")
    unblocked = await service.unblock("CARD-1")
    assert unblocked.standing(service.now()) is Standing.ACCEPTED
    assert len(events.of_type(IdTokenBlocked)) == 1  # unblocking clears no cache
    with pytest.raises(Conflict):
        await service.unblock("CARD-1")


async def test_a_card_expires_at_its_date_and_renewing_takes_the_date_away(
    service: IdTokenService, clock: FakeClock
) -> None:
    await service.add("CARD-1")
    later = clock.now() + timedelta(hours=1)
    card = await service.expire("CARD-1", later)
    assert card.standing(clock.now()) is Standing.ACCEPTED
    clock.advance(3600)
    assert card.standing(clock.now()) is Standing.EXPIRED
    assert (await service.renew("CARD-1")).standing(clock.now()) is Standing.ACCEPTED
    now_expired = await service.expire("CARD-1")
    assert now_expired.standing(clock.now()) is Standing.EXPIRED


async def test_blocked_wins_over_expired(service: IdTokenService) -> None:
    await service.add("CARD-1")
    await service.expire("CARD-1")
    assert (await service.block("CARD-1")).standing(service.now()) is Standing.BLOCKED


async def test_assigning_gives_the_card_to_a_driver_or_to_nobody(service: IdTokenService) -> None:
    await service.add("CARD-1")
    assert (await service.assign("CARD-1", "driver-1")).driver_id == "driver-1"
    with pytest.raises(NotFound):
        await service.assign("CARD-1", "nobody")
    assert (await service.get("CARD-1")).driver_id == "driver-1"
    assert (await service.assign("CARD-1", None)).driver_id is None
    with pytest.raises(NotFound):
        await service.assign("NO-SUCH-CARD", None)


async def test_listing_pages_by_value_and_filters(service: IdTokenService) -> None:
    for value in ("A1", "A2", "B1", "B2", "B3"):
        await service.add(value, TokenKind.APP if value == "B3" else TokenKind.RFID)
    await service.block("A2")
    await service.assign("B1", "driver-1")
    first = await service.page(None, 2)
    second = await service.page(first[-1].token, 2)
    assert [t.token for t in first + second] == ["A1", "A2", "B1", "B2"]
    blocked = await service.page(None, 10, TokenFilter(standing=Standing.BLOCKED))
    assert [t.token for t in blocked] == ["A2"]
    assert [t.token for t in await service.page(None, 10, TokenFilter(prefix="B"))] == [
        "B1",
        "B2",
        "B3",
    ]
    assert [t.token for t in await service.page(None, 10, TokenFilter(kind=TokenKind.APP))] == [
        "B3"
    ]
    mine = await service.page(None, 10, TokenFilter(driver_id="driver-1"))
    assert [t.token for t in mine] == ["B1"]
