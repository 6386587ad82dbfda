"""OCPP-J framing, pending calls with timeouts, a send queue, and the station's ordered outbox.

A WebSocket text frame carries one JSON array: ``[2, id, action, payload]`` (CALL),
``[3, id, payload]`` (CALLRESULT) or ``[4, id, code, description, details]`` (CALLERROR).

`RpcConnection` owns one socket: a reader that answers the server's CALLs through a handler
and resolves our pending CALLs, and a writer fed by a FIFO send queue. Handlers must not
suspend (no awaiting the server): a reply is queued as soon as the handler returns, so
anything a handler triggers with `Outbox.send` reaches the wire after the reply, and
anything that has to wait goes in `Reply.after`, which runs as a task afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

CALL, CALLRESULT, CALLERROR = 2, 3, 4
JsonObject = dict[str, Any]
log = logging.getLogger(__name__)
T = TypeVar("T")


class CallError(Exception):
    """A CALLERROR, received from the server or to be sent to it."""

    def __init__(self, code: str, description: str = "", details: JsonObject | None = None):
        super().__init__(f"{code}: {description}" if description else code)
        self.code = code
        self.description = description
        self.details = details or {}


class ConnectionLost(Exception):
    """The socket closed before the answer came."""


class Offline(Exception):
    """The station is not connected and booted, so the message was not sent."""


class PayloadError(ValueError):
    """A server CALL payload lacks a field or has one of the wrong type."""


@dataclass(frozen=True)
class Reply:
    payload: JsonObject
    after: Callable[[], Coroutine[Any, Any, None]] | None = None


Handler = Callable[[str, JsonObject], Awaitable[Reply]]
Spawn = Callable[[Coroutine[Any, Any, None]], object]


@dataclass(frozen=True)
class RpcCodes:
    """CALLERROR codes that differ between OCPP-J 1.6 and 2.0.1."""

    format: str
    framework: str
    message_type: str


V16_CODES = RpcCodes("FormationViolation", "FormationViolation", "FormationViolation")
V201_CODES = RpcCodes("FormatViolation", "RpcFrameworkError", "MessageTypeNotSupported")


class Socket(Protocol):
    """The part of a websockets connection used here."""

    async def send(self, message: str) -> None: ...
    async def recv(self) -> str | bytes: ...
    async def close(self) -> None: ...


def new_message_id() -> str:
    return str(uuid.uuid4())


def _dump(frame: list[Any]) -> str:
    return json.dumps(frame, separators=(",", ":"))


def encode_call(message_id: str, action: str, payload: JsonObject) -> str:
    return _dump([CALL, message_id, action, payload])


def encode_result(message_id: str, payload: JsonObject) -> str:
    return _dump([CALLRESULT, message_id, payload])


def encode_error(message_id: str, code: str, description: str = "") -> str:
    return _dump([CALLERROR, message_id, code, description, {}])


# Accessors for server CALL payloads: a wrong or missing field becomes a PayloadError,
# which the connection answers with a format CALLERROR.
def field_value(payload: JsonObject, key: str, kind: type[T]) -> T:
    value = payload.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise PayloadError(f"{key!r} must be {kind.__name__}")
    return value


def optional_value(payload: JsonObject, key: str, kind: type[T]) -> T | None:
    return None if payload.get(key) is None else field_value(payload, key, kind)


class RpcConnection:
    """One OCPP-J WebSocket: a reader, a writer fed by a send queue, and pending CALLs."""

    def __init__(
        self,
        socket: Socket,
        handler: Handler,
        *,
        codes: RpcCodes,
        call_timeout: float,
        spawn: Spawn,
        call_bytes: Callable[[str], int | None] = lambda _action: None,
    ) -> None:
        self._socket = socket
        self._call_bytes = call_bytes  # action -> the longest CALL frame taken (None: any)
        self._handler = handler
        self._codes = codes
        self._call_timeout = call_timeout
        self._spawn = spawn
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._pending: dict[str, asyncio.Future[JsonObject]] = {}
        self.closed = False

    async def serve(self) -> None:
        """Read frames until the socket closes; fails every pending CALL then."""
        writer = asyncio.create_task(self._write())
        try:
            while True:
                try:
                    message = await self._socket.recv()
                except Exception:  # ConnectionClosed or a transport error: the socket is gone
                    return
                if isinstance(message, bytes):
                    message = message.decode("utf-8", "replace")
                await self._dispatch(message)
        finally:
            self.closed = True
            writer.cancel()
            await asyncio.wait({writer})
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionLost())
            self._pending.clear()

    async def call(self, action: str, payload: JsonObject) -> JsonObject:
        """Send a CALL and wait for its CALLRESULT payload (CallError for a CALLERROR)."""
        if self.closed:
            raise ConnectionLost
        message_id = new_message_id()
        future: asyncio.Future[JsonObject] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        self._queue.put_nowait(encode_call(message_id, action, payload))
        try:
            return await asyncio.wait_for(future, self._call_timeout)
        finally:
            self._pending.pop(message_id, None)

    def _send(self, frame: str) -> None:
        if not self.closed:
            self._queue.put_nowait(frame)

    async def _write(self) -> None:
        while True:
            frame = await self._queue.get()
            try:
                await self._socket.send(frame)
            except Exception:
                with contextlib.suppress(Exception):
                    await self._socket.close()
                return
            finally:
                self._queue.task_done()

    async def flush(self, seconds: float) -> None:
        """Wait (up to `seconds`) until every queued frame was written."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), seconds)

    async def _dispatch(self, text: str) -> None:
        try:
            frame = json.loads(text)
        except ValueError:
            self._send(encode_error("-1", self._codes.framework, "not JSON"))
            return
        if not isinstance(frame, list) or len(frame) < 3 or not isinstance(frame[1], str):
            message_id = str(frame[1]) if isinstance(frame, list) and len(frame) > 1 else "-1"
            self._send(encode_error(message_id, self._codes.framework, "not an OCPP-J frame"))
            return
        kind, message_id = frame[0], frame[1]
        if kind == CALL:
            limit = self._call_bytes(frame[2]) if isinstance(frame[2], str) else None
            size = len(text.encode()) if limit is not None else 0
            if limit is not None and size > limit:
                self._send(encode_error(message_id, self._codes.format, f"{size} > {limit} bytes"))
                return
            await self._answer(frame)
        elif kind in (CALLRESULT, CALLERROR):
            future = self._pending.get(message_id)
            if future is None or future.done():
                return
            if kind == CALLRESULT and isinstance(frame[2], dict):
                future.set_result(frame[2])
            elif kind == CALLERROR and len(frame) >= 4:
                details = frame[4] if len(frame) > 4 and isinstance(frame[4], dict) else {}
                future.set_exception(CallError(str(frame[2]), str(frame[3]), details))
            else:
                future.set_exception(CallError(self._codes.format, "malformed answer"))
        else:
            self._send(encode_error(message_id, self._codes.message_type, f"type {kind!r}"))

    async def _answer(self, frame: list[Any]) -> None:
        message_id = frame[1]
        if len(frame) != 4 or not isinstance(frame[2], str) or not isinstance(frame[3], dict):
            self._send(encode_error(message_id, self._codes.format, "malformed CALL"))
            return
        try:
            reply = await self._handler(frame[2], frame[3])
        except CallError as error:
            self._send(encode_error(message_id, error.code, error.description))
            return
        except (PayloadError, KeyError, TypeError, ValueError) as error:
            self._send(encode_error(message_id, self._codes.format, str(error)))
            return
        except Exception:
            log.exception("handling %s failed", frame[2])
            self._send(encode_error(message_id, "InternalError", "station error"))
            return
        self._send(encode_result(message_id, reply.payload))
        if reply.after is not None:
            self._spawn(reply.after())


