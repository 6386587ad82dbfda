"""argon2id password hashes (security/passwords.py), with a small cost to stay fast."""

from __future__ import annotations

import pytest

from voltbook.security.passwords import Argon2idHasher

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def hasher() -> Argon2idHasher:
    return Argon2idHasher(time_cost=1, memory_cost_kib=64)


@pytest.fixture(scope="module")
def stored(hasher: Argon2idHasher) -> str:
    return hasher.hash(PASSWORD)


def test_a_hash_is_an_argon2id_hash_with_the_chosen_cost(stored: str) -> None:
    assert stored.startswith("$argon2id$")
    assert "m=64,t=1," in stored
    assert PASSWORD not in stored


def test_the_right_password_verifies(hasher: Argon2idHasher, stored: str) -> None:
    assert hasher.verify(stored, PASSWORD) is True


@pytest.mark.parametrize("attempt", ["", "correct horse batter", "Correct horse battery"])
def test_a_wrong_password_does_not_verify(
    hasher: Argon2idHasher, stored: str, attempt: str
) -> None:
    assert hasher.verify(stored, attempt) is False


def test_hashing_the_same_password_twice_gives_different_salted_hashes(
    hasher: Argon2idHasher, stored: str
) -> None:
    again = hasher.hash(PASSWORD)
    assert again != stored
    assert hasher.verify(again, PASSWORD)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not a hash",
        "plain$" + "0" * 64,
        "$2b$12$abcdefghijklmnopqrstuu1234567890123456789012345678901",
        "$argon2id$v=19$m=64,t=1,p=4$",
        "$argon2id$v=19$m=64,t=1,p=4$c2FsdHNhbHQ$",
        "$argon2id$v=19$m=64,t=1,p=4$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_a_garbage_hash_never_verifies_and_never_raises(
    hasher: Argon2idHasher, garbage: str
) -> None:
    assert hasher.verify(garbage, PASSWORD) is False


def test_a_hash_made_with_other_costs_still_verifies(stored: str) -> None:
    other = Argon2idHasher(time_cost=2, memory_cost_kib=128)
    assert other.verify(stored, PASSWORD) is True


def test_the_default_cost_is_argon2_cffis_rfc_9106_choice() -> None:
    from argon2 import PasswordHasher

    default = Argon2idHasher()
    reference = PasswordHasher()
    # Do not hash with the default (slow on purpose); inspect the configured parameters.
    assert default._argon2.time_cost == reference.time_cost
    assert default._argon2.memory_cost == reference.memory_cost
