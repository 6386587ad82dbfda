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
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

SLOW_PEER = 4408  # close code: the peer did not read what it was sent in time
QUEUE_LIMIT = 256  # frames waiting for one peer
SEND_BLOCK_S = 10.0  # one send may wait this long for the peer to take data

_T = TypeVar("_T")


class Outbox(Generic[_T]):
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
        self._queue: asyncio.Queue[_T] = asyncio.Queue(limit)
        self._block_s = block_s
        self._writer: asyncio.Task[None] | None = None
        self._stall: asyncio.Task[None] | None = None
        self.stalled: str | None = None  # why the peer was given up, once it was
        self.closed = False

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    def start(self) -> None:
        if self._writer is None and not self.closed:
            self._writer = asyncio.get_running_loop().create_task(self._run())

    def offer(self, item: _T) -> None:
        """Queue `item` without waiting; a full queue stalls the outbox (item dropped)."""
        if self.closed:
            return
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self._give_up(f"more than {self._queue.maxsize} frames waiting")

    async def put(self, item: _T) -> None:
        """Queue `item`, waiting for room at most the send bound; then the outbox stalls."""
        if self.closed:
            return
        try:
            async with asyncio.timeout(self._block_s):
                await self._queue.put(item)
        except TimeoutError:
            self._give_up(f"no room for {self._block_s:g} s")

    def close(self) -> None:
        """Stop writing (the socket is closing or gone); what is queued is dropped."""
        self.closed = True
        if self._writer is not None and self._writer is not asyncio.current_task():
            self._writer.cancel()

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                async with asyncio.timeout(self._block_s):
                    await self._write(item)
            except TimeoutError:
                self._give_up(f"a send blocked for {self._block_s:g} s")
                return
            except Exception:  # the socket is gone: its reader sees the disconnect
                self.close()
                return

    def _give_up(self, reason: str) -> None:
        if self.closed:
            return
        self.stalled = reason
        self.close()
        with contextlib.suppress(asyncio.QueueEmpty):
            while True:
                self._queue.get_nowait()
        self._stall = asyncio.get_running_loop().create_task(self._on_stall(reason))
