"""Signed bearer tokens (security/tokens.py), driven by a fake clock."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from tests.unit.conftest import SECRET, TOKEN_LIFETIME_S
from tests.unit.fakes import FakeClock
from voltbook.core.errors import Unauthenticated
from voltbook.drivers.model import Principal, Role
from voltbook.drivers.service import AccountService
from voltbook.security.tokens import JwtTokens

ALICE = Principal("driver-000001", Role.DRIVER)


def claims_of(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    decoded: dict[str, object] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def reencode(claims: dict[str, object]) -> str:
    raw = json.dumps(claims, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_token_round_trips_its_principal(tokens: JwtTokens) -> None:
    token, lifetime = tokens.issue(ALICE)
    assert lifetime == TOKEN_LIFETIME_S
    assert tokens.verify(token) == ALICE


@pytest.mark.parametrize("role", list(Role))
def test_every_role_survives_the_round_trip(tokens: JwtTokens, role: Role) -> None:
    token, _ = tokens.issue(Principal("d-7", role))
    assert tokens.verify(token) == Principal("d-7", role)


def test_a_token_expires_after_its_lifetime_by_the_injected_clock(
    tokens: JwtTokens, clock: FakeClock
) -> None:
    issued_at = clock.now()
    token, _ = tokens.issue(ALICE)
    claims = claims_of(token)
    assert claims["exp"] == int(issued_at.timestamp()) + TOKEN_LIFETIME_S
    clock.advance(TOKEN_LIFETIME_S - 1)
    assert tokens.verify(token) == ALICE
    clock.advance(60)
    with pytest.raises(Unauthenticated, match="expired"):
        tokens.verify(token)


async def test_an_expired_sign_in_token_no_longer_proves_the_account(
    accounts: AccountService, clock: FakeClock
) -> None:
    await accounts.register("alice@example.com", "correct horse battery")
    issued = await accounts.sign_in("alice@example.com", "correct horse battery", "192.0.2.1")
    clock.advance(issued.expires_in + 10)
    with pytest.raises(Unauthenticated):
        await accounts.authenticate(issued.access_token)


def test_a_tampered_token_is_refused(tokens: JwtTokens) -> None:
    token, _ = tokens.issue(ALICE)
    assert tokens.verify(token) == ALICE  # the genuine one, verified (and remembered) first
    header, _, signature = token.split(".")
    promoted = reencode(claims_of(token) | {"role": Role.ADMIN.value})
    with pytest.raises(Unauthenticated, match="not valid"):
        tokens.verify(f"{header}.{promoted}.{signature}")


def test_a_token_with_a_damaged_signature_is_refused(tokens: JwtTokens) -> None:
    token, _ = tokens.issue(ALICE)
    assert tokens.verify(token) == ALICE
    last = "A" if token[-2] != "A" else "B"
    with pytest.raises(Unauthenticated):
        tokens.verify(token[:-2] + last + token[-1])


def test_a_token_signed_with_another_secret_is_refused(tokens: JwtTokens, clock: FakeClock) -> None:
    other = JwtTokens("another-secret-of-at-least-32-characters!", TOKEN_LIFETIME_S, clock)
    token, _ = other.issue(ALICE)
    with pytest.raises(Unauthenticated, match="not valid"):
        tokens.verify(token)


def test_an_unsigned_token_is_refused(tokens: JwtTokens) -> None:
    token, _ = tokens.issue(ALICE)
    _, payload, _ = token.split(".")
    none_header = reencode({"alg": "none", "typ": "JWT"})
    with pytest.raises(Unauthenticated):
        tokens.verify(f"{none_header}.{payload}.")


@pytest.mark.parametrize("garbage", ["", "not-a-token", "a.b.c", "Bearer x.y.z"])
def test_garbage_is_refused(tokens: JwtTokens, garbage: str) -> None:
    with pytest.raises(Unauthenticated):
        tokens.verify(garbage)


def test_a_token_with_an_unknown_role_is_refused(clock: FakeClock) -> None:
    import jwt

    now = int(clock.now().timestamp())
    forged = jwt.encode(
        {
            "sub": "d-1",
            "role": "superuser",
            "iss": "voltbook",
            "aud": "voltbook-api",
            "iat": now,
            "exp": now + 60,
        },
        SECRET,
        algorithm="HS256",
    )
    with pytest.raises(Unauthenticated):
        JwtTokens(SECRET, TOKEN_LIFETIME_S, clock).verify(forged)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 characters"):
        JwtTokens("too-short", TOKEN_LIFETIME_S, FakeClock())


def test_a_fresh_token_is_accepted_at_any_injected_time() -> None:
    clock = FakeClock(datetime(2024, 1, 15, 8, 0, tzinfo=UTC))
    tokens = JwtTokens(SECRET, TOKEN_LIFETIME_S, clock)
    token, _ = tokens.issue(ALICE)
    assert tokens.verify(token) == ALICE
