"""The one reader of JSON that clients send (HTTP bodies, the booking fast lane, the live
channel, OCPP frames), so that every reader refuses the same things the same way:

- nesting deeper than `MAX_DEPTH` (Python's parser would recurse into a RecursionError, and
  whatever walks the value next might too);
- NaN and Infinity, which are not JSON;
- text that is not valid Unicode: a lone surrogate ("\\ud800") that JSON escapes allow but
  nothing can encode to UTF-8, and NUL, which PostgreSQL cannot store in text (refused here,
  so SQLite and PostgreSQL behave alike).

Each check costs a scan in C (str.count, a regular expression) unless the text could fail it.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32
# A JSON string token, or an opening or closing bracket outside one.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
# Escapes that may decode to a lone surrogate or to NUL.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:[dD][89a-fA-F][0-9a-fA-F]{2}|0000)")


class JsonRefused(ValueError):
    """Text that is not JSON a client may send; `reason` is one of syntax, depth, text."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def loads(raw: str | bytes, *, max_depth: int = MAX_DEPTH, check_text: bool = True) -> Any:
    """The value of a JSON text, or JsonRefused. `check_text=False` leaves the text check to
    the caller (`text_problem`), which may want to read parts of the value first."""
    if isinstance(raw, bytes | bytearray):
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise JsonRefused("syntax", "the body is not UTF-8 text") from None
    else:
        text = raw
    check_depth(text, max_depth)
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise JsonRefused("depth", f"JSON nested deeper than {max_depth} levels") from None
    except ValueError as error:
        raise JsonRefused("syntax", f"not valid JSON: {str(error)[:80]}") from None
    if check_text and ("\x00" in text or _SUSPECT_ESCAPE.search(text)):
        problem = text_problem(value)
        if problem is not None:
            raise JsonRefused("text", problem)
    return value


def check_depth(text: str, max_depth: int = MAX_DEPTH) -> None:
    """JsonRefused when brackets outside strings nest deeper than `max_depth`."""
    if text.count("[") + text.count("{") <= max_depth:
        return  # cannot nest deeper than it has brackets
    depth = 0
    for token in _TOKENS.finditer(text):
        mark = token.group()
        if mark in "[{":
            depth += 1
            if depth > max_depth:
                raise JsonRefused("depth", f"JSON nested deeper than {max_depth} levels")
        elif mark in "]}":
            depth -= 1


def text_problem(value: Any) -> str | None:
    """What is wrong with the text in a decoded JSON value (keys included), or None."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            problem = _string_problem(item)
            if problem is not None:
                return problem
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


def _string_problem(text: str) -> str | None:
    if "\x00" in text:
        return "text must not contain NUL characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text must be valid Unicode (no lone surrogates)"
    return None


def _reject_constant(name: str) -> Any:
    # JSON proper has no NaN/Infinity; Python's json accepts them unless told otherwise.
    raise ValueError(f"{name} is not valid JSON")
