"""Fan-out: N live subscribers to one area hear a station's status change.

`voltbook serve` runs in a child process on SQLite (as the demo does) with one site, one
station placed on it and N driver accounts (rows written straight into the database; tokens
signed with the server's secret). N live channels (default 10,000) connect to
/api/v1/live, each follows `area:{site},{2 km}` and waits for `subscribed`. The station
then connects over OCPP 1.6 and reports a connector status; the clock starts just before
that StatusNotification is sent and stops for each subscriber when its `station.status`
message arrives. Figures: when the last (and the median, p99) subscriber heard it, and
deliveries per second. Repeated `--rounds` times, alternating Available / Occupied.

Ceiling, same run, same clients: a raw WebSocket server (the `websockets` library on
uvloop, no app) holding N connections broadcasts one message with `websockets.broadcast`
when told to; the clock starts before the trigger is sent. That is what fanning one message
out to N sockets costs in Python on this machine at all.

The client is a minimal WebSocket protocol (no task per connection), because 10,000
library clients would cost more CPU than the server on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from benchmarks.common import Ceiling, Row, Stats, print_table
from benchmarks.ocpp_ingest import (
    HOST,
    raise_fd_limit,
    script_server,
    voltbook_server,
)

SECRET = "fanout-benchmark-secret-0123456789abcdef0123456789"
LAT, LON = 48.8566, 2.3522
TARGET_MS = 300.0
CONNECT_BATCH = 500

RAW_SERVER = """
import asyncio, sys, uvloop, websockets
from websockets.asyncio.server import serve, broadcast

clients = set()

async def handle(connection):
    if connection.request.path == "/trigger":
        async for message in connection:
            broadcast(clients, message)
        return
    clients.add(connection)
    try:
        await connection.send('{"type":"subscribed"}')
        await connection.wait_closed()
    finally:
        clients.discard(connection)

async def main(port):
    async with serve(handle, "127.0.0.1", port, ping_interval=None, max_queue=None):
        await asyncio.Future()

