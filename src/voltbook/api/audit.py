"""Every operator action leaves an entry in the audit log (docs/adr/0026), from one place:
this ASGI middleware, around every route, new ones included.

An action is a write request (POST, PUT, PATCH, DELETE) by a staff account (operator or
admin): `current_principal` marks the request's state with it, and only such requests are
kept, on the operator routes and on the shared ones (an operator cancelling a booking).
The entry names the operator, the route (its method and path template),
the path's parameters, the station concerned, the request body and the answer with secrets
taken out, the HTTP status and, for a command, the station's own status word. It is written
before the answer's last byte leaves, so an operator who has the answer finds the entry.
A refusal (4xx) is kept too: it was an attempt.
"""

from __future__ import annotations

import json
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voltbook.audit.model import AuditEntry, clean_text, outcome_of, storable
from voltbook.drivers.model import Principal

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STAFF = "voltbook_staff"  # the key current_principal sets in the request's state
_KEEP = 16_384  # bytes of a body looked at (what is kept is cut to 2,000 characters)
_log = structlog.get_logger("voltbook.audit")


def mark_staff(state: dict[str, Any], principal: Principal) -> None:
    state[STAFF] = principal


class AuditTrail:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES:
            await self.app(scope, receive, send)
            return
        asked = bytearray()
        answered = bytearray()
        status = 500
        kept = False
        staff = False  # known once the routes ran: only then is the answer looked at

        async def receive_noted() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(asked) < _KEEP:
                asked.extend(message.get("body", b"")[: _KEEP - len(asked)])
            return message

        async def send_noted(message: Message) -> None:
            nonlocal status, kept, staff
            if message["type"] == "http.response.start":
                status = int(message["status"])
                staff = STAFF in (scope.get("state") or {})
            elif message["type"] == "http.response.body" and staff:
                if len(answered) < _KEEP:
                    answered.extend(message.get("body", b"")[: _KEEP - len(answered)])
                if not message.get("more_body", False) and not kept:
                    kept = True
                    await self._keep(scope, status, bytes(asked), bytes(answered))
            await send(message)

        try:
            await self.app(scope, receive_noted, send_noted)
        except Exception:
            if not kept:
                kept = True
                await self._keep(scope, 500, bytes(asked), b"")
            raise

    async def _keep(self, scope: Scope, status: int, asked: bytes, answered: bytes) -> None:
        principal = (scope.get("state") or {}).get(STAFF)
        if not isinstance(principal, Principal):
            return  # not an operator's action (or refused before the operator was known)
        route = scope.get("route")
        template = getattr(route, "path", None) or scope["path"]
        params: dict[str, Any] = scope.get("path_params") or {}
        entry = AuditEntry(
            at=None,
            actor_id=principal.driver_id,
            actor_role=principal.role.value,
            action=storable(f"{scope['method']} {template}"),
            target=storable(", ".join(f"{k}={v}" for k, v in params.items())),
            station_id=_station(params, asked, answered),
            status_code=status,
            outcome=outcome_of(status, answered),
            request=clean_text(asked),
            answer=clean_text(answered),
        )
        try:
            await scope["app"].state.services.audit.record(entry)
        except Exception as error:  # the action is done; a lost entry must be loud, not a 500
            _log.error("audit entry lost", action=entry.action, error=type(error).__name__)


def _station(params: dict[str, Any], asked: bytes, answered: bytes) -> str | None:
    """The station concerned: the path's, else the one the request or its answer names."""
    if isinstance(params.get("station_id"), str):
        return storable(str(params["station_id"]))[:48]
    for raw in (asked, answered):
        try:
            body = json.loads(raw) if raw else None
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(body, dict) and isinstance(body.get("station_id"), str):
            return storable(str(body["station_id"]))[:48]
    return None
