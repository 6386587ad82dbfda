"""OCPP ingest: simulated stations sending MeterValues and Heartbeats as fast as answered.

`voltbook serve` runs in a child process (one uvicorn process, as deployed), on SQLite and
on PostgreSQL in fresh databases. This process is the load generator: N stations (default
100), each on its own WebSocket (ocpp1.6, then ocpp2.0.1), send BootNotification, start a
transaction (1.6 StartTransaction / 2.0.1 TransactionEvent Started), then loop: a meter
reading with three sampled values (energy in Wh, rising; power in W; SoC in %) with a
strictly increasing timestamp — 1.6 MeterValues, 2.0.1 TransactionEvent Updated — and
every 10th message a Heartbeat, each sent as soon as the previous answer has arrived.
Only CALLRESULTs count; a CALLERROR or anything else is an error and must not happen.

Ceilings, measured in the same run with the same client, frames and connections:

* a raw WebSocket echo server (the `websockets` library on uvloop, no OCPP, no app): what
  a Python WebSocket server can do on this machine at all;
* a bare ASGI echo app on uvicorn, configured and started exactly as `voltbook serve`
  starts its server: the same stack minus voltbook's gateway and use cases.

A reference row runs the same load against a server built on the `ocpp` package's own
`ChargePoint` dispatch (jsonschema validation), which the issue quotes at ~900 msgs/s.

The client is a minimal WebSocket client (`Station`, an asyncio protocol whose replies
trigger the next frame from a callback: no task switch, no library framing), because
any Python client costs CPU and on 2 cores it runs beside the server. The server's and
the client's CPU use are measured from /proc, and server CPU-seconds per 1,000 messages
is reported as a figure that does not depend on how fast the client is.

Memory per idle connection, for each of `--idle` (default 2,000 and 10,000): a fresh server
with that many registered stations (rows written straight into the database, one hash shared
by all) is warmed with 100 connections, then the rest connect, boot (BootNotification and a
StatusNotification per connector) and stay idle; (RSS after - RSS before) / added
connections. The ceiling, in the same run with the same client and frames: the `websockets`
echo server above keeping the same number of idle connections; ratio = voltbook's KB per
connection ÷ the bare server's.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gc
import hashlib
import json
import math
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx

from benchmarks.common import (
    QUIET,
    Ceiling,
    CpuSnapshot,
    HttpLoad,
    Row,
    Stats,
    free_port,
    fresh_database,
    print_lines,
)
from voltbook.security.passwords import Argon2idHasher
from voltbook.storage import migrate
from voltbook.storage.database import create_engine
from voltbook.storage.tables import stations as stations_table

try:  # the C version websockets itself uses
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - pure-Python fallback
    from websockets.utils import apply_mask

DEFAULT_PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
HOST = "127.0.0.1"
V16 = "ocpp1.6"
V201 = "ocpp2.0.1"
WARMUP_S = 3.0
HEARTBEAT_EVERY = 10  # every 10th message is a Heartbeat
WARM_CONNECTIONS = 100  # connections before the idle-memory baseline
CONNECT_BATCH = 200  # handshakes in flight at once when opening many connections
PASSWORD = "bench-station-password-0001"  # a test station's
OPERATOR_EMAIL = "bench-operator@example.org"
OPERATOR_PASSWORD = "bench operator password 1"
TARGET_RATE = 5_000.0
TARGET_P99_MS = 50.0
TARGET_KB_RATIO = 1.2  # voltbook's memory per idle connection ÷ a bare websockets server's
CONNECTORS = 2  # StatusNotification for each when an idle station boots

# --- the servers under test and the ceilings, as child-process scripts ------------------

# The raw ceiling: the websockets library's own server on uvloop, echoing every frame.
ECHO_SERVER = """
import asyncio, sys
import uvloop
from websockets.asyncio.server import serve

async def echo(connection):
    async for message in connection:
        await connection.send(message)

async def main(port):
    async with serve(echo, "127.0.0.1", port, compression=None, max_size=65536,
                     subprotocols=["ocpp1.6", "ocpp2.0.1"], backlog=4096):
        await asyncio.Future()

uvloop.run(main(int(sys.argv[1])))
"""

# voltbook's stack minus voltbook: uvicorn configured and started as `voltbook serve` does
# (src/voltbook/cli.py `_serve`), serving an ASGI app that accepts and echoes.
UVICORN_ECHO = """
import asyncio, sys
import uvicorn, uvloop

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "websocket":
        return
    await receive()
    offered = scope.get("subprotocols") or [None]
    await send({"type": "websocket.accept", "subprotocol": offered[0]})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": message["text"]})

config = uvicorn.Config(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=False,
                        log_level="warning", proxy_headers=True, ws_max_size=65536)
with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:  # as `voltbook serve`
    runner.run(uvicorn.Server(config).serve())
"""

# The reference the issue quotes: the `ocpp` package's ChargePoint dispatch (jsonschema
# validation of request and response) on a websockets server with uvloop.
OCPP_PACKAGE_SERVER = """
import asyncio, sys
from datetime import datetime, timezone
import uvloop
from websockets.asyncio.server import serve
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16, call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as ChargePoint201, call_result as result201
from ocpp.v201.enums import Action as Action201

def now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")

class Station16(ChargePoint16):
    @on(Action16.boot_notification)
    async def on_boot(self, **_):
        return result16.BootNotification(current_time=now(), interval=300, status="Accepted")
    @on(Action16.heartbeat)
    async def on_heartbeat(self, **_):
        return result16.Heartbeat(current_time=now())
    @on(Action16.start_transaction)
    async def on_start(self, **_):
        return result16.StartTransaction(transaction_id=1, id_tag_info={"status": "Accepted"})
    @on(Action16.meter_values)
    async def on_meter(self, **_):
        return result16.MeterValues()

