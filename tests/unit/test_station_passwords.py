"""Station passwords: a fast keyed hash (security/station_keys.py, docs/adr/0015)."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from voltbook.security.passwords import Argon2idHasher
from voltbook.security.station_keys import StationPasswordHasher

KEY = b"k" * 32
passwords = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=16, max_size=40)


@settings(max_examples=200)
@given(passwords, passwords)
def test_a_station_password_verifies_and_no_other_does(password: str, other: str) -> None:
    hasher = StationPasswordHasher(KEY)
    stored = hasher.hash(password)
    assert password not in stored
    assert hasher.verify(stored, password)
    assert hasher.verify(stored, other) == (other == password)
    assert not hasher.needs_rehash(stored)


def test_the_same_password_hashes_differently_per_station_and_per_key() -> None:
    one, two = StationPasswordHasher(KEY), StationPasswordHasher(b"q" * 32)
    password = "0123456789abcdefXYZ"
    assert one.hash(password) != one.hash(password)  # salted
    assert not two.verify(one.hash(password), password)  # a database without the key is no use


def test_an_older_argon2id_hash_still_verifies_and_asks_to_be_rehashed() -> None:
    legacy = Argon2idHasher(time_cost=1, memory_cost_kib=8_192)
    hasher = StationPasswordHasher(KEY, legacy)
    stored = legacy.hash("an-old-station-password")
    assert hasher.verify(stored, "an-old-station-password")
    assert not hasher.verify(stored, "another-station-password")
    assert hasher.needs_rehash(stored)


def test_two_thousand_admissions_cost_less_than_a_tenth_of_a_second() -> None:
    hasher = StationPasswordHasher(KEY)
    stored = [hasher.hash(f"station-password-{n:06d}") for n in range(2_000)]
    started = time.perf_counter()
    assert all(hasher.verify(h, f"station-password-{n:06d}") for n, h in enumerate(stored))
    assert time.perf_counter() - started < 0.1


def test_broken_stored_hashes_never_verify() -> None:
    hasher = StationPasswordHasher(KEY)
    for broken in ["hmac-sha256$", "hmac-sha256$a$b$c", "hmac-sha256$!!$!!", "", "plain"]:
        assert not hasher.verify(broken, "station-password-0001")
