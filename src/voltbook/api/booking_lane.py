"""`POST /api/v1/reservations` answered without FastAPI's routing and dependency solving.

Booking is the busiest write, and FastAPI spent about a fifth of the server's CPU on each
booking before the use case began (see `fast_lane`, which does the same for the nearby
search). A plain request is one with a bearer token that verifies, a JSON body that
`ReservationIn` (the very model the route declares) accepts, and exactly one valid
`Idempotency-Key`. Anything else goes on to the route, with the body it sent replayed, and
the route answers it as documented; the lane has sent nothing by then. From the use case on,
both ways are one: the same call, the same 201 (`booked_response`) and the same
problem+json for a refusal (`domain_problem`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voltbook.api.deps import current_principal, get_services, oauth2
from voltbook.api.problems import domain_problem
from voltbook.api.request_rules import Honoured, bearer_token, idempotency_key_ok
from voltbook.api.reservation_schemas import ReservationIn
from voltbook.api.routes.reservations import booked_response
from voltbook.core import json_text
from voltbook.core.errors import DomainError, Unauthenticated
from voltbook.drivers.model import Principal
from voltbook.reservations.model import BookingRequest
from voltbook.services import Services

MAX_BODY = 16_384  # a booking is a few hundred bytes; a larger body is the route's to judge
# What the lane does of the route's dependencies (see request_rules.Honoured).
HONOURED = Honoured(
    dependencies=frozenset({get_services, current_principal, oauth2}),
    headers=frozenset({"Idempotency-Key"}),
    body=(ReservationIn,),
)
_HEADERS = {b"authorization", b"content-type", b"idempotency-key"}


@dataclass(frozen=True, slots=True)
class PlainBooking:
    principal: Principal
    request: BookingRequest
    key: str


async def book(
    scope: Scope, receive: Receive, send: Send, route_app: ASGIApp, route: BaseRoute
) -> None:
    """Books a plain request, or hands the request on to `route_app` as it came."""
    messages = await _read(receive)
    services: Services | None = getattr(scope["app"].state, "services", None)
    plain = None if services is None else await plain_booking(scope, messages, services)
    if services is None or plain is None:
        await route_app(scope, _replay(messages, receive), send)
        return
    scope["route"] = route
    response: Response
    try:
        booked = await services.reservations.book(
            plain.principal.driver_id, plain.request, plain.key
        )
    except DomainError as error:
        response = domain_problem(error, Request(scope).url.path)
    else:
        response = booked_response(*booked)
    await response(scope, receive, send)


async def plain_booking(
    scope: Scope, messages: list[Message], services: Services
) -> PlainBooking | None:
    """What a plain request asks for, by whom; None when the route should decide."""
    body = _body(messages)
    headers = _headers(scope)
    if body is None or headers is None or not _is_json(headers.get(b"content-type")):
        return None
    key = headers.get(b"idempotency-key")
    token = bearer_token(headers.get(b"authorization"))
    if key is None or not idempotency_key_ok(key) or token is None:
        return None
    try:
        # The same check as every route's: the account and sign-in as stored now.
        principal = await services.accounts.authenticate(token)
        request = ReservationIn.model_validate(json_text.loads(body)).booking()
    except (Unauthenticated, ValidationError, ValueError):  # JsonRefused is a ValueError
        return None
    return PlainBooking(principal, request, key)


async def _read(receive: Receive) -> list[Message]:
    """The request's messages up to the end of its body, or until it passes `MAX_BODY`."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages
        size += len(message.get("body", b""))
        if not message.get("more_body", False) or size > MAX_BODY:
            return messages


def _body(messages: list[Message]) -> bytes | None:
    last = messages[-1]
    if last["type"] != "http.request" or last.get("more_body", False):
        return None  # cut off, or too long
    return b"".join(m.get("body", b"") for m in messages)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """`receive` as if nothing had been read from it yet."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


def _headers(scope: Scope) -> dict[bytes, str] | None:
    """The headers the lane reads, or None when one of them is given twice."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in _HEADERS:
            if name in found:
                return None
            found[name] = value.decode("latin-1")
    return found


def _is_json(content_type: str | None) -> bool:
    return (
        content_type is not None
        and content_type.partition(";")[0].strip().lower() == "application/json"
    )
