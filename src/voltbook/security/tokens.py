"""Signed JWT bearer tokens (HS256)."""

from __future__ import annotations

from datetime import timedelta

import jwt

from voltbook.core.clock import Clock
from voltbook.core.errors import Unauthenticated
from voltbook.drivers.model import Principal, Role

_ISSUER = "voltbook"
_AUDIENCE = "voltbook-api"


class JwtTokens:
    def __init__(self, secret: str, lifetime_s: int, clock: Clock) -> None:
        if len(secret) < 32:
            raise ValueError("the token secret must have at least 32 characters")
        self._secret = secret
        self._lifetime = lifetime_s
        self._clock = clock

    def issue(self, principal: Principal) -> tuple[str, int]:
        now = self._clock.now()
        claims = {
            "sub": principal.driver_id,
            "role": principal.role.value,
            "iss": _ISSUER,
            "aud": _AUDIENCE,
            "iat": now,
            "exp": now + timedelta(seconds=self._lifetime),
        }
        return jwt.encode(claims, self._secret, algorithm="HS256"), self._lifetime

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=_AUDIENCE,
                issuer=_ISSUER,
                # Expiry is checked against the injected clock below, not the system's.
                options={
                    "require": ["sub", "exp", "iat", "role"],
                    "verify_iat": False,
                    "verify_exp": False,
                },
            )
            if claims["exp"] < self._clock.now().timestamp() - 5:
                raise Unauthenticated("the token has expired")
            return Principal(driver_id=str(claims["sub"]), role=Role(claims["role"]))
        except (jwt.PyJWTError, ValueError, KeyError) as error:
            raise Unauthenticated("the token is not valid") from error
