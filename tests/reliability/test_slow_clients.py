"""Slow clients (docs/adr/0031): an app or a station that stops reading cannot hold up anyone
else. Its frames queue up to a bound; past it (or past a send blocked too long) it is closed
with 4408, while the others keep hearing every change within a bound."""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from tests.e2e.ocpp_client import basic, connect
from tests.e2e.test_live import live
from tests.e2e.test_offers import account
from tests.e2e.test_reservations import new_drivers
from voltbook.core.outbox import SLOW_PEER
from voltbook.drivers.model import Role
from voltbook.live.hub import LiveHub
from voltbook.notices.events import StationStatusBroadcast
from voltbook.services import Services

STATION = "SLOW-CLIENTS-1"
START = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
FAN_OUT_BOUND_S = 2.0  # the reading app hears each change within this, even on a shared machine
# Another station's heartbeat is answered within this while the stalled one floods the server
# with 20,000 frames (the flood's own CPU cost, not a wait on the stalled station).
STATION_BOUND_S = 3.0


@pytest.fixture
def engine(own_database: tuple[str, AsyncEngine]) -> AsyncEngine:
    return own_database[1]


class StalledPeer:
    """A real socket with a tiny receive buffer: it speaks WebSocket through the handshake
    and its first messages, then stops reading (as an app behind a frozen screen would)."""

    def __init__(self, sock: socket.socket, protocol: ClientProtocol) -> None:
        self.sock = sock
        self.protocol = protocol
        self.texts: list[str] = []
        self.close_code: int | None = None

    async def send_text(self, text: str) -> None:
        self.protocol.send_text(text.encode())
        await self._flush()

    async def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                await asyncio.get_running_loop().sock_sendall(self.sock, data)

    async def send_many(self, texts: list[str]) -> None:
        for count, text in enumerate(texts, 1):
            self.protocol.send_text(text.encode())
            if count % 500 == 0:
                await self._flush()
        await self._flush()

    async def read_until_open(self, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while self.protocol.state is not State.OPEN:
                if not await self._read_some():
                    raise AssertionError("refused")

    async def read_until(self, wanted: str, timeout: float = 5.0) -> None:
        """Read (while it still reads) until a text message of type `wanted` came."""
        async with asyncio.timeout(timeout):
            while not any(json.loads(t).get("type") == wanted for t in self.texts):
                if not await self._read_some():
                    raise AssertionError(f"closed before {wanted}")

    async def read_to_the_end(self, timeout: float = 30.0) -> None:
        """Start reading again: everything still buffered, then the close."""
        async with asyncio.timeout(timeout):
            while await self._read_some():
                pass

    async def _read_some(self) -> bool:
        data = await asyncio.get_running_loop().sock_recv(self.sock, 1 << 20)
        if not data:
            self.protocol.receive_eof()
        else:
            self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                self.texts.append(event.data.decode())
            elif isinstance(event, Frame) and event.opcode is Opcode.CLOSE:
                assert self.protocol.close_rcvd is not None
                self.close_code = self.protocol.close_rcvd.code
                return False
            elif isinstance(event, Response):
                assert event.status_code == 101, event
        await self._flush()  # answer pings while it reads
        return bool(data)


@asynccontextmanager
async def stalled_peer(
    url: str, headers: dict[str, str], subprotocol: str | None = None
) -> AsyncIterator[StalledPeer]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)  # before connect: the window
    sock.setblocking(False)
    uri = parse_uri(url)
    try:
        await asyncio.get_running_loop().sock_connect(sock, (uri.host, uri.port))
        offered = [Subprotocol(subprotocol)] if subprotocol else None
        protocol = ClientProtocol(uri, subprotocols=offered, max_size=None)
        request = protocol.connect()
        for name, value in headers.items():
            request.headers[name] = value
        protocol.send_request(request)
        peer = StalledPeer(sock, protocol)
        await peer._flush()
        yield peer
    finally:
        sock.close()


def status_change(index: int) -> StationStatusBroadcast:
    """The index-th change of the station (its instant tells the changes apart)."""
    status = "Available" if index % 2 else "Occupied"
    at = START + timedelta(seconds=index)
    return StationStatusBroadcast(STATION, 1, 1, status, at, None, None)


