"""What one WebSocket peer has yet to be sent: a bounded queue and its one writer
(docs/adr/0031-back-pressure.md).

Whoever has something for the peer hands it to the outbox and goes on: a fan-out `offer`s
(never waits), an answer to the peer's own request is `put` (waits for room, at most the
send bound). The writer sends in order. A peer that does not take what it is sent stalls
its outbox when the queue is full or one send stays blocked beyond the bound; the outbox
then drops everything else and calls its `on_stall`, which closes the socket with
`SLOW_PEER`. Nothing here waits on the peer longer than that bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

SLOW_PEER = 4408  # close code: the peer did not read what it was sent in time
QUEUE_LIMIT = 256  # frames waiting for one peer
SEND_BLOCK_S = 10.0  # one send may wait this long for the peer to take data

_T = TypeVar("_T")


class Outbox(Generic[_T]):
    """A peer's frames to send and their writer. The writer is a task only while there is
    something to send: an idle peer's outbox keeps a list and a few fields, not a queue
    (four deques, about 3 KB) and a task waiting on it (about 1 KB), for every socket of
    thousands of idle chargers (docs/benchmarks.md, idle chargers)."""

    __slots__ = (
        "_block_s",
        "_items",
        "_limit",
        "_on_stall",
        "_room",
        "_stall",
        "_started",
        "_write",
        "_writer",
        "closed",
        "stalled",
    )

    def __init__(
        self,
        write: Callable[[_T], Awaitable[None]],
        on_stall: Callable[[str], Coroutine[Any, Any, None]],
        *,
        limit: int = QUEUE_LIMIT,
        block_s: float = SEND_BLOCK_S,
    ) -> None:
        if limit < 1 or block_s <= 0:
            raise ValueError("an outbox holds at least one frame and waits a positive time")
        self._write = write
        self._on_stall = on_stall
        self._items: list[_T] = []  # waiting, oldest first (the one being sent is not here)
        self._limit = limit
        self._block_s = block_s
        self._room: list[asyncio.Future[None]] | None = None  # puts waiting for room
        self._started = False
        self._writer: asyncio.Task[None] | None = None
        self._stall: asyncio.Task[None] | None = None
        self.stalled: str | None = None  # why the peer was given up, once it was
        self.closed = False

    @property
    def waiting(self) -> int:
        return len(self._items)

    @property
    def writing(self) -> bool:
        """Whether a writer task is running (only while frames are being sent)."""
        return self._writer is not None

    def start(self) -> None:
        """Frames queued so far, and from now on, go out."""
        self._started = True
        self._kick()

    def offer(self, item: _T) -> None:
        """Queue `item` without waiting; a full queue stalls the outbox (item dropped)."""
        if self.closed:
            return
        if len(self._items) >= self._limit:
            self._give_up(f"more than {self._limit} frames waiting")
            return
        self._items.append(item)
        self._kick()

    async def put(self, item: _T) -> None:
        """Queue `item`, waiting for room at most the send bound; then the outbox stalls."""
        if self.closed:
            return
        try:
            async with asyncio.timeout(self._block_s):
                while len(self._items) >= self._limit:
                    await self._wait_for_room()
                    if self.closed:
                        return
        except TimeoutError:
            self._give_up(f"no room for {self._block_s:g} s")
            return
        self._items.append(item)
        self._kick()

    def close(self) -> None:
        """Stop writing (the socket is closing or gone); what is queued is dropped."""
        self.closed = True
        self._items.clear()
        self._wake_room()
        writer = self._writer
        if writer is not None and writer is not asyncio.current_task():
            writer.cancel()

    def _kick(self) -> None:
        if self._started and self._writer is None and self._items and not self.closed:
            self._writer = asyncio.get_running_loop().create_task(self._run())

    async def _wait_for_room(self) -> None:
        room: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._room is None:
            self._room = []
        self._room.append(room)
        try:
            await room
        finally:
            if self._room is not None and room in self._room:
                self._room.remove(room)  # timed out or cancelled while waiting

    def _wake_room(self) -> None:
        """Every put waiting for room looks again (there are any only while the peer is slow)."""
        waiters, self._room = self._room, None
        for room in waiters or ():
            if not room.done():
                room.set_result(None)

    async def _run(self) -> None:
        try:
            while self._items and not self.closed:
                item = self._items.pop(0)
                self._wake_room()
                try:
                    async with asyncio.timeout(self._block_s):
                        await self._write(item)
                except TimeoutError:
                    self._give_up(f"a send blocked for {self._block_s:g} s")
                    return
                except Exception:  # the socket is gone: its reader sees the disconnect
                    self.close()
                    return
        finally:
            if self._writer is asyncio.current_task():
                self._writer = None

    def _give_up(self, reason: str) -> None:
        if self.closed:
            return
        self.stalled = reason
        self.close()
        self._stall = asyncio.get_running_loop().create_task(self._on_stall(reason))
