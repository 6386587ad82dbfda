"""Id tokens as plain data: a card's or app token's standing, and the changes an operator makes."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from voltbook.core.errors import Conflict, InvalidInput

# OCPP 2.0.1 idToken is identifierString[36]; 1.6 idTag is CiString20 (a 1.6 station can
# only be told about tokens of at most 20 characters: see `ListLimits.max_token_length`).
# Tokens end up in URLs: unreserved characters and a few more (card UIDs are hex, contract
# ids like DE-ABC-C12345678-X).
TOKEN_PATTERN = r"^[A-Za-z0-9._~:*+|@#=-]{1,36}$"  # noqa: S105 - a format, not a secret
_TOKEN = re.compile(TOKEN_PATTERN)


class TokenKind(StrEnum):
    RFID = "rfid"
    APP = "app"  # the driver app's own token, shown by RemoteStart or a reservation


class Standing(StrEnum):
    """What a station is told about a token (OCPP's AuthorizationStatus names)."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"


@dataclass(frozen=True, slots=True)
class TokenChange:
    """A change of a token that stations' lists (and, for a block, their caches) must
    follow; kept with the change until a server carries it out."""

    token: str
    blocked: bool  # this change blocked the token
    at: datetime


@dataclass(frozen=True, slots=True)
class IdToken:
    token: str
    kind: TokenKind
    blocked: bool
    created_at: datetime
    driver_id: str | None = None
    expires_at: datetime | None = None

    def standing(self, now: datetime) -> Standing:
        """Blocked wins over expired; a token past its expiry is Expired until renewed."""
        if self.blocked:
            return Standing.BLOCKED
        if self.expires_at is not None and self.expires_at <= now:
            return Standing.EXPIRED
        return Standing.ACCEPTED

    def block(self) -> IdToken:
        if self.blocked:
            raise Conflict(f"id token {self.token} is blocked already")
        return replace(self, blocked=True)

    def unblock(self) -> IdToken:
        if not self.blocked:
            raise Conflict(f"id token {self.token} is not blocked")
        return replace(self, blocked=False)

    def expire(self, at: datetime) -> IdToken:
        """Expires at `at` (now, or a date to come); a later call moves the date."""
        return replace(self, expires_at=at)

    def renew(self) -> IdToken:
        return replace(self, expires_at=None)

    def assign(self, driver_id: str | None) -> IdToken:
        return replace(self, driver_id=driver_id)


def check_token(token: str) -> None:
    if not _TOKEN.match(token):
        raise InvalidInput("an id token has 1 to 36 letters, digits or ._~:*+|@#=-")


@dataclass(frozen=True, slots=True)
class TokenFilter:
    """Which tokens a listing shows; None matches all."""

    standing: Standing | None = None
    kind: TokenKind | None = None
    driver_id: str | None = None
    prefix: str | None = None
