"""One station's WebSocket: sending frames and matching the answers to our own calls, and
counting both (`MessageCounts`: our calls and replies as sent, the station's answers by the
action they answer).

Frames go out through a bounded outbox: a station that stops reading is closed with 4408
instead of holding up whoever sends to it (docs/adr/0031)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from starlette.types import Send

from voltbook.core.errors import TimedOut, Unavailable, UpstreamFailed
from voltbook.core.outbox import QUEUE_LIMIT, SEND_BLOCK_S, SLOW_PEER, Outbox
from voltbook.ocpp.message_counts import CALL, ERROR, IN, OUT, RESULT, MessageCounts
from voltbook.ocpp.protocol import CallError, CallResult, Version, encode_call, new_unique_id
from voltbook.ocpp.reports import ReportAssembly


class StationConnection:
    def __init__(
        self,
        station_id: str,
        version: Version,
        send: Send,
        journal: Callable[[str, bool, str], None] | None = None,
        send_limit: int = QUEUE_LIMIT,
        send_block_s: float = SEND_BLOCK_S,
        counts: MessageCounts | None = None,
    ) -> None:
        self.station_id = station_id
        self.counts = counts
        self.version = version
        self._send = send
        self._journal = journal  # (station, inbound, frame): notes every frame, both ways
        self._block_s = send_block_s
        self._outbox: Outbox[str] = Outbox(
            self._write, self._too_slow, limit=send_limit, block_s=send_block_s
        )
        self._outbox.start()
        # Our calls waiting for their answer, by message id: their action and the future.
        self._pending: dict[str, tuple[str, asyncio.Future[dict[str, Any]]]] = {}
        self.closed = False
        self.calls = 0  # the station's calls so far
        # 1.6: whether the charger reserves "any connector" as connector 0 (asked once).
        self.reserves_connector_zero: bool | None = None
        # 2.0.1: NotifyReport parts put together for the GetBaseReport awaiting them.
        self.reports = ReportAssembly()

    async def send_text(self, text: str) -> None:
        """Queue a frame for the station (waits for room at most the send bound)."""
        if self.closed:
            raise Unavailable(f"station {self.station_id} is offline")
        await self._outbox.put(text)
        if self._outbox.stalled is not None:
            raise Unavailable(f"station {self.station_id} does not read what it is sent")
        if self._journal is not None:
            self._journal(self.station_id, False, text)

    async def reply(self, text: str, action: str, kind: str) -> None:
        """Answer the station (a CALLRESULT or CALLERROR of `action`, "" when unknown); a
        station closed meanwhile (gone, or too slow) misses it."""
        with contextlib.suppress(Unavailable):
            await self.send_text(text)
            if self.counts is not None:
                self.counts.count(OUT, action, kind)

    async def _write(self, text: str) -> None:
        await self._send({"type": "websocket.send", "text": text})

    async def _too_slow(self, reason: str) -> None:
        await self.close(SLOW_PEER, "too slow: " + reason)

    async def call(self, action: str, payload: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """Send a CALL and wait for the station's CALLRESULT payload."""
        unique_id = new_unique_id()
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[unique_id] = (action, future)
        try:
            await self.send_text(encode_call(unique_id, action, payload))
            if self.counts is not None:
                self.counts.count(OUT, action, CALL)
            async with asyncio.timeout(timeout_s):
                return await future
        except TimeoutError:
            raise TimedOut(
                f"station {self.station_id} did not answer {action} within {timeout_s:g} s"
            ) from None
        finally:
            self._pending.pop(unique_id, None)

    def answer(self, frame: CallResult | CallError) -> None:
        """Hand a station's answer to the call waiting for it; unknown ids are ignored."""
        action, future = self._pending.get(frame.unique_id, ("", None))
        if self.counts is not None:
            self.counts.count(IN, action, RESULT if isinstance(frame, CallResult) else ERROR)
        if future is None or future.done():
            return
        if isinstance(frame, CallResult):
            future.set_result(frame.payload)
        else:
            future.set_exception(
                UpstreamFailed(f"station answered {frame.code}: {frame.description[:200]}")
            )

    async def close(self, code: int, reason: str) -> None:
        """Close now: frames still queued are dropped."""
        if self.closed:
            return
        self.gone()
        with contextlib.suppress(Exception):  # closing already, or gone
            async with asyncio.timeout(self._block_s):
                await self._send({"type": "websocket.close", "code": code, "reason": reason})

    def gone(self) -> None:
        """The socket is closed: every call still waiting fails now, not at its timeout."""
        self.closed = True
        self._outbox.close()
        self.reports.gone()
        for _, future in self._pending.values():
            if not future.done():
                future.set_exception(Unavailable(f"station {self.station_id} went offline"))
