"""The server's WebSocket protocol: uvicorn's own (websockets, sans-I/O), except that a close
goes out at once even to a peer that has stopped reading (docs/adr/0031).

uvicorn makes every ASGI send, a close too, wait until the socket's write buffer drains,
so closing a peer that reads nothing would wait for ever. Here a close asked for while
writing is paused is written past the buffer's mark at once (a peer that reads again finds
it after what it was sent), and the socket is dropped when the peer has not answered it
within the close timeout, instead of waiting for a buffer that never drains.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class WebSocketProtocol(WebSocketsSansIOProtocol):
    async def send(self, message: Any) -> None:
        if message["type"] == "websocket.close" and self._stuck_open():
            self._close_now(int(message.get("code", 1000)), str(message.get("reason") or ""))
            return
        await super().send(message)

    def _stuck_open(self) -> bool:
        """Open, past the handshake, and waiting for the peer to read."""
        return (
            self.handshake_complete
            and not self.disconnected
            and not self.close_sent
            and self.initial_response is None
            and not self.transport.is_closing()
            and not self.writable.is_set()
        )

    def _close_now(self, code: int, reason: str) -> None:
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        self.conn.send_close(code, reason)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        # The peer's answering close ends it gracefully (handle_close); else it is dropped.
        self.close_timer = self.loop.call_later(self.close_timeout, self.transport.abort)
