"""Every request body passes here before any route or fast lane sees it.

- A body over its route's size limit is refused with 413 problem+json, before it is read
  further (at once when Content-Length says so).
- A JSON body goes through the server's one JSON reader (`core.json_text`): nesting too deep,
  NaN, lone surrogates and NUL are refused with 422 problem+json, so that no route, model or
  database ever sees them.
- A query string whose values are not UTF-8 text without NUL is refused with 422
  problem+json (PostgreSQL cannot store NUL, and no route should have to check).
What passes is handed on with its body replayed, unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voltbook.api.problems import problem_response
from voltbook.core import json_text
from voltbook.core.json_text import JsonRefused

DEFAULT_LIMIT = 65_536
# An oversized body is read on (and dropped) up to this much before the 413 goes out: a
# client still sending when the server closes sees a broken connection, not the answer.
DRAIN_LIMIT = 32 * 1024 * 1024
# Per path prefix; settings add to or override these. A booking is a few hundred bytes and
# a sign-in less; the fast lane reads a booking whole, so its cap is this guard's.
DEFAULT_LIMITS = {"/api/v1/reservations": 16_384, "/api/v1/auth": 4_096}
_WITH_BODY = {"POST", "PUT", "PATCH", "DELETE"}


class BodyGuard:
    def __init__(
        self, app: ASGIApp, limit: int = DEFAULT_LIMIT, limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.limit = limit
        # Longest prefix first: "/api/v1/reservations" before "/api/v1".
        merged = DEFAULT_LIMITS | dict(limits or {})
        self.limits = sorted(merged.items(), key=lambda item: -len(item[0]))

    def limit_for(self, path: str) -> int:
        return next((size for prefix, size in self.limits if path.startswith(prefix)), self.limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = query_problem(scope.get("query_string", b""))
            if problem is not None:
                await problem_response(422, "invalid-query", problem, instance=scope["path"])(
                    scope, receive, send
                )
                return
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.limit_for(path)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(scope, receive, send, limit, declared)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await _too_large(scope, receive, send, limit, None, message)
                return
            if not message.get("more_body", False):
                break
        if _is_json(scope) and size:
            try:
                json_text.loads(b"".join(m.get("body", b"") for m in messages))
            except JsonRefused as refused:
                await problem_response(
                    422, f"invalid-json-{refused.reason}", refused.detail, instance=path
                )(scope, receive, send)
                return
        await self.app(scope, _replay(messages, receive), send)


def query_problem(query_string: bytes) -> str | None:
    """What is wrong with a raw query string's decoded text, or None."""
    if b"%" not in query_string and all(32 <= b < 127 for b in query_string):
        return None  # the common case: plain ASCII, nothing encoded
    try:
        text = unquote_to_bytes(query_string.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return "query parameters are UTF-8 text"
    return json_text.text_problem(text)


async def _too_large(
    scope: Scope,
    receive: Receive,
    send: Send,
    limit: int,
    declared: int | None,
    last: Message | None = None,
) -> None:
    """413, after reading on and dropping what the client still sends (up to a point)."""
    drained = 0
    more = last.get("more_body", False) if last is not None else True
    if declared is None or declared <= DRAIN_LIMIT:
        while more and drained <= DRAIN_LIMIT:
            message = await receive()
            if message["type"] != "http.request":
                break
            drained += len(message.get("body", b""))
            more = message.get("more_body", False)
    response = problem_response(
        413,
        "body-too-large",
        f"a request body here has at most {limit} bytes",
        instance=scope["path"],
        headers={"Connection": "close"},  # the rest of the body is not read
    )
    await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            kind: str = value.decode("latin-1").partition(";")[0].strip().lower()
            return kind == "application/json" or kind.endswith("+json")
    return False


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
