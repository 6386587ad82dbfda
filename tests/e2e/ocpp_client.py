"""A bare OCPP-J client for tests: real WebSocket, raw frames, scripted answers to commands."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection


def basic(station_id: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{station_id}:{password}".encode()).decode()


class ScriptedStation:
    """Sends CALLs and raw frames; answers the server's CALLs from `answers` (action → payload)."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.answers: dict[str, dict[str, Any]] = {}
        self.received_calls: list[list[Any]] = []
        self._replies: asyncio.Queue[list[Any]] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.socket:
                frame = json.loads(raw)
                if frame[0] == 2:
                    self.received_calls.append(frame)
                    answer = self.answers.get(frame[2])
                    if answer is not None:
                        await self.socket.send(json.dumps([3, frame[1], answer]))
                else:
                    await self._replies.put(frame)

    async def call(self, action: str, payload: dict[str, Any]) -> list[Any]:
        """Send a CALL; returns the server's whole reply frame."""
        unique_id = f"m{next(self._ids)}"
        await self.socket.send(json.dumps([2, unique_id, action, payload]))
        reply = await self.reply()
        assert reply[1] == unique_id, reply
        return reply

    async def raw(self, text: str) -> list[Any]:
        await self.socket.send(text)
        return await self.reply()

    async def reply(self, timeout: float = 5.0) -> list[Any]:
        async with asyncio.timeout(timeout):
            return await self._replies.get()

    async def close(self) -> None:
        await self.socket.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@asynccontextmanager
async def connect(
    server_url: str, station_id: str, password: str | None, version: str = "ocpp1.6"
) -> AsyncIterator[ScriptedStation]:
    url = server_url.replace("http://", "ws://") + f"/ocpp/{station_id}"
    headers = {"Authorization": basic(station_id, password)} if password else {}
    socket = await websockets.connect(
        url,
        subprotocols=[websockets.Subprotocol(version)],
        additional_headers=headers,
        max_size=None,
    )
    station = ScriptedStation(socket)
    try:
        yield station
    finally:
        await station.close()
