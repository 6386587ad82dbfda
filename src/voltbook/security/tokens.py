"""Signed JWT access tokens (HS256): the account and the sign-in they belong to."""

from __future__ import annotations

from datetime import timedelta

import jwt

from voltbook.core.clock import Clock
from voltbook.core.errors import Unauthenticated
from voltbook.drivers.model import Principal, Role

_ISSUER = "voltbook"
_AUDIENCE = "voltbook-api"
_REMEMBERED = 10_000  # verified tokens kept, so an app's every request is not re-verified


class JwtTokens:
    def __init__(self, secret: str, lifetime_s: int, clock: Clock) -> None:
        if len(secret) < 32:
            raise ValueError("the token secret must have at least 32 characters")
        self._secret = secret
        self._lifetime = lifetime_s
        self._clock = clock
        # token -> (who, expiry): a token is the same signed text on every request of an
        # app, and checking its signature and claims costs more than the rest of a request.
        # Only tokens that passed are kept; the expiry is checked on every use.
        self._verified: dict[str, tuple[Principal, float]] = {}

    def issue(self, principal: Principal) -> tuple[str, int]:
        now = self._clock.now()
        claims = {
            "sub": principal.driver_id,
            "sid": principal.sign_in_id,
            # Informational only: every request reads the role from storage.
            "role": principal.role.value,
            "iss": _ISSUER,
            "aud": _AUDIENCE,
            "iat": now,
            "exp": now + timedelta(seconds=self._lifetime),
        }
        return jwt.encode(claims, self._secret, algorithm="HS256"), self._lifetime

    def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is None:
            known = self._check(token)
            if len(self._verified) >= _REMEMBERED:
                del self._verified[next(iter(self._verified))]  # the oldest goes
            self._verified[token] = known
        principal, expires = known
        if expires < self._clock.now().timestamp() - 5:
            raise Unauthenticated("the token has expired")
        return principal

    def _check(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=_AUDIENCE,
                issuer=_ISSUER,
                # Expiry is checked against the injected clock below, not the system's.
                options={
                    "require": ["sub", "sid", "exp", "iat", "role"],
                    "verify_iat": False,
                    "verify_exp": False,
                },
            )
            return (
                Principal(
                    driver_id=str(claims["sub"]),
                    role=Role(claims["role"]),
                    sign_in_id=str(claims["sid"]),
                ),
                float(claims["exp"]),
            )
        except (jwt.PyJWTError, ValueError, KeyError) as error:
            raise Unauthenticated("the token is not valid") from error
