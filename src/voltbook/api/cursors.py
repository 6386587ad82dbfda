"""Opaque pagination cursors: clients pass back what they were given, nothing more."""

from __future__ import annotations

import base64
import binascii

from voltbook.core import bounded
from voltbook.core.errors import InvalidInput


def encode_cursor(value: str | int) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text:
        raise InvalidInput("the cursor is not one this server gave out")
    return text


def decode_int_cursor(cursor: str | None) -> int | None:
    text = decode_cursor(cursor)
    if text is None:
        return None
    value = bounded.integer_text(text, 0)
    if value is None:
        raise InvalidInput("the cursor is not one this server gave out")
    return value
