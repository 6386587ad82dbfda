"""Base of every request body: no unknown fields, text that is real Unicode without NUL,
integers and times within what storage and `datetime` take (`core.bounded`).

JSON may carry lone surrogates ("\\ud800"); Python accepts them in a str, but nothing can
encode them to UTF-8 (not the database, not argon2, not a WebSocket). Refusing them here turns
a later crash into a clear 422. Fields that are stored have patterns that keep out control
characters such as NUL, which PostgreSQL cannot store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from voltbook.core import bounded, json_text


def _check(value: Any) -> None:
    if isinstance(value, str):
        problem = json_text.text_problem(value)
        if problem is not None:
            raise ValueError(problem)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if bounded.integer(value) is None:
            raise ValueError(f"integers lie between {bounded.MIN_INT} and {bounded.MAX_INT}")
    elif isinstance(value, datetime):
        if value.tzinfo is not None and not bounded.in_range(value):
            raise ValueError("times lie between the years 2 and 9997")
    elif isinstance(value, list | tuple):
        for item in value:
            _check(item)


def _document_refusals(schema: dict[str, Any]) -> None:
    """Say in the OpenAPI document what is refused: a text field (or list item) without a
    pattern of its own gets one that keeps out NUL (fields with a pattern keep out control
    characters); a time, one that keeps out the years 1, 9998 and 9999; an integer without
    bounds of its own, the bounds storage takes."""
    pending = list(schema.get("properties", {}).values())
    while pending:
        option = pending.pop()
        pending.extend(option.get("anyOf", []))
        if isinstance(option.get("items"), dict):
            pending.append(option["items"])
        if option.get("type") == "integer":
            option.setdefault("minimum", bounded.MIN_INT)
            option.setdefault("maximum", bounded.MAX_INT)
            continue
        if option.get("type") != "string" or "pattern" in option:
            continue
        if option.get("format") == "date-time":
            option["pattern"] = bounded.YEARS_PATTERN
        elif "format" not in option:
            option["pattern"] = "^[^\\u0000]*$"


class Input(BaseModel):
    """Unknown fields are refused: a misspelt field must not let a command run without it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_document_refusals)

    @field_validator("*", mode="after")
    @classmethod
    def _valid_input(cls, value: Any) -> Any:
        _check(value)
        return value
