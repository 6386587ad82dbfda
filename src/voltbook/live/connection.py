"""One app's live channel as the hub keeps it: its socket, who opened it, what it follows,
the queries it has not answered yet, and how fast it may send."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Send
from starlette.websockets import WebSocket, WebSocketState

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

    def spend(self) -> None:
        """One message from the app: BadMessage when it is over its rate (a token bucket)."""
        now = time.monotonic()
        self.allowance = min(float(BURST), self.allowance + (now - self.checked_at) * RATE)
        self.checked_at = now
        if self.allowance < 1.0:
            raise BadMessage("rate-limited", f"at most {RATE:g} messages a second")
        self.allowance -= 1.0

    async def send(self, message: dict[str, Any] | str) -> None:
        text = message if isinstance(message, str) else json.dumps(message, separators=(",", ":"))
        if self.socket.application_state is WebSocketState.CONNECTED:
            await self.socket.send_text(text)
