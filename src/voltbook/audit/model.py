"""The audit log: one entry per operator action (docs/adr/0026)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from voltbook.core.redaction import redact

MAX_TEXT = 2_000  # characters of a request or an answer kept in an entry
MAX_OUTCOME = 200


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what, when, to which target, and what came of it: the HTTP status and, for a
    command, the station's status word and its whole answer (secrets taken out)."""

    at: datetime | None  # None until kept: the service stamps it
    actor_id: str
    actor_role: str
    action: str  # "POST /api/v1/operator/stations/{station_id}/commands/reset"
    target: str  # the path's parameters: "station_id=BOS-1"
    station_id: str | None
    status_code: int
    outcome: str | None = None  # the station's status word, or the problem's title
    request: str | None = None  # the request body, secrets taken out, cut to MAX_TEXT
    answer: str | None = None  # the answer body, secrets taken out, cut to MAX_TEXT
    id: int | None = None
    actor_email: str | None = None  # read with the entry; None once the account is gone


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor_id: str | None = None
    station_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def storable(text: str) -> str:
    """Text both databases store: no NUL, no lone surrogate (each becomes '?')."""
    return text.replace("\x00", "?").encode("utf-8", "replace").decode("utf-8")


def clean_text(raw: bytes) -> str | None:
    """A JSON body as text with every secret replaced (passwords, AuthorizationKey, …), cut
    to MAX_TEXT; None for an empty body; a body that is not JSON is not kept."""
    if not raw:
        return None
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return clean_value(parsed)


def clean_value(value: Any) -> str:
    """A value as JSON text with every secret replaced, cut to MAX_TEXT (what an entry keeps
    of a request or an answer)."""
    cleaned, _ = redact(value)
    return storable(
        json.dumps(cleaned, separators=(",", ":"), ensure_ascii=False, default=str)[:MAX_TEXT]
    )


def outcome_of(status_code: int, raw: bytes) -> str | None:
    """What came of it, in a word: the station's status word when the answer carries one,
    else the problem's title for a refusal."""
    try:
        body: Any = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict):
        return None
    word = body.get("status") if status_code < 400 else body.get("title")
    return storable(str(word)[:MAX_OUTCOME]) if isinstance(word, str | int) else None
