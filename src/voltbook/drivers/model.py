"""Accounts and vehicles as plain data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from voltbook.core.errors import InvalidInput

MIN_PASSWORD = 10
MAX_PASSWORD = 256  # hashing is deliberately slow; an endless password must not be
# No spaces or control characters, spelled out so that JSON Schema (ECMA) and Python regex
# engines, which disagree on what \s covers, accept the same addresses.
_ADDRESS_CHAR = r"[^@\s\x00-\x1f\x7f-\x9f]"
EMAIL_PATTERN = rf"^{_ADDRESS_CHAR}{{1,64}}@{_ADDRESS_CHAR}+\.{_ADDRESS_CHAR}{{2,}}$"
_EMAIL = re.compile(EMAIL_PATTERN)


class Role(StrEnum):
    DRIVER = "driver"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def is_staff(self) -> bool:
        return self is not Role.DRIVER


@dataclass(frozen=True, slots=True)
class Driver:
    id: str
    email: str
    password_hash: str
    role: Role
    created_at: datetime
    consent_location: bool = False
    consent_offers: bool = False
    quiet_hours: str | None = None  # "22:00-07:00", in the driver's local time
    time_zone: str | None = None  # IANA name, e.g. "America/New_York"
    blocked: bool = False  # an operator stopped the account; it cannot sign in or act


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the account a token proves, its sign-in, and its role as stored now."""

    driver_id: str
    role: Role
    sign_in_id: str = ""


def normalize_email(raw: str) -> str:
    """Lower-case, trimmed e-mail address, or InvalidInput."""
    email = raw.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidInput("email is not a valid e-mail address")
    return email


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"password must have at most {MAX_PASSWORD} characters")


# How far ahead of the server's clock an app's report may be stamped (phones drift).
MAX_CLOCK_SKEW = timedelta(minutes=5)


def reported_at(at: datetime | None, now: datetime) -> datetime:
    """When an app's report was taken: `at` (with an offset, not in the future) or now."""
    when = now if at is None else at
    if when.tzinfo is None:
        raise InvalidInput("at must carry a time zone offset")
    if when > now + MAX_CLOCK_SKEW:
        raise InvalidInput("at lies in the future")
    return when