class Station201(ChargePoint201):
    @on(Action201.boot_notification)
    async def on_boot(self, **_):
        return result201.BootNotification(current_time=now(), interval=300, status="Accepted")
    @on(Action201.heartbeat)
    async def on_heartbeat(self, **_):
        return result201.Heartbeat(current_time=now())
    @on(Action201.transaction_event)
    async def on_event(self, **_):
        return result201.TransactionEvent()

async def handle(connection):
    kind = Station16 if connection.subprotocol == "ocpp1.6" else Station201
    try:
        await kind(connection.request.path.rsplit("/", 1)[-1], connection).start()
    except Exception:
        pass

async def main(port):
    async with serve(handle, "127.0.0.1", port, compression=None, max_size=65536,
                     subprotocols=["ocpp1.6", "ocpp2.0.1"], backlog=4096):
        await asyncio.Future()

uvloop.run(main(int(sys.argv[1])))
"""


# --- the load generator: a minimal WebSocket client -------------------------------------

_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_OP_TEXT, _OP_CLOSE, _OP_PING, _OP_PONG = 0x1, 0x8, 0x9, 0xA


class HandshakeRefused(Exception):
    pass


def _stamp(ms: int) -> str:
    """An RFC 3339 UTC timestamp with milliseconds, from milliseconds since the epoch."""
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


class Script:
    """One station's traffic: the frames it sends, in order, with rising readings."""

    def __init__(self, version: str, transaction: str) -> None:
        self.version = version
        self.transaction = transaction  # 1.6: the server's transactionId; 2.0.1: ours
        self.energy_wh = 10_000 + secrets.randbelow(50_000)
        self.seq_no = 0
        self.last_ms = 0

    def _next_ms(self) -> int:
        # Wall clock, and strictly increasing even when messages come faster than 1/ms.
        self.last_ms = max(int(time.time() * 1000), self.last_ms + 1)
        return self.last_ms

    def frame(self, unique_id: str, number: int) -> str:
        if number % HEARTBEAT_EVERY == 0:
            return f'[2,"{unique_id}","Heartbeat",{{}}]'
        self.energy_wh += 3
        self.seq_no += 1
        at = _stamp(self._next_ms())
        power_w = 7_000 + number % 400
        soc = 20 + (number // 50) % 80
        if self.version == V16:
            return (
                f'[2,"{unique_id}","MeterValues",{{"connectorId":1,"transactionId":'
                f'{self.transaction},"meterValue":[{{"timestamp":"{at}","sampledValue":['
                f'{{"value":"{self.energy_wh}","context":"Sample.Periodic",'
                f'"measurand":"Energy.Active.Import.Register","unit":"Wh"}},'
                f'{{"value":"{power_w}","context":"Sample.Periodic",'
                f'"measurand":"Power.Active.Import","unit":"W"}},'
                f'{{"value":"{soc}","context":"Sample.Periodic",'
                f'"measurand":"SoC","unit":"Percent"}}]}}]}}]'
            )
        return (
            f'[2,"{unique_id}","TransactionEvent",{{"eventType":"Updated","timestamp":"{at}",'
            f'"triggerReason":"MeterValuePeriodic","seqNo":{self.seq_no},'
            f'"transactionInfo":{{"transactionId":"{self.transaction}"}},'
            f'"meterValue":[{{"timestamp":"{at}","sampledValue":['
            f'{{"value":{self.energy_wh},"context":"Sample.Periodic",'
            f'"measurand":"Energy.Active.Import.Register","unitOfMeasure":{{"unit":"Wh"}}}},'
            f'{{"value":{power_w},"context":"Sample.Periodic",'
            f'"measurand":"Power.Active.Import","unitOfMeasure":{{"unit":"W"}}}},'
            f'{{"value":{soc},"context":"Sample.Periodic",'
            f'"measurand":"SoC","unitOfMeasure":{{"unit":"Percent"}}}}]}}]}}]'
        )


class Pump:
    """What the stations of one measurement share: keep sending? record? what was seen."""

    def __init__(self, reply_type: int) -> None:
        # A CALLRESULT answers voltbook's and the ocpp package's CALLs; an echo returns
        # the CALL itself. Either way the message id must be ours.
        self.prefix = f"[{reply_type},".encode()
        self.running = True
        self.recording = False
        self.latencies: list[float] = []
        self.answered = 0
        self.errors = 0
        self.first_error: str | None = None
        self.active = 0
        self.idle = asyncio.Event()

    def error(self, text: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = text[:300]

    def station_done(self) -> None:
        self.active -= 1
        if self.active <= 0:
            self.idle.set()


class Station(asyncio.Protocol):
    """One OCPP-J station's WebSocket, client side: handshake, masked frames, pongs."""

    def __init__(self, station_id: str, password: str, subprotocol: str, port: int) -> None:
        self.station_id = station_id
        self.subprotocol = subprotocol
        self._key = base64.b64encode(secrets.token_bytes(16))
        credentials = base64.b64encode(f"{station_id}:{password}".encode()).decode()
        self._request = (
            f"GET /ocpp/{station_id} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {self._key.decode()}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: {subprotocol}\r\nAuthorization: Basic {credentials}\r\n"
            "\r\n"
        ).encode()
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._open = False
        loop = asyncio.get_running_loop()
        self.handshake: asyncio.Future[None] = loop.create_future()
        self._reply: asyncio.Future[bytes] | None = None
        self._pump: Pump | None = None
        self._script: Script | None = None
        self._number = 0
        self._expect = b""
        self._sent_at = 0.0
        self.closed = False

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if not self._open and not self._read_handshake():
            return
        position = 0
        size = len(buffer)
        while size - position >= 2:
            first, second = buffer[position], buffer[position + 1]
            length = second & 0x7F
            header = 2
            if length == 126:
                if size - position < 4:
                    break
                length = int.from_bytes(buffer[position + 2 : position + 4], "big")
                header = 4
            elif length == 127:
                if size - position < 10:
                    break
                length = int.from_bytes(buffer[position + 2 : position + 10], "big")
                header = 10
            end = position + header + length
            if end > size:
                break
            payload = bytes(buffer[position + header : end])
            position = end
            if not self._frame(first, payload):
                return
        del buffer[:position]

    def _frame(self, first: int, payload: bytes) -> bool:
        """Handle one server frame; False once the connection is closing."""
        opcode = first & 0x0F
        if opcode == _OP_TEXT and first & 0x80:
            self._message(payload)
        elif opcode == _OP_PING:
            self._send_frame(_OP_PONG, payload)
        elif opcode == _OP_CLOSE:
            self._closed_by_server(payload)
            return False
        elif opcode != _OP_PONG:
            self._fail(f"unexpected frame opcode {opcode} (fin {first >> 7})")
        return True

    def _read_handshake(self) -> bool:
        """Consume the server's handshake answer once complete; True when upgraded."""
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self._buffer[:end])
        del self._buffer[: end + 4]
        self._upgraded(head)
        return self._open

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(f"connection lost: {exc!r}" if exc else "connection closed")

    # framing

    def _upgraded(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        status = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(hashlib.sha1(self._key + _WS_GUID).digest()).decode()
        if len(status) < 2 or status[1] != "101":
            error = HandshakeRefused(f"{self.station_id}: {lines[0]}")
        elif headers.get("sec-websocket-accept") != accept:
            error = HandshakeRefused(f"{self.station_id}: wrong Sec-WebSocket-Accept")
        elif headers.get("sec-websocket-protocol") != self.subprotocol:
            error = HandshakeRefused(f"{self.station_id}: no {self.subprotocol} subprotocol")
        else:
            self._open = True
            if not self.handshake.done():
                self.handshake.set_result(None)
            return
        if not self.handshake.done():
            self.handshake.set_exception(error)
        if self.transport is not None:
            self.transport.close()

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        if self.transport is None or self.closed:
            return
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = bytes((0x80 | opcode, 0x80 | length))
        elif length < 65_536:
            header = bytes((0x80 | opcode, 0x80 | 126)) + length.to_bytes(2, "big")
        else:
            header = bytes((0x80 | opcode, 0x80 | 127)) + length.to_bytes(8, "big")
        self.transport.write(header + mask + apply_mask(payload, mask))

    def _message(self, payload: bytes) -> None:
        pump = self._pump
        if pump is None:
            if self._reply is not None and not self._reply.done():
                self._reply.set_result(payload)
            return
        now = time.perf_counter()
        if pump.recording:
            if payload.startswith(self._expect):
                pump.answered += 1
                pump.latencies.append((now - self._sent_at) * 1000.0)
            else:
                pump.error(f"{self.station_id}: {payload[:300].decode(errors='replace')}")
        elif not payload.startswith(self._expect):
            pump.error(f"{self.station_id} (warm-up): {payload[:300].decode(errors='replace')}")
        if pump.running:
            self._send_next()
        else:
            self._pump = None
            pump.station_done()

    def _closed_by_server(self, payload: bytes) -> None:
        code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
        if not self.closed:
            self._send_frame(_OP_CLOSE, payload[:2])
        self._fail(f"closed by the server with {code} {payload[2:].decode(errors='replace')}")
        if self.transport is not None:
            self.transport.close()

    def _fail(self, reason: str) -> None:
        self.closed = True
        if not self.handshake.done():
            self.handshake.set_exception(HandshakeRefused(f"{self.station_id}: {reason}"))
        if self._reply is not None and not self._reply.done():
            self._reply.set_exception(ConnectionError(f"{self.station_id}: {reason}"))
        if self._pump is not None:
            pump, self._pump = self._pump, None
            pump.error(f"{self.station_id}: {reason}")
            pump.station_done()

    # what the benchmark does with a station

    async def call(self, action: str, payload: dict[str, Any], timeout_s: float = 60.0) -> Any:
        """One CALL outside the pumped loop; returns the CALLRESULT payload."""
        unique_id = secrets.token_hex(8)
        self._reply = asyncio.get_running_loop().create_future()
        self._send_frame(_OP_TEXT, json.dumps([2, unique_id, action, payload]).encode())
        async with asyncio.timeout(timeout_s):
            raw = await self._reply
        frame = json.loads(raw)
        if frame[0] == 2 and frame[1] == unique_id:  # an echo server
            return {}
        if frame[0] != 3 or frame[1] != unique_id:
            raise RuntimeError(f"{self.station_id} {action}: {raw[:300]!r}")
        return frame[2]

    def start(self, pump: Pump, script: Script) -> None:
        """Send frames back to back, the next as soon as the answer to the last came."""
        self._pump = pump
        self._script = script
        pump.active += 1
        self._send_next()

    def _send_next(self) -> None:
        assert self._script is not None
        self._number += 1
        unique_id = str(self._number)
        text = self._script.frame(unique_id, self._number)
        assert self._pump is not None
        self._expect = self._pump.prefix + b'"' + unique_id.encode() + b'"'
        self._sent_at = time.perf_counter()
        self._send_frame(_OP_TEXT, text.encode())

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


async def open_station(station_id: str, password: str, subprotocol: str, port: int) -> Station:
    loop = asyncio.get_running_loop()
    _, station = await loop.create_connection(
        lambda: Station(station_id, password, subprotocol, port), HOST, port
    )
    async with asyncio.timeout(120.0):
        await station.handshake
    return station


BOOT = {
    V16: ("BootNotification", {"chargePointVendor": "Bench", "chargePointModel": "Sim-22"}),
    V201: (
        "BootNotification",
        {"reason": "PowerUp", "chargingStation": {"vendorName": "Bench", "model": "Sim-150"}},
    ),
}


def status_notification(subprotocol: str, connector: int) -> tuple[str, dict[str, Any]]:
    """A booted station's StatusNotification for one of its connectors: Available."""
    if subprotocol == V16:
        return "StatusNotification", {
            "connectorId": connector,
            "errorCode": "NoError",
            "status": "Available",
        }
    return "StatusNotification", {
        "timestamp": _stamp(int(time.time() * 1000)),
        "connectorStatus": "Available",
        "evseId": connector,
        "connectorId": 1,
    }


async def begin_charging(station: Station, run: str) -> Script:
    """BootNotification, then a started transaction; the script that meters it."""
    action, payload = BOOT[station.subprotocol]
    await station.call(action, payload)
    now = _stamp(int(time.time() * 1000))
    if station.subprotocol == V16:
        started = await station.call(
            "StartTransaction",
            {"connectorId": 1, "idTag": "BENCH-TAG", "meterStart": 10_000, "timestamp": now},
        )
        return Script(V16, str(started.get("transactionId", 1)))
    transaction = f"tx-{run}-{station.station_id}"[:36]
    await station.call(
        "TransactionEvent",
        {
            "eventType": "Started",
            "timestamp": now,
            "triggerReason": "Authorized",
            "seqNo": 0,
            "transactionInfo": {"transactionId": transaction, "chargingState": "Charging"},
            "idToken": {"idToken": "BENCH-TAG", "type": "ISO14443"},
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [
                {
                    "timestamp": now,
                    "sampledValue": [
                        {"value": 10_000, "measurand": "Energy.Active.Import.Register"}
                    ],
                }
            ],
        },
    )
    return Script(V201, transaction)


async def open_many(
    ids: Sequence[str], subprotocol: str, port: int, *, boot: bool
) -> tuple[list[Station], list[str]]:
    """Connect (and boot) stations, CONNECT_BATCH at a time; the stations and the failures."""
    opened: list[Station] = []
    failures: list[str] = []

    async def one(station_id: str) -> None:
        try:
            station = await open_station(station_id, PASSWORD, subprotocol, port)
            opened.append(station)
            if boot:
                action, payload = BOOT[subprotocol]
                await station.call(action, payload, timeout_s=120.0)
                for connector in range(1, CONNECTORS + 1):
                    action, payload = status_notification(subprotocol, connector)
                    await station.call(action, payload, timeout_s=120.0)
        except (OSError, RuntimeError, HandshakeRefused, TimeoutError) as error:
            failures.append(f"{station_id}: {type(error).__name__}: {error}")

    for start in range(0, len(ids), CONNECT_BATCH):
        await asyncio.gather(*(one(i) for i in ids[start : start + CONNECT_BATCH]))
    return opened, failures


# --- child processes ----------------------------------------------------------------------


def raise_fd_limit() -> int:
    """Raise this process's open-file limit to the hard limit (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass(frozen=True, slots=True)
class Served:
    port: int
    pid: int


def _start(
    command: list[str], env: dict[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:
        return subprocess.Popen(command, env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT)


@contextlib.asynccontextmanager
async def child_server(
    name: str,
    command: list[str],
    env: dict[str, str],
    workdir: Path,
    port: int,
    *,
    http: bool,
    start_s: float = 60.0,
) -> AsyncIterator[Served]:
    """A server in a child process; yields once it accepts (or answers /healthz)."""
    log = workdir / f"{name}-{port}.log"
    process = await asyncio.to_thread(_start, command, env, workdir, log)
    try:
        deadline = time.monotonic() + start_s
        while True:
            if process.poll() is not None:
                tail = (await asyncio.to_thread(log.read_text, errors="replace"))[-3000:]
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start within {start_s:g} s")
            if await _answers(port, http):
                break
            await asyncio.sleep(0.1)
        yield Served(port, process.pid)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, 10)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)


async def _answers(port: int, http: bool) -> bool:
    if http:
        load = HttpLoad(HOST, port)
        try:
            status, _ = await load.get("/healthz", 0)
        except (OSError, asyncio.IncompleteReadError):
            return False
        finally:
            await load.close()
        return status == 200
    try:
        _, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def voltbook_env(url: str, data_dir: Path) -> dict[str, str]:
    return os.environ | {
        "VOLTBOOK_DATABASE_URL": url,
        "VOLTBOOK_DATA_DIR": str(data_dir),
        "VOLTBOOK_LOG_LEVEL": "warning",
        # Stations charge with a tag voltbook does not know; free vend accepts it.
        "VOLTBOOK_OCPP_ACCEPT_UNKNOWN_ID_TAGS": "true",
    }


def voltbook_server(url: str, workdir: Path) -> contextlib.AbstractAsyncContextManager[Served]:
    port = free_port()
    command = [sys.executable, "-m", "voltbook", "serve", "--host", HOST, "--port", str(port)]
    return child_server("voltbook", command, voltbook_env(url, workdir), workdir, port, http=True)


def script_server(
    name: str, source: str, workdir: Path
) -> contextlib.AbstractAsyncContextManager[Served]:
    port = free_port()
    command = [sys.executable, "-c", source, str(port)]
    return child_server(name, command, dict(os.environ), workdir, port, http=False)


# --- databases ----------------------------------------------------------------------------


async def insert_stations(url: str, ids: Sequence[str]) -> None:
    """Register stations by writing their rows, with one argon2 hash for all (fast)."""
    hashed = Argon2idHasher(time_cost=1, memory_cost_kib=8_192).hash(PASSWORD)
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        now = datetime.now(UTC)
        rows = [{"id": i, "password_hash": hashed, "online": False, "created_at": now} for i in ids]
        async with engine.begin() as connection:
            for start in range(0, len(rows), 1_000):
                await connection.execute(stations_table.insert(), rows[start : start + 1_000])
    finally:
        await engine.dispose()


async def register_through_api(url: str, workdir: Path, port: int, ids: Sequence[str]) -> None:
    """An operator made with `voltbook user create`, then POST /api/v1/operator/stations."""
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=60.0) as client:
        token = await client.post(
            "/api/v1/auth/token",
            data={"username": OPERATOR_EMAIL, "password": OPERATOR_PASSWORD},
        )
        token.raise_for_status()
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        gate = asyncio.Semaphore(8)

        async def add(station_id: str) -> None:
            async with gate:
                made = await client.post(
                    "/api/v1/operator/stations",
                    json={"id": station_id, "password": PASSWORD},
                    headers=headers,
                )
            if made.status_code != 201:
                raise RuntimeError(f"registering {station_id}: {made.status_code} {made.text}")

        await asyncio.gather(*(add(i) for i in ids))


async def create_operator(url: str, workdir: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "voltbook",
        "user",
        "create",
        OPERATOR_EMAIL,
        "--role",
        "operator",
        "--password",
        OPERATOR_PASSWORD,
    ]
    done = await asyncio.to_thread(
        subprocess.run,
        command,
        env=voltbook_env(url, workdir),
        cwd=workdir,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"voltbook user create failed: {done.stderr.decode()[-2000:]}")


# --- measuring ----------------------------------------------------------------------------


@dataclass(slots=True)
class Figure:
    """One throughput measurement with what the client and the databases spent on it."""

    database: str
    version: str
    server: str
    stats: Stats
    client_percent: float
    ceilings: list[Ceiling] = field(default_factory=list)
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def server_cpu_per_1k(self) -> float:
        busy = (self.stats.cpu_percent or 0.0) / 100.0 * self.stats.elapsed_s
        return busy / self.stats.count * 1000.0 if self.stats.count else math.nan

    @property
    def postgres_cpu_per_1k(self) -> float:
        busy = (self.stats.postgres_cpu_percent or 0.0) / 100.0 * self.stats.elapsed_s
        return busy / self.stats.count * 1000.0 if self.stats.count else math.nan


async def _window(
    stations: Sequence[Station],
    scripts: Sequence[Script],
    pid: int,
    seconds: float,
    warmup: float,
    reply_type: int,
) -> tuple[Stats, float]:
    pump = Pump(reply_type)
    for station, script in zip(stations, scripts, strict=True):
        station.start(pump, script)
    await asyncio.sleep(warmup)
    gc.collect()
    before = CpuSnapshot.take(pid)
    pump.latencies.clear()
    pump.answered = 0
    started = time.perf_counter()
    pump.recording = True
    await asyncio.sleep(seconds)
    pump.recording = False
    elapsed = time.perf_counter() - started
    own, server, postgres, others = CpuSnapshot.take(pid).since(before, elapsed)
    pump.running = False
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(30.0):
            await pump.idle.wait()
    if pump.active > 0:
        pump.error(f"{pump.active} station(s) still waiting for an answer 30 s after the end")
    pump.latencies.sort()
    stats = Stats(
        concurrency=len(stations),
        count=pump.answered,
        errors=pump.errors,
        elapsed_s=elapsed,
        latencies_ms=pump.latencies,
        cpu_percent=server,
        postgres_cpu_percent=postgres,
        others_cpu_percent=others,
        first_error=pump.first_error,
    )
    return stats, own


async def measure_stations(
    stations: Sequence[Station],
    scripts: Sequence[Script],
    pid: int,
    seconds: float,
    warmup: float,
    reply_type: int,
) -> tuple[Stats, float]:
    """Pump the stations; measured again (within QUIET's budget) when others disturbed it."""
    best: tuple[Stats, float] | None = None
    attempt = 0
    while True:
        stats, own = await _window(stations, scripts, pid, seconds, warmup, reply_type)
        others = stats.others_cpu_percent or 0.0
        if best is None or others < (best[0].others_cpu_percent or 0.0) or stats.errors:
            best = (stats, own)
        left = QUIET.budget_s - QUIET.spent_s
        if (
            stats.errors
            or others <= QUIET.max_others_percent
            or attempt >= QUIET.retries
            or left <= 0
        ):
            return best
        attempt += 1
        started = time.monotonic()
        await _wait_until_quiet(min(10.0, left))
        QUIET.spent_s += time.monotonic() - started + warmup + seconds


async def _wait_until_quiet(limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        before = CpuSnapshot.take(None)
        await asyncio.sleep(0.5)
        _, _, postgres, others = CpuSnapshot.take(None).since(before, 0.5)
        if others + postgres <= QUIET.max_others_percent:
            return


async def run_load(
    served: Served, ids: Sequence[str], version: str, args: argparse.Namespace, *, echo: bool
) -> tuple[Stats, float]:
    """Connect the stations, start their transactions, pump, disconnect."""
    stations, failures = await open_many(ids, version, served.port, boot=False)
    try:
        if failures:
            raise RuntimeError(f"{len(failures)} stations could not connect: {failures[0]}")
        run = secrets.token_hex(3)
        scripts = await asyncio.gather(*(begin_charging(s, run) for s in stations))
        # An echo server answers a CALL with the CALL itself; the others with a CALLRESULT.
        return await measure_stations(
            stations, scripts, served.pid, args.seconds, args.ocpp_warmup, 2 if echo else 3
        )
    finally:
        for station in stations:
            station.abort()
        await asyncio.sleep(0.5)  # let the server see the disconnects before what comes next


# --- the benchmark ------------------------------------------------------------------------


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _judge_rate(stats: Stats) -> tuple[str, bool]:
    return (
        f"≥ {TARGET_RATE:,.0f}/s, p99 < {TARGET_P99_MS:.0f} ms",
        stats.qps >= TARGET_RATE and stats.p99_ms < TARGET_P99_MS and stats.errors == 0,
    )


def station_ids(count: int, prefix: str = "BENCH") -> list[str]:
    return [f"{prefix}-{n:05d}" for n in range(count)]


async def ceilings(args: argparse.Namespace, workdir: Path) -> dict[str, list[Figure]]:
    """Per OCPP version: the echo ceilings and the `ocpp` package reference."""
    found: dict[str, list[Figure]] = {v: [] for v in args.versions}
    servers = [("websockets echo", ECHO_SERVER, True), ("uvicorn ASGI echo", UVICORN_ECHO, True)]
    if not args.no_reference:
        servers.append(("ocpp package ChargePoint", OCPP_PACKAGE_SERVER, False))
    ids = station_ids(args.stations, "ECHO")
    for name, source, echo in servers:
        async with script_server(name.split()[0], source, workdir) as served:
            for version in args.versions:
                _say(f"{name}: {args.stations} {version} stations, {args.seconds:g} s")
                stats, own = await run_load(served, ids, version, args, echo=echo)
                found[version].append(Figure("-", version, name, stats, own))
    return found


async def throughput(
    database: str, url: str, workdir: Path, args: argparse.Namespace
) -> list[Figure]:
    figures: list[Figure] = []
    ids = station_ids(args.stations)
    await create_operator(url, workdir)
    async with voltbook_server(url, workdir) as served:
        started = time.perf_counter()
        await register_through_api(url, workdir, served.port, ids)
        _say(
            f"{database}: {len(ids)} stations registered through the operator API in "
            f"{time.perf_counter() - started:.1f} s"
        )
        for version in args.versions:
            _say(f"{database}: voltbook, {args.stations} {version} stations, {args.seconds:g} s")
            stats, own = await run_load(served, ids, version, args, echo=False)
            target, met = _judge_rate(stats)
            figures.append(Figure(database, version, "voltbook", stats, own, [], target, met))
    return figures


@dataclass(slots=True)
class Memory:
    server: str
    database: str
    connections: int
    baseline_connections: int
    rss_before_kib: int
    rss_after_kib: int
    connect_s: float
    failures: list[str]
    middle_connections: int = 0
    rss_middle_kib: int = 0
    ceiling_kb: float | None = None  # the bare server's KB per connection, same run

    @property
    def ratio(self) -> float:
        if not self.ceiling_kb:
            return math.nan
        return self.per_connection_kb / self.ceiling_kb

    @property
    def added(self) -> int:
        return self.connections - self.baseline_connections

    @property
    def per_connection_kb(self) -> float:
        """KB (1,000 bytes) of server RSS per idle connection."""
        if self.added <= 0:
            return math.nan
        return (self.rss_after_kib - self.rss_before_kib) * 1024 / 1000 / self.added

    @property
    def marginal_kb(self) -> float:
        """KB per connection over the second half only: without one-time growth (pools,
        malloc arenas of the argon2 threads) that the first connections may still cause."""
        added = self.connections - self.middle_connections
        if added <= 0 or not self.middle_connections:
            return math.nan
        return (self.rss_after_kib - self.rss_middle_kib) * 1024 / 1000 / added

    @property
    def met(self) -> bool | None:
        if self.ceiling_kb is None:
            return None
        return not self.failures and self.ratio <= TARGET_KB_RATIO


async def _settled_rss(pid: int, limit_s: float = 30.0) -> int:
    """VmRSS once it has stopped moving (three readings 0.5 s apart within 0.2 %)."""
    readings = [rss_kib(pid)]
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        readings.append(rss_kib(pid))
        last = readings[-3:]
        if len(last) == 3 and max(last) - min(last) <= 0.002 * max(last):
            break
    return readings[-1]


async def idle_memory(database: str, url: str, workdir: Path, count: int) -> Memory:
    """voltbook with `count` registered stations, all connected, booted and idle."""
    ids = station_ids(count, "IDLE")
    started = time.perf_counter()
    await insert_stations(url, ids)
    _say(f"{database}: {count:,} station rows written in {time.perf_counter() - started:.1f} s")
    async with voltbook_server(url, workdir) as served:
        return await hold_idle("voltbook", database, served, ids)


async def bare_idle_memory(workdir: Path, count: int) -> Memory:
    """The ceiling: the `websockets` echo server keeping as many idle connections."""
    async with script_server("websockets echo", ECHO_SERVER, workdir) as served:
        return await hold_idle("websockets echo", "-", served, station_ids(count, "IDLE"))


async def hold_idle(server: str, database: str, served: Served, ids: Sequence[str]) -> Memory:
    """Warm with WARM_CONNECTIONS, read RSS, connect and boot the rest, read RSS again."""
    count = len(ids)
    warm = min(WARM_CONNECTIONS, count)
    stations: list[Station] = []
    try:
        # Warm: the first connections, a little traffic, every code path imported.
        first, failures = await open_many(ids[:warm], V16, served.port, boot=True)
        stations += first
        for station in first[:10]:
            await station.call("Heartbeat", {})
        await asyncio.sleep(2.0)
        before = await _settled_rss(served.pid)
        _say(
            f"{server} {database}: {warm} connections, RSS {before / 1024:.1f} MiB; "
            f"opening {count - warm:,} more"
        )
        middle = (warm + count) // 2
        started = time.perf_counter()
        rest, more_failures = await open_many(ids[warm:middle], V16, served.port, boot=True)
        connect_s = time.perf_counter() - started
        stations += rest
        failures += more_failures
        at_middle = len(stations)
        rss_middle = await _settled_rss(served.pid)
        started = time.perf_counter()
        rest, more_failures = await open_many(ids[middle:], V16, served.port, boot=True)
        connect_s += time.perf_counter() - started
        stations += rest
        failures += more_failures
        after = await _settled_rss(served.pid)
        alive = sum(1 for s in stations if not s.closed)
        _say(
            f"{server} {database}: {alive:,} idle connections ({len(failures)} failed) after "
            f"{connect_s:.1f} s, RSS {after / 1024:.1f} MiB"
        )
        if alive != len(stations):
            failures.append(f"{len(stations) - alive} connections closed while idle")
        return Memory(
            server,
            database,
            len(stations),
            warm,
            before,
            after,
            connect_s,
            failures,
            at_middle,
            rss_middle,
        )
    finally:
        for station in stations:
            station.abort()


# --- reporting ----------------------------------------------------------------------------

HEADERS = (
    "database",
    "OCPP",
    "server",
    "stations",
    "msgs/s",
    "p50 ms",
    "p99 ms",
    "server cpu %",
    "pg cpu %",
    "client cpu %",
    "other %",
    "server cpu-s/1k",
    "ceiling",
    "ceiling/s",
    "ratio",
    "target",
    "met",
)
_RIGHT = frozenset(
    {
        "stations",
        "msgs/s",
        "p50 ms",
        "p99 ms",
        "server cpu %",
        "pg cpu %",
        "client cpu %",
        "other %",
        "server cpu-s/1k",
        "ceiling/s",
        "ratio",
        "KB/conn",
        "marginal KB/conn",
        "connections",
        "RSS before MiB",
        "RSS after MiB",
        "connect s",
    }
)


def _num(value: float | None, digits: int = 0) -> str:
    return "" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def _figure_cells(figure: Figure, sep: str) -> list[str]:
    s = figure.stats
    errors = f" ({s.errors} errors)" if s.errors else ""
    met = "" if figure.met is None else ("yes" if figure.met else "NO")
    disturbed = "!" if (s.others_cpu_percent or 0.0) > QUIET.max_others_percent else ""
    return [
        figure.database,
        figure.version,
        figure.server,
        str(s.concurrency),
        f"{s.qps:,.0f}{errors}",
        f"{s.p50_ms:.2f}",
        f"{s.p99_ms:.2f}",
        _num(s.cpu_percent),
        _num(s.postgres_cpu_percent) if figure.database == "postgresql" else "",
        _num(figure.client_percent),
        _num(s.others_cpu_percent) + disturbed,
        _num(figure.server_cpu_per_1k, 3),
        sep.join(c.name for c in figure.ceilings),
        sep.join(f"{c.qps:,.0f}" for c in figure.ceilings),
        sep.join(f"{s.qps / c.qps:.2f}" for c in figure.ceilings if c.qps > 0),
        figure.target,
        met,
    ]


MEMORY_HEADERS = (
    "server",
    "database",
    "connections",
    "RSS before MiB",
    "RSS after MiB",
    "KB/conn",
    "marginal KB/conn",
    "connect s",
    "ceiling KB/conn",
    "ratio",
    "target",
    "met",
)


def _memory_cells(memory: Memory) -> list[str]:
    failed = f" ({len(memory.failures)} failed)" if memory.failures else ""
    met = {None: "", True: "yes", False: "NO"}[memory.met]
    return [
        memory.server,
        memory.database,
        f"{memory.baseline_connections:,} → {memory.connections:,}{failed}",
        f"{memory.rss_before_kib / 1024:,.1f}",
        f"{memory.rss_after_kib / 1024:,.1f}",
        f"{memory.per_connection_kb:.2f}",
        f"{memory.marginal_kb:.2f}",
        f"{memory.connect_s:.0f}",
        "" if memory.ceiling_kb is None else f"{memory.ceiling_kb:.2f}",
        "" if memory.ceiling_kb is None else f"{memory.ratio:.2f}",
        "" if memory.ceiling_kb is None else f"≤ {TARGET_KB_RATIO:g}× bare",
        met,
    ]


def _as_rows(figures: Sequence[Figure], memories: Sequence[Memory]) -> list[Row]:
    """The results as common `Row`s (for --json and --check)."""
    rows = [
        Row(
            f.database,
            f"{f.version} × {f.stats.concurrency} stations",
            f"OCPP ingest: {f.server}",
            f.stats,
            f.ceilings,
            f.target,
            f.met,
        )
        for f in figures
    ]
    for m in memories:
        stats = Stats(
            concurrency=m.connections,
            count=0,
            errors=len(m.failures),
            elapsed_s=m.connect_s,
            latencies_ms=[],
            first_error=m.failures[0] if m.failures else None,
        )
        target = f"≤ {TARGET_KB_RATIO:g}× bare KB/conn: {m.per_connection_kb:.2f}"
        ceilings = [] if m.ceiling_kb is None else [Ceiling("bare KB/conn", m.ceiling_kb)]
        rows.append(
            Row(
                m.database,
                f"{m.connections:,} idle",
                f"OCPP memory: {m.server}",
                stats,
                ceilings,
                target,
                m.met,
            )
        )
    return rows


# --- entry points -------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("ocpp_ingest")
    group.add_argument(
        "--stations", type=int, default=100, help="simulated stations sending (default 100)"
    )
    group.add_argument(
        "--seconds", type=float, default=10.0, help="seconds measured per figure (default 10)"
    )
    group.add_argument(
        "--ocpp-warmup",
        type=float,
        default=WARMUP_S,
        help=f"seconds of traffic before each figure (default {WARMUP_S:g})",
    )
    group.add_argument(
        "--db", choices=("sqlite", "postgresql", "both"), default="both", help="(default both)"
    )
    group.add_argument(
        "--ocpp-versions",
        default="1.6,2.0.1",
        help="comma-separated OCPP versions to run: 1.6,2.0.1 (default both)",
    )
    group.add_argument(
        "--idle",
        default="2000,10000",
        help="idle connections for the memory figures, comma-separated (default 2000,10000)",
    )
    group.add_argument("--skip-idle", action="store_true", help="leave out the memory figure")
    group.add_argument(
        "--idle-only", action="store_true", help="only the memory figures and their ceiling"
    )
    group.add_argument(
        "--no-reference",
        action="store_true",
        help="leave out the `ocpp` package reference server",
    )


def _versions(text: str) -> list[str]:
    names = {"1.6": V16, "2.0.1": V201, V16: V16, V201: V201}
    return [names[v.strip()] for v in text.split(",") if v.strip()]


async def run(args: argparse.Namespace) -> list[Row]:
    args.versions = _versions(args.ocpp_versions)
    limit = raise_fd_limit()
    idle_counts = [int(n) for n in str(args.idle).replace("_", "").split(",") if n.strip()]
    if not args.skip_idle and limit < max(idle_counts) + 200:
        raise RuntimeError(f"{max(idle_counts)} connections need more than {limit} open files")
    admin_dsn = getattr(args, "pg_admin_dsn", None) or os.environ.get(
        "VOLTBOOK_BENCH_PG_ADMIN", DEFAULT_PG_ADMIN
    )
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    figures: list[Figure] = []
    memories: list[Memory] = []
    with tempfile.TemporaryDirectory(prefix="voltbook-ocpp-") as tmp:
        workdir = Path(tmp)
        references = {v: [] for v in args.versions} if args.idle_only else None
        references = references if references is not None else await ceilings(args, workdir)
        for database in [] if args.idle_only else databases:
            with tempfile.TemporaryDirectory(prefix=f"{database}-", dir=workdir) as sub:
                async with fresh_database(database, admin_dsn, Path(sub)) as url:
                    found = await throughput(database, url, Path(sub), args)
            for figure in found:
                figure.ceilings = [
                    Ceiling(f.server, f.stats.qps)
                    for f in references[figure.version]
                    if "echo" in f.server
                ]
            figures += found
        for count in [] if args.skip_idle else idle_counts:
            bare = await bare_idle_memory(workdir, count)
            memories.append(bare)
            for database in databases:
                with tempfile.TemporaryDirectory(prefix=f"{database}-idle-", dir=workdir) as sub:
                    async with fresh_database(database, admin_dsn, Path(sub)) as url:
                        memory = await idle_memory(database, url, Path(sub), count)
                memory.ceiling_kb = bare.per_connection_kb
                memories.append(memory)
    shown = [f for v in args.versions for f in references[v]] + figures
    title = (
        f"OCPP ingest: {args.stations} stations, MeterValues (2.0.1: TransactionEvent Updated) "
        f"with a Heartbeat every {HEARTBEAT_EVERY}th; {args.seconds:g} s per figure after "
        f"{args.ocpp_warmup:g} s; ratio = msgs/s ÷ ceiling"
    )
    print_lines(title, HEADERS, [_figure_cells(f, "; ") for f in shown], _RIGHT, args.style)
    if memories:
        print_lines(
            f"OCPP idle connections, booted (BootNotification, {CONNECTORS} StatusNotification): "
            f"server RSS with {WARM_CONNECTIONS} connected, then with all; KB = 1,000 bytes per "
            "added connection; ratio = KB/conn ÷ the bare websockets server's",
            MEMORY_HEADERS,
            [_memory_cells(m) for m in memories],
            _RIGHT,
            args.style,
        )
    for figure in shown:
        if figure.stats.errors:
            print(f"{figure.server} {figure.version} errors: {figure.stats.first_error}")
    for memory in memories:
        for failure in memory.failures[:5]:
            print(f"{memory.database} idle connection failure: {failure}")
    return _as_rows(figures, memories) + _as_rows(
        [f for v in args.versions for f in references[v]], []
    )
