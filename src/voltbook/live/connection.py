"""One app's live channel as the hub keeps it: its socket, who opened it, what it follows,
the queries it has not answered yet, how fast it may send, and what it has yet to be sent
(a bounded outbox: an app that stops reading is closed with 4408, docs/adr/0031)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Send
from starlette.websockets import WebSocket

from voltbook.core.outbox import QUEUE_LIMIT, SEND_BLOCK_S, SLOW_PEER, Outbox
from voltbook.live.messages import BadMessage
from voltbook.notices.model import Topic

RATE = 10.0  # messages per second an app may send, on average
BURST = 40  # and at once


@dataclass(eq=False)
class Connection:
    socket: WebSocket
    raw_send: Send  # the server's own send: one ASGI message is one whole frame
    driver_id: str
    staff: bool
    sign_in_id: str = ""
    cursor: int = 0  # the newest notice sequence this app has been sent
    topics: set[Topic] = field(default_factory=set)
    deliver_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    queries: dict[str, tuple[str, asyncio.Future[dict[str, Any]]]] = field(default_factory=dict)
    allowance: float = float(BURST)  # messages this app may still send right now
    checked_at: float = field(default_factory=time.monotonic)
    send_bounds: tuple[int, float] = (QUEUE_LIMIT, SEND_BLOCK_S)  # frames queued, seconds
    outbox: Outbox[dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        limit, block_s = self.send_bounds
        self.outbox = Outbox(self.raw_send, self._too_slow, limit=limit, block_s=block_s)
        self.outbox.start()

    def spend(self) -> None:
        """One message from the app: BadMessage when it is over its rate (a token bucket)."""
        now = time.monotonic()
        self.allowance = min(float(BURST), self.allowance + (now - self.checked_at) * RATE)
        self.checked_at = now
        if self.allowance < 1.0:
            raise BadMessage("rate-limited", f"at most {RATE:g} messages a second")
        self.allowance -= 1.0

    async def send(self, message: dict[str, Any] | str) -> None:
        """Queue a message for the app (waits for room at most the send bound)."""
        text = message if isinstance(message, str) else json.dumps(message, separators=(",", ":"))
        await self.outbox.put({"type": "websocket.send", "text": text})

    def offer(self, frame: dict[str, Any]) -> None:
        """Queue one ASGI send message without waiting (a fan-out's: shared, read only)."""
        self.outbox.offer(frame)

    async def close(self, code: int, reason: str) -> None:
        """Close now: what is still queued is dropped."""
        self.outbox.close()
        with contextlib.suppress(Exception):  # closing already, or gone
            async with asyncio.timeout(self.send_bounds[1]):
                await self.raw_send({"type": "websocket.close", "code": code, "reason": reason})

    async def _too_slow(self, reason: str) -> None:
        await self.close(SLOW_PEER, "too slow: " + reason)
