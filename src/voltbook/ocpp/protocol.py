"""OCPP-J framing (RPC layer) shared by OCPP 1.6J and 2.0.1, and the CALLERROR code mapping.

A WebSocket text frame carries one JSON array: ``[2, id, action, payload]`` (CALL),
``[3, id, payload]`` (CALLRESULT) or ``[4, id, code, description, details]`` (CALLERROR).
The framing is identical in both versions; only the errorCode names differ, so errors are
raised as a version-neutral `ErrorKind` and turned into a code when the reply is encoded.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from enum import Enum, StrEnum, auto
from typing import Any, Final

from voltbook.core import json_text
from voltbook.core.json_text import JsonRefused


class Version(StrEnum):
    """OCPP versions spoken, valued as their WebSocket subprotocol names."""

    V16 = "ocpp1.6"
    V201 = "ocpp2.0.1"


class ErrorKind(Enum):
    """Version-neutral error kinds; `error_code` names them for a given version."""

    FORMAT = auto()
    RPC_FRAMEWORK = auto()
    MESSAGE_TYPE_NOT_SUPPORTED = auto()
    NOT_IMPLEMENTED = auto()
    NOT_SUPPORTED = auto()
    PROTOCOL = auto()
    OCCURRENCE = auto()
    TYPE = auto()
    PROPERTY = auto()
    SECURITY = auto()
    INTERNAL = auto()
    GENERIC = auto()


# OCPP-J 1.6 §4.2.3 has no RpcFrameworkError / MessageTypeNotSupported / FormatViolation:
# its closest code for any malformed frame is FormationViolation. The 1.6 spec also spells
# "Occurence" with one 'r' and stations compare codes literally, so we keep the typo.
_CODES: Final[dict[Version, dict[ErrorKind, str]]] = {
    Version.V16: {
        ErrorKind.FORMAT: "FormationViolation",
        ErrorKind.RPC_FRAMEWORK: "FormationViolation",
        ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED: "FormationViolation",
        ErrorKind.NOT_IMPLEMENTED: "NotImplemented",
        ErrorKind.NOT_SUPPORTED: "NotSupported",
        ErrorKind.PROTOCOL: "ProtocolError",
        ErrorKind.OCCURRENCE: "OccurenceConstraintViolation",
        ErrorKind.TYPE: "TypeConstraintViolation",
        ErrorKind.PROPERTY: "PropertyConstraintViolation",
        ErrorKind.SECURITY: "SecurityError",
        ErrorKind.INTERNAL: "InternalError",
        ErrorKind.GENERIC: "GenericError",
    },
    Version.V201: {
        ErrorKind.FORMAT: "FormatViolation",
        ErrorKind.RPC_FRAMEWORK: "RpcFrameworkError",
        ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED: "MessageTypeNotSupported",
        ErrorKind.NOT_IMPLEMENTED: "NotImplemented",
        ErrorKind.NOT_SUPPORTED: "NotSupported",
        ErrorKind.PROTOCOL: "ProtocolError",
        ErrorKind.OCCURRENCE: "OccurrenceConstraintViolation",
        ErrorKind.TYPE: "TypeConstraintViolation",
        ErrorKind.PROPERTY: "PropertyConstraintViolation",
        ErrorKind.SECURITY: "SecurityError",
        ErrorKind.INTERNAL: "InternalError",
        ErrorKind.GENERIC: "GenericError",
    },
}


def error_code(kind: ErrorKind, version: Version) -> str:
    """The CALLERROR errorCode string for `kind` in `version`."""
    return _CODES[version][kind]


class OcppError(Exception):
    """A failure to report to the station as a CALLERROR.

    `unique_id` is the message id to answer to when it is known (parse errors set it, or
    ``"-1"`` when the id could not be read, as OCPP 2.0.1 prescribes); schema validation
    leaves it ``None`` because the validator never sees the frame.
    """

    def __init__(
        self,
        kind: ErrorKind,
        description: str,
        unique_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.kind = kind
        self.description = description
        self.unique_id = unique_id
        self.details: dict[str, Any] = details if details is not None else {}

    def __repr__(self) -> str:
        return f"OcppError({self.kind.name}, {self.description!r}, unique_id={self.unique_id!r})"


CALL: Final = 2
CALLRESULT: Final = 3
CALLERROR: Final = 4

# Both versions cap the message id at 36 characters (room for a UUID).
_MAX_ID_LENGTH: Final = 36
_MAX_DESCRIPTION: Final = 255
_UNREADABLE_ID: Final = "-1"


@dataclass(frozen=True, slots=True)
class Call:
    """A request: ``[2, unique_id, action, payload]``."""

    unique_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallResult:
    """A successful answer: ``[3, unique_id, payload]``."""

    unique_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallError:
    """A failed answer: ``[4, unique_id, code, description, details]``."""

    unique_id: str
    code: str
    description: str
    details: dict[str, Any]


Frame = Call | CallResult | CallError


def _read_id(message: list[Any]) -> str | None:
    """The message id if it is a usable one, else None (then we answer to "-1")."""
    if len(message) < 2:
        return None
    unique_id = message[1]
    if isinstance(unique_id, str) and 0 < len(unique_id) <= _MAX_ID_LENGTH:
        return unique_id
    return None


def parse_frame(raw: str | bytes) -> Frame:
    """Parse one WebSocket text frame.

    Raises OcppError whose unique_id is the message id when it could be read, else "-1":
    unreadable JSON, not a non-empty array, a message type id that is not an integer or an
    unusable message id (missing, not a string, empty, longer than 36) -> RPC_FRAMEWORK;
    an unknown message type number -> MESSAGE_TYPE_NOT_SUPPORTED; a CALL, CALLRESULT or
    CALLERROR with the wrong shape -> FORMAT. A CALLERROR's details may be absent or null
    (some stations send that) and then read as {}.
    """
    try:
        # The server's one JSON reader: depth capped, NaN refused; text checked below.
        message = json_text.loads(raw, check_text=False)
    except JsonRefused as exc:
        raise OcppError(ErrorKind.RPC_FRAMEWORK, exc.detail, _UNREADABLE_ID) from exc
    if not isinstance(message, list) or not message:
        raise OcppError(
            ErrorKind.RPC_FRAMEWORK, "message is not a non-empty JSON array", _UNREADABLE_ID
        )

    unique_id = _read_id(message)
    reply_id = unique_id if unique_id is not None else _UNREADABLE_ID
    # Text that is not valid Unicode (a lone surrogate escape) or holds NUL: the frame is
    # answered (to "-1" when it is the id) and the connection kept; nothing of it goes on.
    problem = json_text.text_problem(message)
    if problem is not None:
        if unique_id is None or json_text.text_problem(unique_id) is not None:
            raise OcppError(ErrorKind.RPC_FRAMEWORK, f"message id: {problem}", _UNREADABLE_ID)
        if message[0] != CALL:  # never answered: the command that waits for it fails
            return CallError(unique_id, error_code(ErrorKind.FORMAT, Version.V16), problem, {})
        raise OcppError(ErrorKind.PROPERTY, problem, unique_id)
    message_type = message[0]
    # `type(...) is int` because bool is an int subclass and 2.0 is not a message type.
    if type(message_type) is not int:
        raise OcppError(ErrorKind.RPC_FRAMEWORK, "message type id is not an integer", reply_id)
    if message_type not in (CALL, CALLRESULT, CALLERROR):
        raise OcppError(
            ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED,
            f"message type {message_type} is not supported",
            reply_id,
        )
    if unique_id is None:
        raise OcppError(
            ErrorKind.RPC_FRAMEWORK,
            f"message id is missing, not a string or not 1 to {_MAX_ID_LENGTH} characters",
            _UNREADABLE_ID,
        )
    if message_type == CALL:
        return _parse_call(message, unique_id)
    if message_type == CALLRESULT:
        return _parse_result(message, unique_id)
    return _parse_error(message, unique_id)


def _parse_call(message: list[Any], unique_id: str) -> Call:
    if len(message) != 4:
        raise OcppError(
            ErrorKind.FORMAT, f"CALL must have 4 elements, not {len(message)}", unique_id
        )
    _, _, action, payload = message
    if not isinstance(action, str):
        raise OcppError(ErrorKind.FORMAT, "CALL action is not a string", unique_id)
    if not isinstance(payload, dict):
        raise OcppError(ErrorKind.FORMAT, "CALL payload is not a JSON object", unique_id)
    return Call(unique_id, action, payload)


def _parse_result(message: list[Any], unique_id: str) -> CallResult:
    if len(message) != 3:
        raise OcppError(
            ErrorKind.FORMAT, f"CALLRESULT must have 3 elements, not {len(message)}", unique_id
        )
    payload = message[2]
    if not isinstance(payload, dict):
        raise OcppError(ErrorKind.FORMAT, "CALLRESULT payload is not a JSON object", unique_id)
    return CallResult(unique_id, payload)


def _parse_error(message: list[Any], unique_id: str) -> CallError:
    if len(message) not in (4, 5):
        raise OcppError(
            ErrorKind.FORMAT, f"CALLERROR must have 5 elements, not {len(message)}", unique_id
        )
    code, description = message[2], message[3]
    details = message[4] if len(message) == 5 and message[4] is not None else {}
    if not isinstance(code, str) or not isinstance(description, str):
        raise OcppError(
            ErrorKind.FORMAT, "CALLERROR code and description must be strings", unique_id
        )
    if not isinstance(details, dict):
        raise OcppError(ErrorKind.FORMAT, "CALLERROR details is not a JSON object", unique_id)
    return CallError(unique_id, code, description, details)


def _dumps(message: list[Any]) -> str:
    # allow_nan=False: never emit NaN/Infinity, which other OCPP peers cannot parse.
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def new_unique_id() -> str:
    """The message id of a CALL of ours: 32 hexadecimal digits (of the 36 OCPP-J allows)."""
    return secrets.token_hex(16)


def encode_call(unique_id: str, action: str, payload: dict[str, Any]) -> str:
    """Encode a CALL frame."""
    return _dumps([CALL, unique_id, action, payload])


def encode_result(unique_id: str, payload: dict[str, Any]) -> str:
    """Encode a CALLRESULT frame."""
    return _dumps([CALLRESULT, unique_id, payload])


def encode_error(
    unique_id: str,
    kind: ErrorKind,
    version: Version,
    description: str,
    details: dict[str, Any] | None = None,
) -> str:
    """Encode a CALLERROR frame; the description is cut to the 255 characters OCPP allows."""
    return _dumps(
        [
            CALLERROR,
            unique_id,
            error_code(kind, version),
            description[:_MAX_DESCRIPTION],
            details if details is not None else {},
        ]
    )
