"""Base of every request body: text must be real Unicode.

JSON may carry lone surrogates ("\\ud800"); Python accepts them in a str, but nothing can
encode them to UTF-8 (not the database, not argon2, not a WebSocket). Refusing them here turns
a later crash into a clear 422. Fields that are stored have patterns that keep out control
characters such as NUL, which PostgreSQL cannot store.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, field_validator


def _check(value: Any) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    elif isinstance(value, list | tuple):
        for item in value:
            _check(item)


class Input(BaseModel):
    @field_validator("*", mode="after")
    @classmethod
    def _valid_unicode(cls, value: Any) -> Any:
        _check(value)
        return value
