"""Numbers and instants as clients send them, refused at the edge unless storage and
`datetime` arithmetic can take them: the one place that says what "an integer" and "a time"
a client may send are, used by every reader (HTTP bodies, query parameters, cursors, the
live channel).

- Integers fit a signed 32-bit column (every id and count voltbook stores does).
- Integers in text are ASCII digits only: `str.isdigit` also accepts "²" and Arabic-Indic
  digits, which `int()` refuses or reads as another number.
- Instants carry an offset and are written in the years 2 to 9997, so that converting to UTC
  (an offset is under a day) and adding or taking months never leaves what `datetime` holds
  (years 1 to 9999).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from voltbook.core.errors import InvalidInput

MAX_INT = 2**31 - 1
MIN_INT = -(2**31)
FIRST_YEAR, LAST_YEAR = 2, 9997
# What the OpenAPI document says of every date-time field (the same rule as `in_range`).
YEARS_PATTERN = r"^(?!0001-|999[89]-)"
_DIGITS = re.compile(r"-?[0-9]{1,10}", re.ASCII)


def integer(value: object, low: int = MIN_INT, high: int = MAX_INT) -> int | None:
    """`value` if it is an integer (not a bool) within [low, high], else None."""
    if type(value) is int and low <= value <= high:
        return value
    return None


def integer_text(text: object, low: int = MIN_INT, high: int = MAX_INT) -> int | None:
    """The integer an ASCII-digit string spells, if within [low, high], else None."""
    if isinstance(text, str) and _DIGITS.fullmatch(text):
        return integer(int(text), low, high)
    return None


def in_range(value: datetime) -> bool:
    """True for an instant with an offset whose year (as written) is 2 to 9997."""
    if value.tzinfo is None or value.utcoffset() is None:
        return False
    return FIRST_YEAR <= value.year <= LAST_YEAR


def instant(value: datetime, name: str = "time", *, naive_is_utc: bool = False) -> datetime:
    """`value` in UTC, or InvalidInput when it has no offset (unless `naive_is_utc`) or lies
    outside the years voltbook takes."""
    if value.tzinfo is None and naive_is_utc:
        value = value.replace(tzinfo=UTC)
    if value.tzinfo is None:
        raise InvalidInput(f"{name} must carry a time zone offset")
    if not in_range(value):
        raise InvalidInput(f"{name} must lie between the years 2 and 9997")
    return value.astimezone(UTC)
