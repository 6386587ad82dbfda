"""Which bookings the fast lane makes itself, and which it passes on to the route untouched."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from voltbook.api.booking_lane import MAX_BODY
from voltbook.api.fast_lane import FastLane
from voltbook.api.routes.reservations import book_route
from voltbook.api.routes.stations import nearby_route
from voltbook.core.connectors import EvseRef
from voltbook.core.errors import Unauthenticated
from voltbook.drivers.model import Principal, Role
from voltbook.reservations.model import BookingRequest, HistoryEntry, Reservation, Status
from voltbook.reservations.ports import SlotTaken

PATH = "/api/v1/reservations"
NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
BODY = {"station_id": "CP-1", "connector_id": 2, "start": "2026-11-27T09:00:00Z", "minutes": 30}
SENT = json.dumps(BODY).encode()


def reservation(request: BookingRequest) -> Reservation:
    starts_at = request.starts_at or NOW
    return Reservation(
        id=7,
        driver_id="d-1",
        station_id=request.station_id,
        evse_id=request.evse_id or 1,
        any_evse=request.evse_id is None,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=request.minutes),
        grace=timedelta(minutes=15),
        status=Status.SCHEDULED,
        id_tag="TAG-1",
        created_at=NOW,
        history=(HistoryEntry(NOW, Status.SCHEDULED, None, "booked", EvseRef("CP-1", 2)),),
    )


class Accounts:
    async def authenticate(self, token: str) -> Principal:
        if token != "good":
            raise Unauthenticated("the token is not valid")
        return Principal("d-1", Role.DRIVER)


class Reservations:
    def __init__(self, outcome: BaseException | None = None, *, created: bool = True) -> None:
        self.asked: list[tuple[str, BookingRequest, str | None]] = []
        self.outcome = outcome
        self.created = created

    async def book(
        self, driver_id: str, request: BookingRequest, key: str | None
    ) -> tuple[Reservation, bool]:
        self.asked.append((driver_id, request, key))
        if self.outcome is not None:
            raise self.outcome
        return reservation(request), self.created


class Passed:
    """The app behind the lane: records the scope and the body that reached it."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.bodies.append(body)


def headers(**given: str) -> list[tuple[bytes, bytes]]:
    found = {
        "authorization": "Bearer good",
        "content-type": "application/json",
        "idempotency-key": "k-1",
    }
    found.update({k.replace("_", "-"): v for k, v in given.items()})
    return [(k.encode(), v.encode("latin-1")) for k, v in found.items() if v]


async def call(
    body: bytes | list[bytes] = SENT,
    heads: list[tuple[bytes, bytes]] | None = None,
    reservations: Reservations | None = None,
    *,
    cut: bool = False,
) -> Any:
    """`cut`: the client goes away before its body ends."""
    chunks = [body] if isinstance(body, bytes) else body
    messages: list[Message] = [
        {"type": "http.request", "body": c, "more_body": cut or n < len(chunks) - 1}
        for n, c in enumerate(chunks)
    ]
    reservations = reservations or Reservations()
    services = SimpleNamespace(accounts=Accounts(), reservations=reservations)
    passed, sent = Passed(), list[Message]()
    scope = {
        "type": "http",
        "method": "POST",
        "path": PATH,
        "root_path": "",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "query_string": b"",
        "headers": headers() if heads is None else heads,
        "app": SimpleNamespace(state=SimpleNamespace(services=services)),
    }

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await FastLane(passed, nearby=nearby_route, booking=book_route)(scope, receive, send)
    answer = None
    if sent:
        start, content = sent
        answer = SimpleNamespace(
            status=start["status"],
            headers={k.decode(): v.decode() for k, v in start["headers"]},
            json=json.loads(content["body"]),
        )
    return SimpleNamespace(
        asked=reservations.asked, passed=passed.bodies, answer=answer, scope=scope
    )


async def test_a_plain_booking_is_made_by_the_lane_with_the_routes_label() -> None:
    done = await call()

    assert done.passed == []
    [(driver, request, key)] = done.asked
    assert (driver, key) == ("d-1", "k-1")
    assert request == BookingRequest(
        station_id="CP-1", minutes=30, evse_id=2, starts_at=datetime(2026, 11, 27, 9, tzinfo=UTC)
    )
    assert done.answer.status == 201
    assert done.answer.headers["content-type"] == "application/json"
    assert "idempotent-replayed" not in done.answer.headers
    assert done.answer.json["id"] == 7
    assert done.answer.json["connector_id"] == 2
    assert done.scope["route"] is book_route  # the metrics label it as the route's own


async def test_a_replay_says_so() -> None:
    done = await call(reservations=Reservations(created=False))

    assert done.answer.status == 201
    assert done.answer.headers["idempotent-replayed"] == "true"


async def test_a_body_sent_in_pieces_is_read_whole() -> None:
    whole = json.dumps(BODY).encode()
    done = await call([whole[:10], whole[10:20], whole[20:]])

    assert done.passed == []
    assert done.answer.status == 201


async def test_a_refusal_is_the_routes_problem_with_the_next_free_slots() -> None:
    free = [{"connector_id": 2, "start": "2026-11-27T09:30:00Z"}]
    refused = Reservations(SlotTaken("this connector is booked for that time", next_free=free))
    done = await call(reservations=refused)

    assert done.passed == []
    assert done.answer.status == 409
    assert done.answer.headers["content-type"] == "application/problem+json"
    assert done.answer.json == {
        "type": "urn:voltbook:problem:slot-taken",
        "title": "Conflict",
        "status": 409,
        "detail": "this connector is booked for that time",
        "instance": PATH,
        "next_free": free,
    }


@pytest.mark.parametrize(
    ("why", "heads", "body"),
    [
        ("no token", headers(authorization=""), None),
        ("not a bearer token", headers(authorization="Basic abc"), None),
        ("a token that does not verify", headers(authorization="Bearer bad"), None),
        ("no content type", headers(content_type=""), None),
        ("a form", headers(content_type="application/x-www-form-urlencoded"), None),
        ("no key", headers(idempotency_key=""), None),
        ("a key with a space", headers(idempotency_key="a b"), None),
        ("a key too long", headers(idempotency_key="k" * 256), None),
        ("two keys", [*headers(idempotency_key="a"), (b"idempotency-key", b"b")], None),
        ("two tokens", [*headers(), (b"authorization", b"Bearer good")], None),
        ("not JSON", None, b"{station_id"),
        ("not UTF-8", None, b'{"station_id": "\xff"}'),
        ("a list", None, b"[]"),
        ("refused by the model", None, json.dumps({**BODY, "minutes": 0}).encode()),
        ("a naive start", None, json.dumps({**BODY, "start": "2026-11-27T09:00"}).encode()),
        ("empty", None, b""),
        ("too long", None, b" " * (MAX_BODY + 1)),
    ],
)
async def test_anything_but_a_plain_booking_goes_on_to_the_route_with_its_body(
    why: str, heads: list[tuple[bytes, bytes]] | None, body: bytes | None
) -> None:
    sent = SENT if body is None else body
    done = await call(sent, heads)

    assert done.passed == [sent], why  # the route reads the body as the client sent it
    assert done.asked == []
    assert done.answer is None


async def test_a_client_gone_before_its_body_ends_is_the_routes_to_handle() -> None:
    done = await call([b'{"station_id": ', b'"CP-1"'], cut=True)

    assert done.asked == []
    assert done.passed == [b'{"station_id": "CP-1"']
    assert done.answer is None
