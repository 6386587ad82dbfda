"""OCPP-J framing, pending calls and the ordered outbox, over an in-memory socket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import pytest

from voltbook.sim.rpc import (
    V16_CODES,
    V201_CODES,
    CallError,
    ConnectionLost,
    JsonObject,
    Offline,
    Outbox,
    PayloadError,
    Reply,
    RpcCodes,
    RpcConnection,
    field_value,
)


class PipeSocket:
    """The station's end of a socket: what it sends is kept, what it receives is fed in."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[str | None] = asyncio.Queue()
        self.sent: list[list[Any]] = []
        self.changed = asyncio.Event()

    async def send(self, message: str) -> None:
        self.sent.append(json.loads(message))
        self.changed.set()

    async def recv(self) -> str:
        message = await self.incoming.get()
        if message is None:
            raise ConnectionError("closed")
        return message

    async def close(self) -> None:
        self.incoming.put_nowait(None)

    def feed(self, frame: Any) -> None:
        self.incoming.put_nowait(frame if isinstance(frame, str) else json.dumps(frame))

    async def wait_sent(self, count: int) -> None:
        async with asyncio.timeout(2):
            while len(self.sent) < count:
                self.changed.clear()
                await self.changed.wait()


tasks: set[asyncio.Task[None]] = set()


def spawn(coro: Coroutine[Any, Any, None]) -> None:
    task = asyncio.create_task(coro)
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def echo_handler(action: str, payload: JsonObject) -> Reply:
    if action == "Echo":
        return Reply({"echo": field_value(payload, "text", str)})
    raise CallError("NotImplemented", action)


@asynccontextmanager
async def connection(
    handler: Any = echo_handler, codes: RpcCodes = V16_CODES, call_timeout: float = 2.0
) -> AsyncIterator[tuple[RpcConnection, PipeSocket]]:
    socket = PipeSocket()
    conn = RpcConnection(socket, handler, codes=codes, call_timeout=call_timeout, spawn=spawn)
    reader = asyncio.create_task(conn.serve())
    try:
        yield conn, socket
    finally:
        await socket.close()
        await asyncio.wait({reader})


async def test_a_call_is_framed_and_resolved_by_its_result() -> None:
    async with connection() as (conn, socket):
        call = asyncio.create_task(conn.call("Heartbeat", {}))
        await socket.wait_sent(1)
        kind, message_id, action, payload = socket.sent[0]
        assert (kind, action, payload) == (2, "Heartbeat", {})
        socket.feed([3, "someone-else", {}])  # unknown ids are ignored
        socket.feed([3, message_id, {"currentTime": "2025-01-01T00:00:00Z"}])
        assert await call == {"currentTime": "2025-01-01T00:00:00Z"}


async def test_a_call_longer_than_the_station_takes_is_a_format_violation() -> None:
    """The frame is measured as received, in UTF-8 bytes: 2.0.1 BytesPerMessage."""
    socket = PipeSocket()
    limits = {"Echo": 40}
    conn = RpcConnection(
        socket, echo_handler, codes=V201_CODES, call_timeout=2, spawn=spawn,
        call_bytes=limits.get,
    )  # fmt: skip
    reader = asyncio.create_task(conn.serve())
    fits = '[2,"a","Echo",{"text":"' + "x" * 14 + '"}]'
    over = '[2,"b","Echo",{"text":"' + "é" * 8 + '"}]'  # 34 characters, 42 bytes
    assert (len(fits.encode()), len(over), len(over.encode())) == (40, 34, 42)
    socket.feed(fits)
    socket.feed(over)
    await socket.wait_sent(2)
    assert socket.sent[0] == [3, "a", {"echo": "x" * 14}]
    assert socket.sent[1][:3] == [4, "b", "FormatViolation"]
    await socket.close()
    await asyncio.wait({reader})


async def test_a_call_error_raises_and_a_silent_server_times_out() -> None:
    async with connection(call_timeout=0.05) as (conn, socket):
        call = asyncio.create_task(conn.call("Authorize", {"idTag": "X"}))
        await socket.wait_sent(1)
        socket.feed([4, socket.sent[0][1], "InternalError", "boom", {}])
        with pytest.raises(CallError) as error:
            await call
        assert error.value.code == "InternalError"
        assert error.value.description == "boom"
        with pytest.raises(TimeoutError):
            await conn.call("Heartbeat", {})