async def test_an_app_that_stops_reading_is_closed_and_never_holds_up_the_others(
    served: tuple[str, Any], engine: AsyncEngine
) -> None:
    base, app = served
    hub = cast(LiveHub, cast(Services, app.state.services).live)
    slow_driver, fast_driver = await new_drivers(engine, 2)
    url = base.replace("http://", "ws://") + "/api/v1/live"
    sent_at: dict[str, float] = {}
    lags: list[float] = []
    heard = 0

    async with live(base, fast_driver) as fast, stalled_peer(url, slow_driver) as slow:
        await slow.read_until("welcome")
        await slow.send_text(json.dumps({"type": "subscribe", "topic": f"station:{STATION}"}))
        await slow.read_until("subscribed")
        await fast.send({"type": "subscribe", "topic": f"station:{STATION}"})
        await fast.next_of("subscribed")
        assert hub.connections == 2

        async def listen() -> None:
            nonlocal heard
            while True:
                message = await fast.receive(timeout=10)
                if message["type"] == "station.status":
                    lags.append(time.monotonic() - sent_at[message["at"]])
                    heard += 1

        listener = asyncio.create_task(listen())
        index = 0
        started = time.monotonic()
        # The slow app's kernel buffers take some megabytes; then its queue fills up.
        async with asyncio.timeout(60):  # a fan-out waiting on the slow app never ends
            while hub.connections == 2 and index < 40_000:
                for _ in range(50):
                    event = status_change(index)
                    sent_at[event.at.isoformat()] = time.monotonic()
                    await hub.on_station_status(event)  # what the event bus calls
                    index += 1
                await asyncio.sleep(0)  # the fast app reads meanwhile
        gave_up_after = index
        assert hub.connections == 1, "the app that stopped reading is still served"
        # The others still hear every change after it.
        for _ in range(100):
            event = status_change(index)
            sent_at[event.at.isoformat()] = time.monotonic()
            await hub.on_station_status(event)
            index += 1
        async with asyncio.timeout(15):
            while heard < index:
                await asyncio.sleep(0.01)
        listener.cancel()
        elapsed = time.monotonic() - started

        assert max(lags) < FAN_OUT_BOUND_S, max(lags)
        # The stalled app, reading again, finds what it was sent and then the close.
        await slow.read_to_the_end()
        assert slow.close_code == SLOW_PEER
        statuses = [t for t in slow.texts if json.loads(t)["type"] == "station.status"]
        assert 0 < len(statuses) < gave_up_after
    print(
        f"\nslow app closed after {gave_up_after} changes ({elapsed:.1f} s); the reading app "
        f"heard all {index}, slowest after {max(lags) * 1000:.0f} ms"
    )


@pytest.fixture
async def operator(engine: AsyncEngine) -> dict[str, str]:
    _, headers = await account(engine, Role.OPERATOR)
    return headers


@pytest.fixture
def app_overrides() -> dict[str, object]:
    return {"websocket_send_block_s": 1.0}  # the stated bound, short for the test


@pytest.mark.long  # about 16 s per database: 20,000 frames through the gateway
async def test_a_station_that_stops_reading_is_closed_and_never_holds_up_another(
    base: str, http: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    """A charger that sends and stops reading: the answers to it queue up to the bound, then
    it is closed with 4408, while another station is answered in time throughout."""
    made = {}
    for name in ("stalled", "steady"):
        station_id = f"SLOW-{name}-{secrets.token_hex(3)}"
        answer = await http.post(
            "/api/v1/operator/stations", json={"id": station_id}, headers=operator
        )
        assert answer.status_code == 201, answer.text
        made[name] = (station_id, answer.json()["password"])
    stalled_id, stalled_password = made["stalled"]
    url = base.replace("http://", "ws://") + f"/ocpp/{stalled_id}"
    auth = {"Authorization": basic(stalled_id, stalled_password)}
    # An action nobody knows is answered without touching storage: many answers, fast.
    frames = [json.dumps([2, f"{i:036d}", "NoSuchActionAtAll", {}]) for i in range(20_000)]
    lags: list[float] = []
    async with (
        stalled_peer(url, auth, "ocpp1.6") as stalled,
        connect(base, *made["steady"]) as steady,
    ):
        await stalled.read_until_open()
        sending = asyncio.create_task(stalled.send_many(frames))

        async def online() -> bool:
            got = await http.get(f"/api/v1/operator/stations/{stalled_id}", headers=operator)
            return bool(got.json()["online"])

        async with asyncio.timeout(30):
            while not lags or await online():
                asked = time.monotonic()
                reply = await steady.call("Heartbeat", {})
                assert reply[0] == 3, reply
                lags.append(time.monotonic() - asked)
                await asyncio.sleep(0.05)
        sending.cancel()
        await stalled.read_to_the_end()
        assert stalled.close_code == SLOW_PEER
        answered = len(stalled.texts)
        assert 0 < answered < 20_000
    assert max(lags) < STATION_BOUND_S, max(lags)
    print(
        f"\nstalled station closed after {answered} answers; the other station's heartbeats "
        f"answered within {max(lags) * 1000:.0f} ms"
    )
