"""The token model (docs/adr/0014): sign-ins, refresh rotation with reuse detection,
sign-out, and the operations that end or change an account, on in-memory fakes."""

from __future__ import annotations

import contextlib

import pytest

from tests.unit.account_fakes import InMemoryDriverStore
from tests.unit.fakes import EventRecorder, FakeClock, PlainHasher, SequentialIds
from voltbook.core.bus import InProcessBus
from voltbook.core.errors import Conflict, Forbidden, Unauthenticated
from voltbook.drivers.events import SignInsEnded
from voltbook.drivers.model import Principal, Role
from voltbook.drivers.service import REFRESH_LIFETIME_S, AccountService, IssuedToken
from voltbook.drivers.throttle import SlidingWindowThrottle
from voltbook.security.tokens import JwtTokens

PASSWORD = "correct horse battery"
HOME = "198.51.100.7"


async def signed_in(
    accounts: AccountService, email: str = "alice@example.com", role: Role = Role.DRIVER
) -> IssuedToken:
    with contextlib.suppress(Conflict):  # a second sign-in of the same account
        await accounts.register(email, PASSWORD, role)
    return await accounts.sign_in(email, PASSWORD, HOME)


async def test_a_sign_in_gives_an_access_token_and_an_opaque_refresh_token(
    accounts: AccountService, driver_store: InMemoryDriverStore
) -> None:
    issued = await signed_in(accounts)
    assert len(issued.refresh_token) >= 43  # 256 random bits
    assert issued.refresh_token not in issued.access_token
    # Only a digest of the refresh token is stored.
    assert issued.refresh_token not in driver_store.refresh_tokens
    assert await accounts.authenticate(issued.access_token) == issued.principal


async def test_a_refresh_gives_a_new_pair_of_the_same_sign_in(accounts: AccountService) -> None:
    first = await signed_in(accounts)
    second = await accounts.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert second.principal.sign_in_id == first.principal.sign_in_id
    assert await accounts.authenticate(second.access_token) == second.principal
    third = await accounts.refresh(second.refresh_token)
    assert await accounts.authenticate(third.access_token) == third.principal


async def test_a_refresh_token_used_twice_ends_the_whole_sign_in(
    accounts: AccountService, events: EventRecorder
) -> None:
    first = await signed_in(accounts)
    second = await accounts.refresh(first.refresh_token)
    with pytest.raises(Unauthenticated, match="used already"):
        await accounts.refresh(first.refresh_token)
    # Everything of that sign-in is dead: the thief's and the owner's tokens alike.
    for token in (first.access_token, second.access_token):
        with pytest.raises(Unauthenticated):
            await accounts.authenticate(token)
    with pytest.raises(Unauthenticated):
        await accounts.refresh(second.refresh_token)
    ended = events.of_type(SignInsEnded)
    assert [e.sign_in_ids for e in ended] == [(first.principal.sign_in_id,)]


async def test_reuse_ends_only_that_sign_in(accounts: AccountService) -> None:
    phone = await signed_in(accounts)
    laptop = await signed_in(accounts)
    await accounts.refresh(phone.refresh_token)
    with pytest.raises(Unauthenticated):
        await accounts.refresh(phone.refresh_token)
    assert await accounts.authenticate(laptop.access_token) == laptop.principal


async def test_an_expired_or_unknown_refresh_token_is_refused(
    accounts: AccountService, clock: FakeClock
) -> None:
    issued = await signed_in(accounts)
    with pytest.raises(Unauthenticated):
        await accounts.refresh("not-a-token")
    clock.advance(REFRESH_LIFETIME_S + 1)
    with pytest.raises(Unauthenticated):
        await accounts.refresh(issued.refresh_token)


async def test_sign_out_ends_the_access_and_refresh_tokens_at_once(
    accounts: AccountService, events: EventRecorder
) -> None:
    issued = await signed_in(accounts)
    other = await signed_in(accounts)
    await accounts.sign_out(issued.principal)
    with pytest.raises(Unauthenticated):
        await accounts.authenticate(issued.access_token)
    with pytest.raises(Unauthenticated):
        await accounts.refresh(issued.refresh_token)
    assert await accounts.authenticate(other.access_token) == other.principal
    assert events.of_type(SignInsEnded)[-1].sign_in_ids == (issued.principal.sign_in_id,)


async def test_a_password_change_ends_every_other_sign_in(accounts: AccountService) -> None:
    here = await signed_in(accounts)
    elsewhere = await signed_in(accounts)
    await accounts.change_password(here.principal, PASSWORD, "a brand new passphrase")
    assert await accounts.authenticate(here.access_token) == here.principal
    with pytest.raises(Unauthenticated):
        await accounts.authenticate(elsewhere.access_token)
    with pytest.raises(Unauthenticated):
        await accounts.sign_in("alice@example.com", PASSWORD, HOME)
    await accounts.sign_in("alice@example.com", "a brand new passphrase", HOME)