uvloop.run(main(int(sys.argv[1])))
"""


class Listener(asyncio.Protocol):
    """A WebSocket client that reports the arrival time of the first message of one type."""

    def __init__(self, path: str, headers: dict[str, str], wanted: str) -> None:
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            + "\r\n"
        ).encode()
        self._wanted = wanted.encode()
        self._buffer = bytearray()
        self._upgraded = False
        self.transport: asyncio.Transport | None = None
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.heard_at: float | None = None
        self.on_heard: Callable[[], None] | None = None
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._upgraded:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self._buffer.startswith(b"HTTP/1.1 101"):
                self._fail(bytes(self._buffer[:200]).decode(errors="replace"))
                return
            del self._buffer[: end + 4]
            self._upgraded = True
            self.ready.set_result(None)
        while len(self._buffer) >= 2:
            length = self._buffer[1] & 0x7F
            offset = 2
            if length == 126:
                if len(self._buffer) < 4:
                    return
                length, offset = struct.unpack_from("!H", self._buffer, 2)[0], 4
            elif length == 127:
                if len(self._buffer) < 10:
                    return
                length, offset = struct.unpack_from("!Q", self._buffer, 2)[0], 10
            if len(self._buffer) < offset + length:
                return
            opcode = self._buffer[0] & 0x0F
            payload = bytes(self._buffer[offset : offset + length])
            del self._buffer[: offset + length]
            if opcode == 1:
                self._text(payload)
            elif opcode == 9:  # ping: answer with a pong
                self.send(payload, opcode=10)

    def _text(self, payload: bytes) -> None:
        if b'"subscribed"' in payload and not self.subscribed.done():
            self.subscribed.set_result(None)
        elif self._wanted in payload and self.heard_at is None:
            self.heard_at = time.perf_counter()
            if self.on_heard is not None:
                self.on_heard()

    def send(self, payload: bytes, opcode: int = 1) -> None:
        assert self.transport is not None
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        length = len(payload)
        head = bytes([0x80 | opcode])
        if length < 126:
            head += bytes([0x80 | length])
        else:
            head += bytes([0x80 | 126]) + struct.pack("!H", length)
        self.transport.write(head + mask + masked)

    def close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.abort()

    def _fail(self, reason: str) -> None:
        if self.closing:
            return
        for future in (self.ready, self.subscribed):
            if not future.done():
                future.set_exception(RuntimeError(reason))

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(f"connection lost: {exc}")


async def open_listener(port: int, path: str, headers: dict[str, str], wanted: str) -> Listener:
    loop = asyncio.get_running_loop()
    _, listener = await loop.create_connection(lambda: Listener(path, headers, wanted), HOST, port)
    async with asyncio.timeout(120):
        await listener.ready
    return listener


async def open_many(
    count: int, port: int, path: str, headers: Callable[[int], dict[str, str]], topic: str | None
) -> list[Listener]:
    listeners: list[Listener] = []
    for start in range(0, count, CONNECT_BATCH):
        batch = await asyncio.gather(
            *(
                open_listener(port, path, headers(n), "station.status")
                for n in range(start, min(count, start + CONNECT_BATCH))
            )
        )
        for listener in batch:
            if topic is not None:
                listener.send(json.dumps({"type": "subscribe", "topic": topic}).encode())
        async with asyncio.timeout(300):
            await asyncio.gather(*(listener.subscribed for listener in batch))
        listeners.extend(batch)
    return listeners


async def heard_by_all(listeners: list[Listener], started: float) -> list[float]:
    """Wait until every listener heard it; arrival times in ms after `started`."""
    left = sum(1 for listener in listeners if listener.heard_at is None)
    done = asyncio.get_running_loop().create_future()

    def one_more() -> None:
        nonlocal left
        left -= 1
        if left == 0 and not done.done():
            done.set_result(None)

    for listener in listeners:
        listener.on_heard = one_more
    if left:
        async with asyncio.timeout(60):
            await done
    return sorted(((listener.heard_at or 0.0) - started) * 1000.0 for listener in listeners)


def reset(listeners: list[Listener]) -> None:
    for listener in listeners:
        listener.heard_at = None
        listener.on_heard = None


def stats_of(latencies_ms: list[float], subscribers: int) -> Stats:
    last_s = latencies_ms[-1] / 1000.0
    return Stats(subscribers, len(latencies_ms), 0, last_s, latencies_ms)


# --- the raw ceiling -------------------------------------------------------------------------


async def raw_broadcast(count: int, rounds: int, workdir: Path) -> list[list[float]]:
    async with script_server("raw-broadcast", RAW_SERVER, workdir) as served:
        listeners = await open_many(count, served.port, "/", lambda _: {}, None)
        trigger = await open_listener(served.port, "/trigger", {}, "never")
        results = []
        for n in range(rounds):
            reset(listeners)
            started = time.perf_counter()
            trigger.send(json.dumps({"type": "station.status", "round": n}).encode())
            results.append(await heard_by_all(listeners, started))
            await asyncio.sleep(0.5)
        for listener in [*listeners, trigger]:
            listener.close()
        return results


# --- voltbook --------------------------------------------------------------------------------


async def prepare(url: str, drivers: int) -> tuple[int, list[str]]:
    """Schema, one site with one station, and driver accounts; returns the site and tokens."""
    from voltbook.core.clock import SystemClock
    from voltbook.drivers.model import Principal, Role
    from voltbook.security.passwords import Argon2idHasher
    from voltbook.security.tokens import JwtTokens
    from voltbook.storage import migrate
    from voltbook.storage.database import create_engine
    from voltbook.storage.tables import connectors, sign_ins, sites, stations
    from voltbook.storage.tables import drivers as driver_table

    engine = create_engine(url)
    now = datetime.now(UTC)
    ids = [f"fan-{n:05d}" for n in range(drivers)]
    try:
        await migrate.upgrade(engine)
        async with engine.begin() as connection:
            site_id = (
                await connection.execute(
                    sites.insert()
                    .values(
                        source="bench", source_id="1", name="Fan-out depot", country="FR",
                        lat=LAT, lon=LON, created_at=now, updated_at=now,
                    )
                    .returning(sites.c.id)
                )
            ).scalar_one()  # fmt: skip
            await connection.execute(
                stations.insert().values(
                    id="FAN-1",
                    site_id=site_id,
                    online=False,
                    created_at=now,
                    password_hash=Argon2idHasher(time_cost=1, memory_cost_kib=8192).hash(
                        "fanout-station-password"
                    ),
                )
            )
            await connection.execute(
                connectors.insert().values(
                    station_id="FAN-1", evse_id=1, connector_id=1, status="Available"
                )
            )
            await connection.execute(
                driver_table.insert(),
                [
                    {
                        "id": i,
                        "email": f"{i}@example.org",
                        "password_hash": "unused",
                        "role": "driver",
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
            await connection.execute(
                sign_ins.insert(),
                [{"id": f"si-{i}", "driver_id": i, "created_at": now} for i in ids],
            )
    finally:
        await engine.dispose()
    tokens = JwtTokens(SECRET, 3600 * 4, SystemClock())
    return int(site_id), [tokens.issue(Principal(i, Role.DRIVER, f"si-{i}"))[0] for i in ids]


async def voltbook_fanout(count: int, rounds: int, workdir: Path) -> list[list[float]]:
    url = f"sqlite+aiosqlite:///{workdir / 'fanout.sqlite3'}"
    _, tokens = await prepare(url, count)
    os.environ["VOLTBOOK_JWT_SECRET"] = SECRET
    try:
        async with voltbook_server(url, workdir) as served:
            topic = f"area:{LAT},{LON},2000"
            listeners = await open_many(
                count,
                served.port,
                "/api/v1/live",
                lambda n: {"Authorization": f"Bearer {tokens[n]}"},
                topic,
            )
            station = await open_listener(
                served.port,
                "/ocpp/FAN-1",
                {
                    "Sec-WebSocket-Protocol": "ocpp1.6",
                    "Authorization": "Basic "
                    + base64.b64encode(b"FAN-1:fanout-station-password").decode(),
                },
                "never",
            )
            results = []
            for n in range(rounds):
                reset(listeners)
                status = "Available" if n % 2 else "Preparing"
                frame = [
                    2,
                    f"s{n}",
                    "StatusNotification",
                    {
                        "connectorId": 1,
                        "errorCode": "NoError",
                        "status": status,
                        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                    },
                ]
                started = time.perf_counter()
                station.send(json.dumps(frame).encode())
                results.append(await heard_by_all(listeners, started))
                await asyncio.sleep(1.0)
            for listener in [*listeners, station]:
                listener.close()
            return results
    finally:
        os.environ.pop("VOLTBOOK_JWT_SECRET", None)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("fanout")
    group.add_argument(
        "--subscribers", type=int, default=10_000, help="live subscribers (default 10,000)"
    )
    group.add_argument("--rounds", type=int, default=5, help="status changes (default 5)")


async def run(args: argparse.Namespace) -> list[Row]:
    limit = raise_fd_limit()
    if limit < args.subscribers + 500:
        raise RuntimeError(f"{args.subscribers} sockets need more than {limit} open files")
    with tempfile.TemporaryDirectory(prefix="voltbook-fanout-") as tmp:
        workdir = Path(tmp)
        _say(f"fanout: raw broadcast to {args.subscribers} sockets ...")
        raw = await raw_broadcast(args.subscribers, args.rounds, workdir)
        _say(f"fanout: voltbook, {args.subscribers} live subscribers to one area ...")
        ours = await voltbook_fanout(args.subscribers, args.rounds, workdir)
    rows = []
    best_raw = min(raw, key=lambda r: r[-1])
    raw_stats = stats_of(best_raw, args.subscribers)
    for n, latencies in enumerate(ours):
        stats = stats_of(latencies, args.subscribers)
        last = latencies[-1]
        rows.append(
            Row(
                "sqlite",
                f"{args.subscribers} subscribers",
                f"status change {n + 1}: last after {last:.0f} ms (raw {best_raw[-1]:.0f} ms)",
                stats,
                [Ceiling("raw broadcast", raw_stats.qps)],
                target=f"last <= {TARGET_MS:.0f} ms",
                met=last <= TARGET_MS,
            )
        )
    print_table(
        "Fan-out: deliveries/s (queries/s column), arrival p50/p99 in ms, last in the layer",
        rows,
        style=args.style,
    )
    return rows
