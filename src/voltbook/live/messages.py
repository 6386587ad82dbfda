"""Reading the app's messages: one JSON object each, with a string type; a bad one is a
`BadMessage` the channel answers with an `error` message (the socket stays open)."""

from __future__ import annotations

import math
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from voltbook.core import bounded, json_text
from voltbook.core.json_text import JsonRefused

MAX_MESSAGE_CHARS = 8_192


class BadMessage(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


async def receive_text(socket: WebSocket) -> str:
    """The next text message; a binary one is a BadMessage, a close is WebSocketDisconnect."""
    message = await socket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    if text is None:
        raise BadMessage("invalid-message", "messages are JSON text, not binary")
    return str(text)


def decode(text: str) -> dict[str, Any]:
    if len(text) > MAX_MESSAGE_CHARS:
        raise BadMessage("too-large", f"a message has at most {MAX_MESSAGE_CHARS} characters")
    try:
        message = json_text.loads(text)  # the server's one reader of client JSON
    except JsonRefused as refused:
        raise BadMessage(
            "invalid-json", f"a message is one JSON object: {refused.detail}"
        ) from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise BadMessage("invalid-message", "a message is a JSON object with a string type")
    message_id = message.get("id")
    if message_id is not None and not isinstance(message_id, (str, int)):
        raise BadMessage("invalid-message", "id is a string or an integer")
    return message


def error_message(message_id: object, code: str, detail: str) -> dict[str, Any]:
    return {"type": "error", "id": message_id, "code": code, "detail": detail}


def text_field(message: dict[str, Any], key: str) -> str:
    value = message.get(key)
    if not isinstance(value, str) or not value or len(value) > 200:
        raise BadMessage("invalid-message", f"{key} is a non-empty string")
    return value


def number_field(
    message: dict[str, Any], key: str, low: float, high: float, *, required: bool = True
) -> float | None:
    value = message.get(key)
    if value is None and not required:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise BadMessage("invalid-message", f"{key} is a number from {low:g} to {high:g}")
    return float(value)


def required_number(message: dict[str, Any], key: str, low: float, high: float) -> float:
    value = number_field(message, key, low, high)
    assert value is not None
    return value


def int_or_none(value: object) -> int | None:
    """A notice sequence number (an integer, or ASCII digits in a query string) or None."""
    return (
        bounded.integer(value, 0) if not isinstance(value, str) else bounded.integer_text(value, 0)
    )