async def test_a_password_change_needs_the_current_password(accounts: AccountService) -> None:
    issued = await signed_in(accounts)
    with pytest.raises(Forbidden):
        await accounts.change_password(issued.principal, "wrong password", "a new passphrase!")


async def test_the_role_is_read_from_storage_on_every_request(accounts: AccountService) -> None:
    operator = await signed_in(accounts, "op@example.com", Role.OPERATOR)
    assert (await accounts.authenticate(operator.access_token)).role is Role.OPERATOR
    await accounts.set_role(operator.principal.driver_id, Role.DRIVER)
    # The token still says "operator"; the next request does not believe it.
    assert (await accounts.authenticate(operator.access_token)).role is Role.DRIVER


async def test_a_blocked_account_is_refused_and_cannot_sign_in_until_unblocked(
    accounts: AccountService, events: EventRecorder
) -> None:
    issued = await signed_in(accounts)
    driver_id = issued.principal.driver_id
    await accounts.set_blocked(driver_id, True)
    with pytest.raises(Unauthenticated):
        await accounts.authenticate(issued.access_token)
    with pytest.raises(Unauthenticated, match="blocked"):
        await accounts.sign_in("alice@example.com", PASSWORD, HOME)
    assert events.of_type(SignInsEnded)[-1] == SignInsEnded(driver_id, None, "account blocked")
    await accounts.set_blocked(driver_id, False)
    again = await accounts.sign_in("alice@example.com", PASSWORD, HOME)
    assert await accounts.authenticate(again.access_token) == again.principal
    # Unblocking does not bring back what the block ended.
    with pytest.raises(Unauthenticated):
        await accounts.authenticate(issued.access_token)


async def test_closing_an_account_runs_its_closing_steps_then_erases_it(
    accounts: AccountService,
    driver_store: InMemoryDriverStore,
    events: EventRecorder,
    hasher: PlainHasher,
    tokens: JwtTokens,
    throttle: SlidingWindowThrottle,
    clock: FakeClock,
    bus: InProcessBus,
) -> None:
    issued = await signed_in(accounts)
    driver_id = issued.principal.driver_id
    seen: list[tuple[str, bool]] = []

    async def cancel_bookings(closing: str) -> None:
        # By the time the bookings go, the account can no longer act.
        try:
            await accounts.authenticate(issued.access_token)
            seen.append((closing, True))
        except Unauthenticated:
            seen.append((closing, False))

    closing = AccountService(
        uow=driver_store.uow,
        hasher=hasher,
        tokens=tokens,
        throttle=throttle,
        clock=clock,
        ids=SequentialIds("driver"),
        bus=bus,
        closing_steps=(cancel_bookings,),
    )
    await closing.close(driver_id, issued.principal)
    assert seen == [(driver_id, False)]
    assert driver_id in driver_store.deleted
    assert driver_store.drivers[driver_id].email != "alice@example.com"
    with pytest.raises(Unauthenticated):
        await accounts.authenticate(issued.access_token)
    with pytest.raises(Unauthenticated):
        await accounts.sign_in("alice@example.com", PASSWORD, HOME)
    assert events.of_type(SignInsEnded)[-1].sign_in_ids is None
    # The address is free again.
    await accounts.register("alice@example.com", PASSWORD)


async def test_staff_act_on_drivers_and_only_admins_on_staff(accounts: AccountService) -> None:
    driver = (await signed_in(accounts)).principal
    operator = (await signed_in(accounts, "op@example.com", Role.OPERATOR)).principal
    other_op = (await signed_in(accounts, "op2@example.com", Role.OPERATOR)).principal
    admin = (await signed_in(accounts, "admin@example.com", Role.ADMIN)).principal
    await accounts.set_blocked(driver.driver_id, True, operator)
    with pytest.raises(Forbidden):
        await accounts.set_role(other_op.driver_id, Role.DRIVER, operator)
    with pytest.raises(Forbidden):
        await accounts.set_blocked(operator.driver_id, True, driver)
    with pytest.raises(Conflict):
        await accounts.set_role(admin.driver_id, Role.DRIVER, admin)
    with pytest.raises(Forbidden, match="command line"):
        await accounts.set_role(driver.driver_id, Role.ADMIN, admin)
    demoted = await accounts.set_role(other_op.driver_id, Role.DRIVER, admin)
    assert demoted.role is Role.DRIVER


async def test_a_token_for_another_accounts_sign_in_is_refused(
    accounts: AccountService,
) -> None:
    alice = await signed_in(accounts)
    bob = await signed_in(accounts, "bob@example.com")
    forged = Principal(alice.principal.driver_id, Role.DRIVER, bob.principal.sign_in_id)
    with pytest.raises(Unauthenticated):
        await accounts.authenticate(accounts._tokens.issue(forged)[0])
