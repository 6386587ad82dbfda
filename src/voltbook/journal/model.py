"""Journal entries as plain data, made from raw OCPP frames with secrets taken out.

A frame is kept as the station or the server wrote it; only a frame that carries a secret
(a station password being set, a key a station reports) is rewritten, with the value
replaced. Frames are read only when written out in a batch, never on the path of the
message itself.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from voltbook.core.redaction import SECRET_WORDS, redact

MAX_TEXT = 65_536  # what a frame over the gateway's size cap would be cut to
# Frames handled between two turns of the event loop while a batch is prepared or written:
# a second's worth of frames of a busy server (10,000 and more) handled at once held every
# station's answer for tens of milliseconds.
FRAMES_PER_TURN = 1_000
_CALL, _RESULT, _ERROR = 2, 3, 4
# The head of a well-formed frame: [type, "unique id", "Action" (calls only) …
_HEAD = re.compile(r'\[\s*([234])\s*,\s*"([^"\\]{1,64})"\s*,\s*(?:"([A-Za-z0-9]{1,64})"\s*,)?')


def _may_hold_secret(text: str) -> bool:
    """Whether a frame must be parsed to look for secrets: it names one of the secret words
    in any case, or spells something with a JSON escape (which could hide such a word).
    Case-folded substring tests, not a case-insensitive regular expression: that cost 11 µs
    of a MeterValues frame, most of what journalling a frame cost (docs/benchmarks.md)."""
    if "\\u" in text:
        return True
    folded = text.casefold()
    return any(word in folded for word in SECRET_WORDS)


class Direction(StrEnum):
    IN = "in"  # from the station
    OUT = "out"  # to the station


class Kind(StrEnum):
    CALL = "call"
    RESULT = "result"
    ERROR = "error"
    INVALID = "invalid"  # not an OCPP frame at all


@dataclass(frozen=True, slots=True)
class Frame:
    """A frame as it went over the wire, and when."""

    station_id: str
    direction: Direction
    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class JournalEntry:
    station_id: str
    direction: Direction
    at: datetime
    kind: Kind
    unique_id: str | None
    action: str | None
    text: str
    id: int | None = None


def entry_of(frame: Frame, actions: dict[str, str]) -> JournalEntry:
    """The journal entry of a frame. `actions` maps the unique ids of calls seen so far to
    their action, so an answer is journalled with the action it answers (it is updated).

    Most frames are read by a regular expression of their head, not parsed: only a frame
    that may hold a secret, or one the expression does not read, is parsed as JSON."""
    head = _HEAD.match(frame.text)
    if head is not None:
        kind_number, unique_id, action = int(head[1]), head[2], head[3]
    else:
        message = _parsed(frame.text)
        if message is None:
            return JournalEntry(
                frame.station_id, frame.direction, frame.at, Kind.INVALID, None, None,
                _cut(frame.text),
            )  # fmt: skip
        kind_number, unique_id = message[0], str(message[1])[:64]
        action = str(message[2])[:64] if message[0] == _CALL and len(message) > 3 else None
    if kind_number == _CALL:
        if action is not None:
            actions[f"{frame.direction.value}:{unique_id}"] = action
        kind = Kind.CALL
    else:
        # An answer goes the other way from its call.
        asked = Direction.OUT if frame.direction is Direction.IN else Direction.IN
        action = actions.pop(f"{asked.value}:{unique_id}", None)
        kind = Kind.RESULT if kind_number == _RESULT else Kind.ERROR
    text = frame.text
    if _may_hold_secret(text):
        parsed = _parsed(text)
        cleaned, changed = redact(parsed) if parsed is not None else (None, False)
        if changed:
            text = json.dumps(cleaned, separators=(",", ":"))
    return JournalEntry(
        frame.station_id, frame.direction, frame.at, kind, unique_id, action, _cut(text)
    )


def _parsed(text: str) -> list[Any] | None:
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, list) or len(message) < 3 or message[0] not in (2, 3, 4):
        return None
    return message


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT]
