"""A station that cannot be admitted right now (storage overloaded or down, as in a reconnect
storm that empties the connection pool) is refused with 503, which a charger retries, and not
with an error that drops the handshake."""

from __future__ import annotations

import base64
from typing import Any

from voltbook.ocpp.gateway import OcppGateway


class OverloadedFleet:
    async def admit(self, station_id: str, password: str) -> Any:
        raise TimeoutError("no storage connection free within 30 s")


async def test_admission_that_fails_is_refused_with_503() -> None:
    gateway = OcppGateway(OverloadedFleet(), None, None, None, None)  # type: ignore[arg-type]
    credentials = base64.b64encode(b"ST-1:station-password-0001")
    scope = {
        "type": "websocket",
        "path_params": {"station_id": "ST-1"},
        "subprotocols": ["ocpp1.6"],
        "headers": [(b"authorization", b"Basic " + credentials)],
        "extensions": {"websocket.http.response": {}},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await gateway(scope, receive, send)
    assert sent[0] == {
        "type": "websocket.http.response.start",
        "status": 503,
        "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"retry-after", b"5")],
    }
