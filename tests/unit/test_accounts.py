"""Accounts: e-mail and password rules, registration, sign-in (drivers/model.py, service.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.account_fakes import InMemoryDriverStore
from tests.unit.conftest import TOKEN_LIFETIME_S
from tests.unit.fakes import EventRecorder, FakeClock, PlainHasher
from voltbook.core.errors import Conflict, Forbidden, InvalidInput, RateLimited, Unauthenticated
from voltbook.drivers.events import DriverRegistered
from voltbook.drivers.model import (
    MAX_PASSWORD,
    MIN_PASSWORD,
    Principal,
    Role,
    check_password_rules,
    normalize_email,
)
from voltbook.drivers.service import AccountService, require_staff

PASSWORD = "correct horse battery"
WRONG = "wrong horse battery"
HOME = "198.51.100.7"
ELSEWHERE = "203.0.113.9"
WRONG_CREDENTIALS = "wrong e-mail address or password"


# --- e-mail and password rules ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("alice@example.com", "alice@example.com"),
        ("  Alice@Example.COM ", "alice@example.com"),
        ("o'brien+ev@mail.example.co.uk", "o'brien+ev@mail.example.co.uk"),
    ],
)
def test_email_addresses_are_trimmed_and_lower_cased(raw: str, normalized: str) -> None:
    assert normalize_email(raw) == normalized


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "alice",
        "alice@",
        "@example.com",
        "alice@example",
        "alice@example.c",
        "alice@@example.com",
        "al ice@example.com",
        "alice@exa mple.com",
        "a" * 65 + "@example.com",
        "alice@" + "x" * 250 + ".com",
    ],
)
def test_malformed_email_addresses_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput, match="email is not a valid e-mail address"):
        normalize_email(raw)


def test_a_local_part_of_64_characters_is_allowed() -> None:
    assert normalize_email("a" * 64 + "@example.com") == "a" * 64 + "@example.com"


@pytest.mark.parametrize("length", [MIN_PASSWORD, MIN_PASSWORD + 1, MAX_PASSWORD])
def test_passwords_of_allowed_length_pass(length: int) -> None:
    check_password_rules("p" * length)  # does not raise


def test_a_password_shorter_than_the_minimum_is_refused() -> None:
    with pytest.raises(InvalidInput, match=f"at least {MIN_PASSWORD} characters"):
        check_password_rules("p" * (MIN_PASSWORD - 1))


def test_a_password_longer_than_the_maximum_is_refused() -> None:
    with pytest.raises(InvalidInput, match=f"at most {MAX_PASSWORD} characters"):
        check_password_rules("p" * (MAX_PASSWORD + 1))


def test_staff_roles_are_operator_and_admin() -> None:
    assert [role for role in Role if role.is_staff] == [Role.OPERATOR, Role.ADMIN]


def test_require_staff_refuses_drivers() -> None:
    with pytest.raises(Forbidden, match="operator account"):
        require_staff(Principal("d-1", Role.DRIVER))


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ADMIN])
def test_require_staff_lets_operators_and_admins_through(role: Role) -> None:
    require_staff(Principal("d-1", role))  # does not raise


# --- registration -------------------------------------------------------------------------


async def test_registration_stores_a_lower_cased_email_and_a_hash_not_the_password(
    accounts: AccountService, driver_store: InMemoryDriverStore, hasher: PlainHasher
) -> None:
    driver = await accounts.register("  Alice@Example.COM ", PASSWORD)
    stored = driver_store.drivers[driver.id]
    assert stored == driver
    assert stored.email == "alice@example.com"
    assert stored.password_hash != PASSWORD
    assert PASSWORD not in stored.password_hash
    assert hasher.verify(stored.password_hash, PASSWORD)
    assert stored.role is Role.DRIVER


async def test_registration_takes_the_id_and_time_from_the_injected_sources(
    accounts: AccountService, clock: FakeClock
) -> None:
    start = clock.now()
    first = await accounts.register("one@example.com", PASSWORD)
    clock.advance(90)
    second = await accounts.register("two@example.com", PASSWORD)
    assert (first.id, second.id) == ("driver-000001", "driver-000002")
    assert first.created_at == start
    assert second.created_at == start + timedelta(seconds=90)


async def test_registration_publishes_driver_registered(
    accounts: AccountService, events: EventRecorder
) -> None:
    driver = await accounts.register("op@example.com", PASSWORD, role=Role.OPERATOR)
    assert events.of_type(DriverRegistered) == [DriverRegistered(driver.id, Role.OPERATOR)]


async def test_second_registration_with_same_email_is_refused(
    accounts: AccountService, driver_store: InMemoryDriverStore, events: EventRecorder
) -> None:
    await accounts.register("alice@example.com", PASSWORD)
    with pytest.raises(Conflict):
        await accounts.register("ALICE@example.com ", "another long password")
    assert len(driver_store.drivers) == 1
    assert len(events.of_type(DriverRegistered)) == 1


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-email", PASSWORD, "email is not a valid"),
        ("bob@example.com", "short", "at least 10 characters"),
    ],
)
async def test_registration_with_bad_input_stores_nothing(
    accounts: AccountService,
    driver_store: InMemoryDriverStore,
    events: EventRecorder,
    email: str,
    password: str,
    message: str,
) -> None:
    with pytest.raises(InvalidInput, match=message):
        await accounts.register(email, password)
    assert driver_store.drivers == {}
    assert events.events == []


# --- sign-in ------------------------------------------------------------------------------


async def test_good_credentials_give_a_token_that_proves_the_account(
    accounts: AccountService,
) -> None:
    driver = await accounts.register("alice@example.com", PASSWORD)
    issued = await accounts.sign_in("alice@example.com", PASSWORD, HOME)
    assert issued.expires_in == TOKEN_LIFETIME_S
    assert issued.principal == Principal(driver.id, Role.DRIVER, issued.principal.sign_in_id)
    assert await accounts.authenticate(issued.access_token) == issued.principal


async def test_sign_in_ignores_case_and_spaces_in_the_email(accounts: AccountService) -> None:
    driver = await accounts.register("alice@example.com", PASSWORD)
    issued = await accounts.sign_in("  ALICE@Example.com ", PASSWORD, HOME)
    assert issued.principal.driver_id == driver.id


async def test_a_staff_token_carries_the_staff_role(accounts: AccountService) -> None:
    await accounts.register("admin@example.com", PASSWORD, role=Role.ADMIN)
    issued = await accounts.sign_in("admin@example.com", PASSWORD, HOME)
    principal = await accounts.authenticate(issued.access_token)
    assert principal.role is Role.ADMIN
    require_staff(principal)


async def test_me_returns_the_signed_in_account(accounts: AccountService) -> None:
    driver = await accounts.register("alice@example.com", PASSWORD)
    issued = await accounts.sign_in("alice@example.com", PASSWORD, HOME)
    assert await accounts.me(await accounts.authenticate(issued.access_token)) == driver


async def test_wrong_password_and_unknown_email_are_refused_alike(
    accounts: AccountService,
) -> None:
    await accounts.register("alice@example.com", PASSWORD)
    with pytest.raises(Unauthenticated) as wrong_password:
        await accounts.sign_in("alice@example.com", WRONG, HOME)
    with pytest.raises(Unauthenticated) as unknown_email:
        await accounts.sign_in("nobody@example.com", PASSWORD, HOME)
    assert wrong_password.value.detail == unknown_email.value.detail == WRONG_CREDENTIALS


async def test_an_unknown_email_still_costs_a_password_verification(
    accounts: AccountService, hasher: PlainHasher
) -> None:
    hasher.verified.clear()
    with pytest.raises(Unauthenticated):
        await accounts.sign_in("nobody@example.com", PASSWORD, HOME)
    assert len(hasher.verified) == 1  # same work as for a real account


async def fail_sign_ins(accounts: AccountService, email: str, address: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(Unauthenticated):
            await accounts.sign_in(email, WRONG, address)


async def test_ten_failures_for_one_account_block_even_the_right_password(
    accounts: AccountService,
) -> None:
    await accounts.register("alice@example.com", PASSWORD)
    await fail_sign_ins(accounts, "alice@example.com", HOME, 10)
    with pytest.raises(RateLimited) as limited:
        await accounts.sign_in("alice@example.com", PASSWORD, HOME)
    assert limited.value.retry_after_s > 0
    assert limited.value.retry_after_s <= 60


async def test_the_account_block_holds_from_another_address_too(
    accounts: AccountService,
) -> None:
    await accounts.register("alice@example.com", PASSWORD)
    await fail_sign_ins(accounts, "alice@example.com", HOME, 10)
    with pytest.raises(RateLimited):
        await accounts.sign_in("Alice@Example.com", PASSWORD, ELSEWHERE)


async def test_nine_failures_do_not_block(accounts: AccountService) -> None:
    await accounts.register("alice@example.com", PASSWORD)
    await fail_sign_ins(accounts, "alice@example.com", HOME, 9)
    issued = await accounts.sign_in("alice@example.com", PASSWORD, HOME)
    assert issued.principal.role is Role.DRIVER


async def test_a_blocked_account_does_not_block_other_accounts_from_other_addresses(
    accounts: AccountService,
) -> None:
    await accounts.register("alice@example.com", PASSWORD)
    await accounts.register("bob@example.com", PASSWORD)
    await fail_sign_ins(accounts, "alice@example.com", HOME, 10)
    issued = await accounts.sign_in("bob@example.com", PASSWORD, ELSEWHERE)
    assert issued.principal.driver_id == "driver-000002"


async def test_ten_failures_from_one_address_across_emails_block_that_address(
    accounts: AccountService,
) -> None:
    await accounts.register("alice@example.com", PASSWORD)
    for n in range(10):
        await fail_sign_ins(accounts, f"guess{n}@example.com", HOME, 1)
    with pytest.raises(RateLimited) as limited:
        await accounts.sign_in("alice@example.com", PASSWORD, HOME)
    assert limited.value.retry_after_s > 0
    # The account itself is fine from elsewhere.
    issued = await accounts.sign_in("alice@example.com", PASSWORD, ELSEWHERE)
    assert issued.principal.driver_id == "driver-000001"


async def test_sign_in_works_again_once_the_window_has_passed(
    accounts: AccountService, clock: FakeClock
) -> None:
    await accounts.register("alice@example.com", PASSWORD)
    await fail_sign_ins(accounts, "alice@example.com", HOME, 10)
    with pytest.raises(RateLimited) as limited:
        await accounts.sign_in("alice@example.com", PASSWORD, HOME)
    clock.advance(limited.value.retry_after_s)
    issued = await accounts.sign_in("alice@example.com", PASSWORD, HOME)
    assert issued.principal.driver_id == "driver-000001"


async def test_retry_after_counts_down_with_the_clock(
    accounts: AccountService, clock: FakeClock
) -> None:
    await fail_sign_ins(accounts, "alice@example.com", HOME, 10)
    with pytest.raises(RateLimited) as first:
        await accounts.sign_in("alice@example.com", PASSWORD, HOME)
    clock.advance(20)
    with pytest.raises(RateLimited) as later:
        await accounts.sign_in("alice@example.com", PASSWORD, HOME)
    assert first.value.retry_after_s == 60
    assert later.value.retry_after_s == 40


async def test_failures_spread_beyond_the_window_do_not_block(
    accounts: AccountService, clock: FakeClock
) -> None:
    await accounts.register("alice@example.com", PASSWORD)
    for _ in range(20):
        await fail_sign_ins(accounts, "alice@example.com", HOME, 1)
        clock.advance(7)  # at most 9 failures in any 60 s
    issued = await accounts.sign_in("alice@example.com", PASSWORD, HOME)
    assert issued.principal.driver_id == "driver-000001"


async def test_a_successful_sign_in_clears_the_account_failures(
    accounts: AccountService,
) -> None:
    await accounts.register("alice@example.com", PASSWORD)
    await fail_sign_ins(accounts, "alice@example.com", HOME, 9)
    await accounts.sign_in("alice@example.com", PASSWORD, HOME)
    await fail_sign_ins(accounts, "alice@example.com", ELSEWHERE, 9)
    issued = await accounts.sign_in("alice@example.com", PASSWORD, ELSEWHERE)
    assert issued.principal.driver_id == "driver-000001"


async def test_sign_in_reads_in_a_read_only_unit_of_work(
    accounts: AccountService, driver_store: InMemoryDriverStore
) -> None:
    await accounts.register("alice@example.com", PASSWORD)
    driver_store.read_only_flags.clear()
    await accounts.sign_in("alice@example.com", PASSWORD, HOME)
    # The password is checked on a read; only the new sign-in is written.
    assert driver_store.read_only_flags == [True, False]


async def test_signing_in_to_ones_own_account_does_not_clear_the_address_failures(
    accounts: AccountService,
) -> None:
    # Otherwise a guesser could reset the address limit between guesses with an own account.
    await accounts.register("mallory@example.com", PASSWORD)
    await accounts.register("alice@example.com", PASSWORD)
    for n in range(9):
        await fail_sign_ins(accounts, f"guess{n}@example.com", HOME, 1)
    await accounts.sign_in("mallory@example.com", PASSWORD, HOME)
    await fail_sign_ins(accounts, "alice@example.com", HOME, 1)
    with pytest.raises(RateLimited):
        await accounts.sign_in("alice@example.com", PASSWORD, HOME)
