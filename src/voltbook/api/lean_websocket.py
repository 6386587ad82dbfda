"""The server's WebSocket protocol (uvicorn's websockets-sansio one, see
`websocket_protocol.py`), keeping less for each open socket.

A charger keeps its socket open for days and says little; thousands of them are mostly idle
connections, and what each keeps is memory (docs/benchmarks.md, "OCPP idle connections").
uvicorn's protocol keeps, for every socket, an `asyncio.Queue` (three deques and an Event
with a fourth, about 3 KB even when empty), an `asyncio.Event` for writability (a deque,
760 bytes), and the upgrade's request and response with their headers for as long as the
socket lives, which nothing reads after the handshake (the ASGI scope keeps its own copy
of the headers, which the live channel reads after it accepts). This subclass keeps a small
inbox and flag instead, and empties the upgrade's headers once it is answered. Everything else is
uvicorn's (pinned in pyproject.toml; tests/e2e cover both endpoints through it).
"""

from __future__ import annotations

import asyncio
from typing import Any

from voltbook.api.websocket_protocol import WebSocketProtocol


class _Inbox:
    """What uvicorn needs of its receive queue: `put_nowait`, `get`, `empty`; one reader."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> Any:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)


class _Flag:
    """What uvicorn needs of its writability event: `set`, `clear`, `is_set`, `wait`. Its
    waiters (senders while the socket's buffer is full) are made only when there are any."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = True
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> None:
        while not self._set:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
            await waiter


class LeanWebSocketProtocol(WebSocketProtocol):
    """`uvicorn.Config(ws=LeanWebSocketProtocol)`: the server's protocol (a close goes out at
    once to a peer that stopped reading, ADR 0031), with less kept per socket."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = _Inbox()  # type: ignore[assignment]
        self.writable = _Flag()  # type: ignore[assignment]

    async def send(self, message: Any) -> None:
        await super().send(message)
        if self.handshake_complete:
            # The upgrade is answered (or refused): its request and response are not read
            # again, and their headers would otherwise stay as long as the socket.
            for upgrade in (
                self.__dict__.pop("request", None),
                self.__dict__.pop("response", None),
            ):
                if upgrade is not None:
                    # The request stays referenced by the protocol's parser (a generator that
                    # parsed it); its headers are what weighs.
                    upgrade.headers.clear()
