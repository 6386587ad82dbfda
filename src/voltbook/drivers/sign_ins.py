"""Sign-ins (token families): what a refresh token and an access token stand for.

One sign-in (password accepted) starts a family. Its access tokens are short-lived and name
the family; its refresh token is opaque, used once, and replaced by a new one on each use.
Presenting a used refresh token again means two parties hold it: the family ends.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from voltbook.drivers.model import Role

REFRESH_TOKEN_BYTES = 32


def new_refresh_token() -> str:
    """An opaque, unguessable refresh token (256 random bits)."""
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def refresh_token_hash(token: str) -> str:
    """What is stored of a refresh token. A plain digest is enough for 256 random bits: there
    is nothing to guess, so a slow hash would only slow every refresh down."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class SignIn:
    id: str
    driver_id: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    """A stored refresh token (by its hash) and the sign-in it belongs to."""

    token_hash: str
    sign_in_id: str
    driver_id: str
    expires_at: datetime
    used_at: datetime | None
    revoked: bool  # the sign-in has ended


@dataclass(frozen=True, slots=True)
class Standing:
    """What a request is checked against: the account as stored and its sign-in's state."""

    driver_id: str
    role: Role
    blocked: bool
    deleted: bool
    revoked: bool

    @property
    def active(self) -> bool:
        return not (self.blocked or self.deleted or self.revoked)