Build = Callable[[bool], JsonObject]  # argument: the message was created while offline


@dataclass(eq=False)
class _Item:
    action: str
    build: Build
    durable: bool
    future: asyncio.Future[JsonObject]
    created_offline: bool
    on_result: Callable[[JsonObject], None] | None = None
    attempts: int = field(default=0)


class Outbox:
    """The station's CALLs, sent one at a time and in order (OCPP-J allows one outstanding).

    Durable (transaction) messages are kept while the station is offline and sent after the
    next boot; the others fail at once with `Offline`. A durable message's payload is built
    when it is sent, so it can use a transaction id the server assigned meanwhile.
    """

    def __init__(self, *, retry_delay: float, max_attempts: int = 3) -> None:
        self._items: deque[_Item] = deque()
        self._conn: RpcConnection | None = None
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._lock = asyncio.Lock()
        self._retry_delay = retry_delay
        self._max_attempts = max_attempts

    @property
    def online(self) -> bool:
        return self._conn is not None and not self._conn.closed

    @property
    def queued(self) -> int:
        return len(self._items)

    def attach(self, conn: RpcConnection) -> None:
        self._conn = conn
        self._wake.set()

    def detach_now(self) -> None:
        self._conn = None
        for item in [item for item in self._items if not item.durable]:
            self._items.remove(item)
            if not item.future.done():
                item.future.set_exception(Offline())
        self._update_idle()

    async def detach(self) -> None:
        """Go offline after the CALL in flight, if any, got its answer."""
        async with self._lock:
            self.detach_now()

    def submit(
        self,
        action: str,
        build: Build,
        *,
        durable: bool = False,
        on_result: Callable[[JsonObject], None] | None = None,
    ) -> asyncio.Future[JsonObject]:
        future: asyncio.Future[JsonObject] = asyncio.get_running_loop().create_future()
        if not durable and not self.online:
            future.set_exception(Offline())
            return future
        item = _Item(action, build, durable, future, not self.online, on_result)
        self._items.append(item)
        self._idle.clear()
        self._wake.set()
        return future

    def send(self, action: str, payload: JsonObject) -> None:
        """Fire and forget: the answer, or the failure, is ignored."""
        self.submit(action, lambda _offline: payload).add_done_callback(consume)

    async def call(self, action: str, payload: JsonObject) -> JsonObject:
        return await self.submit(action, lambda _offline: payload)

    async def drain(self, seconds: float) -> bool:
        """Wait (up to `seconds`) until every queued message was sent; False on timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def clear(self) -> None:
        for item in self._items:
            item.future.cancel()
        self._items.clear()
        self._update_idle()

    def _update_idle(self) -> None:
        if not self._items:
            self._idle.set()

    async def run(self) -> None:
        while True:
            while not (self._items and self.online):
                self._wake.clear()
                await self._wake.wait()
            async with self._lock:
                conn = self._conn
                if conn is None or not self._items:
                    continue
                retry = await self._send_head(conn)
            if retry:
                await asyncio.sleep(self._retry_delay)

    async def _send_head(self, conn: RpcConnection) -> bool:
        """Send the first item; True when it stays queued and should be retried later."""
        item = self._items[0]
        item.attempts += 1
        try:
            result = await conn.call(item.action, item.build(item.created_offline))
        except ConnectionLost:
            if self._conn is conn:
                self._conn = None
            if item.durable:
                return False
            self._finish(item, Offline())
            return False
        except TimeoutError:
            if item.durable and item.attempts < self._max_attempts:
                return True
            self._finish(item, TimeoutError(f"{item.action} was not answered"))
            return False
        except CallError as error:
            self._finish(item, error)
            return False
        if item.on_result is not None:
            try:
                item.on_result(result)
            except Exception:
                log.exception("processing the %s answer failed", item.action)
        self._finish(item, result)
        return False

    def _finish(self, item: _Item, outcome: JsonObject | BaseException) -> None:
        if self._items and self._items[0] is item:
            self._items.popleft()
        if not item.future.done():
            if isinstance(outcome, BaseException):
                item.future.set_exception(outcome)
            else:
                item.future.set_result(outcome)
        self._update_idle()


def consume(future: asyncio.Future[JsonObject]) -> None:
    if not future.cancelled():
        future.exception()
