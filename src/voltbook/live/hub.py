"""The live channel (WS /api/v1/live): the app end of the server, one socket per open app.

A driver authenticates (Bearer header, or a first `auth` message for browsers), follows topics,
reports position and vehicle state, answers the server's queries, and hears its notices in
sequence. Bad messages get an `error` message; the socket stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar

import structlog
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from voltbook.core.errors import DomainError, TimedOut, Unavailable
from voltbook.core.outbox import QUEUE_LIMIT, SEND_BLOCK_S
from voltbook.live.connection import Connection
from voltbook.live.messages import (
    BadMessage,
    decode,
    error_message,
    int_or_none,
    number_field,
    receive_text,
    required_number,
    text_field,
)
from voltbook.notices.events import NoticeQueued, StationStatusBroadcast
from voltbook.notices.model import AreaTopic, Notice, StationTopic, Topic
from voltbook.notices.service import REPLAY_LIMIT, matches

log = structlog.get_logger("voltbook.live")

CLOSE_UNAUTHENTICATED = 4401
AUTH_WAIT_S = 10.0
QUERY_KINDS = ("location", "vehicle")
_K = TypeVar("_K")


class LiveBackend(Protocol):
    """What the live channel needs from the services (wired in bootstrap)."""

    async def principal(self, token: str) -> tuple[str, bool, str]:
        """(driver_id, is_staff, sign_in_id) for a token, checked against the account as
        stored now; raises for a bad one."""
        ...

    async def still_signed_in(self, sign_in_ids: list[str]) -> dict[str, bool]:
        """Of these sign-ins, those still good, each with whether its account is staff now."""
        ...

    async def latest_seq(self, driver_id: str) -> int: ...

    async def missed(self, driver_id: str, since: int) -> list[Notice]: ...

    async def ack(self, driver_id: str, seq: int) -> bool: ...

    async def follow(self, driver_id: str, topic: str) -> Topic: ...

    async def unfollow(self, driver_id: str, topic: str) -> Topic: ...

    async def followed(self, driver_id: str) -> list[Topic]: ...

    async def location(
        self, driver_id: str, lat: float, lon: float, accuracy_m: float | None, at: datetime
    ) -> None:
        """A position from the app (kept only with consent; raises otherwise)."""
        ...

    async def vehicle(
        self,
        driver_id: str,
        vehicle_id: str,
        soc_percent: float | None,
        range_km: float | None,
        at: datetime,
    ) -> None: ...

    async def joined(self, driver_id: str) -> None: ...

    async def left(self, driver_id: str) -> None: ...

    def now(self) -> datetime: ...


class LiveHub:
    """Every live channel of this node; what to send to whom."""

    def __init__(
        self,
        backend: LiveBackend,
        query_timeout_s: float = 10.0,
        send_bounds: tuple[int, float] = (QUEUE_LIMIT, SEND_BLOCK_S),
    ) -> None:
        self._backend = backend
        self._query_timeout = query_timeout_s
        # Frames queued for one app, and how long one send may wait for it (docs/adr/0031).
        self._send_bounds = send_bounds
        self._by_driver: defaultdict[str, set[Connection]] = defaultdict(set)
        self._by_station: defaultdict[str, set[Connection]] = defaultdict(set)
        self._by_area: defaultdict[AreaTopic, set[Connection]] = defaultdict(set)
        self._query_ids = itertools.count(1)

    @property
    def connections(self) -> int:
        return sum(len(c) for c in self._by_driver.values())

    # --- ASGI entry -------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        socket = WebSocket(scope, receive, send)
        await socket.accept()
        opened = await self._authenticate(socket, send)
        if opened is None:
            return
        connection, since = opened
        try:
            await self._greet(connection, since)
            await self._backend.joined(connection.driver_id)
            for topic in await self._backend.followed(connection.driver_id):
                self._index(connection, topic)
            await self._serve(connection)
        except WebSocketDisconnect:
            pass
        finally:
            connection.outbox.close()
            self._detach(connection)
            for _kind, future in connection.queries.values():
                future.cancel()
            with contextlib.suppress(Exception):
                await self._backend.left(connection.driver_id)

    async def _authenticate(
        self, socket: WebSocket, send: Send
    ) -> tuple[Connection, object] | None:
        """The app's connection and the `since` it asked for, or None (closed with 4401)."""
        since: object = socket.query_params.get("since")
        header = socket.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else None
        if token is None:
            try:
                async with asyncio.timeout(AUTH_WAIT_S):
                    first = decode(await receive_text(socket))
            except (TimeoutError, BadMessage):
                first = {}
            except WebSocketDisconnect:
                return None
            raw = first.get("token") if first.get("type") == "auth" else None
            token = raw if isinstance(raw, str) else None
            since = first.get("since", since)
        try:
            driver_id, staff, sign_in_id = await self._backend.principal(token or "")
        except Exception:  # any failure to prove who is calling is the same refusal
            await socket.close(CLOSE_UNAUTHENTICATED, "unauthenticated")
            return None
        bounds = self._send_bounds
        connection = Connection(socket, send, driver_id, staff, sign_in_id, send_bounds=bounds)
        return connection, since

    async def _greet(self, connection: Connection, since: object) -> None:
        """Welcome the app, then send what it missed since `since`.

        The connection takes notices from before the outbox is read: one made meanwhile
        waits for the delivery lock and then finds the cursor past it if the replay sent it,
        so it is neither lost nor sent twice.
        """
        async with connection.deliver_lock:
            self._attach(connection)
            connection.cursor = await self._backend.latest_seq(connection.driver_id)
            await connection.send(
                {"type": "welcome", "driver_id": connection.driver_id, "seq": connection.cursor}
            )
            seq = int_or_none(since) if since is not None else None
            if seq is not None:
                await self._send_missed(connection, seq)

    async def _serve(self, connection: Connection) -> None:
        while True:
            message: dict[str, Any] = {}
            try:
                text = await receive_text(connection.socket)
                connection.spend()
                message = decode(text)
                await self._handle(connection, message)
            except BadMessage as bad:
                await connection.send(error_message(message.get("id"), bad.code, bad.detail))
            except DomainError as refused:
                await connection.send(
                    error_message(message.get("id"), refused.code, refused.detail)
                )

    # --- app → server -------------------------------------------------------------------------

    async def _handle(self, connection: Connection, message: dict[str, Any]) -> None:
        kind = message.get("type")
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            raise BadMessage("unknown-type", f"unknown message type {str(kind)[:40]!r}")
        await handler(connection, message)

    @functools.cached_property
    def _handlers(self) -> dict[str, Callable[[Connection, dict[str, Any]], Awaitable[None]]]:
        return {
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "location": self._location,
            "vehicle": self._vehicle,
            "ack": self._ack,
            "resume": self._resume,
            "ping": self._ping,
            "auth": self._reauth,
        }

    async def _subscribe(self, connection: Connection, message: dict[str, Any]) -> None:
        topic = await self._backend.follow(connection.driver_id, text_field(message, "topic"))
        self._index(connection, topic)
        await connection.send({"type": "subscribed", "id": message.get("id"), "topic": str(topic)})

    async def _unsubscribe(self, connection: Connection, message: dict[str, Any]) -> None:
        topic = await self._backend.unfollow(connection.driver_id, text_field(message, "topic"))
        self._unindex(connection, topic)
        await connection.send(
            {"type": "unsubscribed", "id": message.get("id"), "topic": str(topic)}
        )

    async def _location(self, connection: Connection, message: dict[str, Any]) -> None:
        lat, lon = (
            required_number(message, "lat", -90, 90),
            required_number(message, "lon", -180, 180),
        )
        accuracy = number_field(message, "accuracy_m", 0, 1e6, required=False)
        await self._report(
            connection,
            message,
            "location",
            {"lat": lat, "lon": lon},
            self._backend.location(connection.driver_id, lat, lon, accuracy, self._backend.now()),
        )

    async def _vehicle(self, connection: Connection, message: dict[str, Any]) -> None:
        vehicle_id = text_field(message, "vehicle_id")
        soc = number_field(message, "soc_percent", 0, 100, required=False)
        range_km = number_field(message, "range_km", 0, 5_000, required=False)
        await self._report(
            connection,
            message,
            "vehicle",
            {"vehicle_id": vehicle_id, "soc_percent": soc, "range_km": range_km},
            self._backend.vehicle(
                connection.driver_id, vehicle_id, soc, range_km, self._backend.now()
            ),
        )

    async def _report(
        self,
        connection: Connection,
        message: dict[str, Any],
        kind: str,
        value: dict[str, Any],
        keep: Awaitable[None],
    ) -> None:
        """What the app reports is kept (or refused) first, so that whoever asked for it reads
        it stored; then it answers the query it carries the id of, or gets an `ok`."""
        try:
            await keep
        finally:
            answered = self._answer(connection, kind, message, value)
        if not answered and message.get("id") is not None:
            await connection.send({"type": "ok", "id": message.get("id")})

    async def _ack(self, connection: Connection, message: dict[str, Any]) -> None:
        seq = int_or_none(message.get("seq"))
        if seq is None or seq < 1:
            raise BadMessage("invalid-message", "ack carries the notice's seq, a positive integer")
        if not await self._backend.ack(connection.driver_id, seq):
            raise BadMessage("unknown-notice", f"no notice {seq} (or it has expired)")

    async def _resume(self, connection: Connection, message: dict[str, Any]) -> None:
        seq = int_or_none(message.get("since"))
        if seq is None or seq < 0:
            raise BadMessage("invalid-message", "resume carries since, the last seq the app saw")
        await self._replay(connection, seq)

    async def _ping(self, connection: Connection, message: dict[str, Any]) -> None:
        await connection.send({"type": "pong", "id": message.get("id")})

    async def _reauth(self, connection: Connection, message: dict[str, Any]) -> None:
        raise BadMessage("already-authenticated", "this channel is authenticated already")

    def _answer(
        self, connection: Connection, kind: str, message: dict[str, Any], value: dict[str, Any]
    ) -> bool:
        query_id = message.get("id")
        pending = connection.queries.get(query_id) if isinstance(query_id, str) else None
        if pending is None or pending[0] != kind:
            return False
        if not pending[1].done():
            pending[1].set_result(value)
        return True

    # --- server → app -------------------------------------------------------------------------

    async def ask(
        self, driver_id: str, kind: str, timeout_s: float | None = None, **extra: Any
    ) -> dict[str, Any]:
        """Ask the driver's open app(s) where it is / what its vehicle says; first answer wins.

        Unavailable when no app of the driver is connected here, TimedOut when none answers.
        """
        if kind not in QUERY_KINDS:
            raise ValueError(kind)
        connections = list(self._by_driver.get(driver_id, ()))
        if not connections:
            raise Unavailable("the driver's app is not connected")
        query_id = f"q{next(self._query_ids)}"
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        for connection in connections:
            connection.queries[query_id] = (kind, answer)
        try:
            for connection in connections:
                async with connection.deliver_lock:  # never before the welcome
                    await connection.send({"type": f"query.{kind}", "id": query_id, **extra})
            async with asyncio.timeout(timeout_s or self._query_timeout):
                return await answer
        except TimeoutError:
            raise TimedOut(f"the app did not answer the {kind} query") from None
        finally:
            for connection in connections:
                connection.queries.pop(query_id, None)

    async def on_notice(self, event: object) -> None:
        assert isinstance(event, NoticeQueued)
        for connection in list(self._by_driver.get(event.driver_id, ())):
            await self._deliver(connection, event)

    async def on_station_status(self, event: object) -> None:
        assert isinstance(event, StationStatusBroadcast)
        position = (
            (event.lat, event.lon) if event.lat is not None and event.lon is not None else None
        )
        targets = set(self._by_station.get(event.station_id, ()))
        if position is not None:
            for area, connections in self._by_area.items():
                if matches(area, event.station_id, position):
                    targets |= connections
        if not targets:
            return
        # One encoding, one ASGI message for all: the server only reads it. Queued, never
        # awaited: an app that stops reading cannot hold up the others (docs/adr/0031).
        frame = {
            "type": "websocket.send",
            "text": json.dumps(event.message(), separators=(",", ":")),
        }
        for connection in targets:
            connection.offer(frame)

    async def _deliver(self, connection: Connection, event: NoticeQueued) -> None:
        async with connection.deliver_lock:
            if event.seq <= connection.cursor:
                return  # sent already (replay or an earlier catch-up)
            if event.seq == connection.cursor + 1:
                await connection.send({"type": event.kind, "seq": event.seq, **event.payload})
                connection.cursor = event.seq
                return
        await self._replay(connection, connection.cursor)  # a gap: the outbox has it in order

    async def _replay(self, connection: Connection, since: int) -> None:
        async with connection.deliver_lock:
            await self._send_missed(connection, since)

    async def _send_missed(self, connection: Connection, since: int) -> None:
        """Send every kept notice after `since`, in order; the cursor moves past them.
        The caller holds the connection's delivery lock."""
        while True:
            missed = await self._backend.missed(connection.driver_id, since)
            for notice in missed:
                await connection.send(notice.message())
                connection.cursor = max(connection.cursor, notice.seq)
            if len(missed) < REPLAY_LIMIT:
                return
            since = missed[-1].seq

    async def end_sign_ins(self, driver_id: str, sign_in_ids: tuple[str, ...] | None) -> None:
        """Close the account's channels opened with these sign-ins (None: all of them): the
        sign-in ended, or the account was blocked, deleted or changed role."""
        ended = [
            connection
            for connection in self._by_driver.get(driver_id, ())
            if sign_in_ids is None or connection.sign_in_id in sign_in_ids
        ]
        for connection in ended:
            await connection.close(CLOSE_UNAUTHENTICATED, "signed out")

    async def close_ended(self) -> int:
        """Close every channel whose sign-in has ended or whose account changed role since it
        opened: the safety net under `end_sign_ins` (an account changed from the command line
        of a one-node setup, or an event another node missed). Returns how many closed."""
        open_now = [c for mine in self._by_driver.values() for c in mine]
        if not open_now:
            return 0
        good = await self._backend.still_signed_in(sorted({c.sign_in_id for c in open_now}))
        ended = [c for c in open_now if good.get(c.sign_in_id) is not c.staff]
        for connection in ended:
            await connection.close(CLOSE_UNAUTHENTICATED, "signed out")
        return len(ended)

    # --- bookkeeping ----------------------------------------------------------------------------

    def _attach(self, connection: Connection) -> None:
        self._by_driver[connection.driver_id].add(connection)

    def _detach(self, connection: Connection) -> None:
        for topic in list(connection.topics):
            self._unindex(connection, topic)
        mine = self._by_driver.get(connection.driver_id)
        if mine is not None:
            mine.discard(connection)
            if not mine:
                del self._by_driver[connection.driver_id]

    def _index(self, connection: Connection, topic: Topic) -> None:
        connection.topics.add(topic)
        if isinstance(topic, StationTopic):
            self._by_station[topic.station_id].add(connection)
        elif isinstance(topic, AreaTopic):
            self._by_area[topic].add(connection)

    def _unindex(self, connection: Connection, topic: Topic) -> None:
        connection.topics.discard(topic)
        if isinstance(topic, StationTopic):
            _discard(self._by_station, topic.station_id, connection)
        elif isinstance(topic, AreaTopic):
            _discard(self._by_area, topic, connection)


def _discard(index: defaultdict[_K, set[Connection]], key: _K, connection: Connection) -> None:
    members = index.get(key)
    if members is not None:
        members.discard(connection)
        if not members:
            del index[key]