async def test_pending_calls_fail_when_the_socket_closes() -> None:
    async with connection() as (conn, socket):
        call = asyncio.create_task(conn.call("Heartbeat", {}))
        await socket.wait_sent(1)
        await socket.close()
        with pytest.raises(ConnectionLost):
            await call
        with pytest.raises(ConnectionLost):
            await conn.call("Heartbeat", {})


@pytest.mark.parametrize(
    ("codes", "frame", "expected"),
    [
        (V16_CODES, [2, "a", "Echo", {"text": "hi"}], [3, "a", {"echo": "hi"}]),
        (V16_CODES, [2, "b", "Nope", {}], [4, "b", "NotImplemented"]),
        (V16_CODES, [2, "c", "Echo", {"text": 5}], [4, "c", "FormationViolation"]),
        (V201_CODES, [2, "c", "Echo", {}], [4, "c", "FormatViolation"]),
        (V16_CODES, [2, "d", "Echo"], [4, "d", "FormationViolation"]),
        (V16_CODES, "{not json", [4, "-1", "FormationViolation"]),
        (V201_CODES, "{not json", [4, "-1", "RpcFrameworkError"]),
        (V201_CODES, {"a": 1}, [4, "-1", "RpcFrameworkError"]),
        (V201_CODES, [7, "e", "x"], [4, "e", "MessageTypeNotSupported"]),
    ],
)
async def test_incoming_frames_get_the_right_answer(
    codes: RpcCodes, frame: Any, expected: list[Any]
) -> None:
    async with connection(codes=codes) as (_conn, socket):
        socket.feed(frame)
        await socket.wait_sent(1)
        assert socket.sent[0][: len(expected)] == expected


async def test_the_reply_goes_out_before_what_the_command_triggers() -> None:
    conn_box: list[RpcConnection] = []

    async def handler(action: str, payload: JsonObject) -> Reply:
        async def after() -> None:
            await conn_box[0].call("StatusNotification", {"status": "Reserved"})

        return Reply({"status": "Accepted"}, after=after)

    async with connection(handler) as (conn, socket):
        conn_box.append(conn)
        socket.feed([2, "r", "ReserveNow", {}])
        await socket.wait_sent(2)
        assert socket.sent[0] == [3, "r", {"status": "Accepted"}]
        assert socket.sent[1][2] == "StatusNotification"
        socket.feed([3, socket.sent[1][1], {}])


async def test_field_value_checks_types() -> None:
    assert field_value({"n": 3}, "n", int) == 3
    with pytest.raises(PayloadError):
        field_value({"n": True}, "n", int)
    with pytest.raises(PayloadError):
        field_value({}, "n", int)


async def test_outbox_fails_fast_offline_but_keeps_durable_messages_in_order() -> None:
    outbox = Outbox(retry_delay=0.01)
    runner = asyncio.create_task(outbox.run())
    try:
        with pytest.raises(Offline):
            await outbox.call("Heartbeat", {})
        built: list[tuple[str, bool]] = []
        assigned: dict[str, int] = {}

        def build(name: str) -> Any:
            def make(offline: bool) -> JsonObject:
                built.append((name, offline))
                return {"name": name, "id": assigned.get("id", -1)}

            return make

        first = outbox.submit("Start", build("start"), durable=True, on_result=assigned.update)
        second = outbox.submit("Meter", build("meter"), durable=True)
        assert outbox.queued == 2
        async with connection() as (conn, socket):
            outbox.attach(conn)
            await socket.wait_sent(1)
            assert socket.sent[0][2:] == ["Start", {"name": "start", "id": -1}]
            socket.feed([3, socket.sent[0][1], {"id": 42}])
            await socket.wait_sent(2)
            # Built after the first answer: it carries the id the server assigned.
            assert socket.sent[1][2:] == ["Meter", {"name": "meter", "id": 42}]
            socket.feed([4, socket.sent[1][1], "InternalError", "", {}])
            assert await first == {"id": 42}
            with pytest.raises(CallError):
                await second
            assert built == [("start", True), ("meter", True)]
            assert await outbox.drain(1.0)
            await outbox.detach()
            assert not outbox.online
    finally:
        runner.cancel()
        await asyncio.wait({runner})
