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
library clients would cost more CPU than the server on 2 cores. It runs in child processes
of at most `--per-process` sockets each (a process may hold no more open files than its
hard limit), and the sockets are spread over `--source-addresses` loopback addresses
(127.0.0.1, 127.0.0.2, ...), since one source address has about 28,000 ephemeral ports.
Arrival times are `time.perf_counter()` (CLOCK_MONOTONIC) in every process, so they compare.

With `--nodes N` (N > 1) the subscribers are spread over N `voltbook serve` nodes on one
PostgreSQL database and one Redis (`--redis-url`), as a cluster runs: the station talks to
the first node, and the others hear its status change through Redis. The raw ceiling then
runs N raw servers holding the same shares of sockets, each told at once.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import multiprocessing
import os
import secrets
import struct
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import cast

from benchmarks.common import Ceiling, Row, Stats, free_port, fresh_database, print_table
from benchmarks.ocpp_ingest import (
    HOST,
    Served,
    child_server,
    raise_fd_limit,
    script_server,
    voltbook_env,
)

SECRET = "fanout-benchmark-secret-0123456789abcdef0123456789"
LAT, LON = 48.8566, 2.3522
TARGET_MS = 300.0
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
CONNECT_BATCH = 100

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
    async with serve(
        handle, "127.0.0.1", port, ping_interval=None, max_queue=None, open_timeout=None
    ):
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
            if not self.ready.done():
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


async def open_listener(
    port: int, path: str, headers: dict[str, str], wanted: str, source: str | None = None
) -> Listener:
    """A connected listener; a refused or reset attempt is tried again (a busy server's
    accept queue overflows while thousands connect), up to five times."""
    loop = asyncio.get_running_loop()
    for attempt in range(5):
        try:
            _, listener = await loop.create_connection(
                lambda: Listener(path, headers, wanted),
                HOST,
                port,
                local_addr=None if source is None else (source, 0),
            )
            async with asyncio.timeout(120):
                await listener.ready
        except (OSError, RuntimeError):
            if attempt == 4:
                raise
            await asyncio.sleep(0.5 * (attempt + 1))
        else:
            return listener
    raise AssertionError("unreachable")


# One socket to open: (port, path, headers, topic to follow or None, source address).
Spec = tuple[int, str, dict[str, str], str | None, str]


async def open_many(specs: Sequence[Spec]) -> list[Listener]:
    listeners: list[Listener] = []
    for start in range(0, len(specs), CONNECT_BATCH):
        chunk = specs[start : start + CONNECT_BATCH]
        batch = await asyncio.gather(
            *(
                open_listener(port, path, headers, "station.status", source)
                for port, path, headers, _, source in chunk
            )
        )
        for listener, spec in zip(batch, chunk, strict=True):
            if spec[3] is not None:
                listener.send(json.dumps({"type": "subscribe", "topic": spec[3]}).encode())
        async with asyncio.timeout(300):
            await asyncio.gather(*(listener.subscribed for listener in batch))
        listeners.extend(batch)
    return listeners


async def heard_by_all(listeners: list[Listener], timeout_s: float = 120.0) -> list[float]:
    """Wait until every listener heard it; its `perf_counter()` arrival times."""
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
        async with asyncio.timeout(timeout_s):
            await done
    return [listener.heard_at or 0.0 for listener in listeners]


def reset(listeners: list[Listener]) -> None:
    for listener in listeners:
        listener.heard_at = None
        listener.on_heard = None


def stats_of(latencies_ms: list[float], subscribers: int) -> Stats:
    last_s = latencies_ms[-1] / 1000.0
    return Stats(subscribers, len(latencies_ms), 0, last_s, latencies_ms)


# --- clients in child processes -----------------------------------------------------------


def _client_process(commands: Connection) -> None:
    """A child process holding listeners; answers its parent's commands one at a time."""
    import uvloop

    raise_fd_limit()
    uvloop.run(_client_loop(commands))


async def _client_loop(commands: Connection) -> None:
    listeners: list[Listener] = []
    while True:
        command, argument = await asyncio.to_thread(commands.recv)
        if command == "open":
            try:
                listeners = await open_many(argument)
            except Exception as error:  # reported to the parent, which stops the run
                commands.send(("error", f"{type(error).__name__}: {error}"))
                continue
            commands.send(("opened", len(listeners)))
        elif command == "arm":
            reset(listeners)
            commands.send(("armed", None))
        elif command == "collect":
            commands.send(("heard", await heard_by_all(listeners)))
        else:  # close
            for listener in listeners:
                listener.close()
            commands.send(("closed", None))
            return


class Clients:
    """Listeners spread over child processes of at most `per_process` sockets each."""

    def __init__(self, pipes: list[Connection], processes: list[BaseProcess]) -> None:
        self._pipes = pipes
        self._processes = processes

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, specs: Sequence[Spec], per_process: int) -> AsyncIterator[Clients]:
        context = multiprocessing.get_context("spawn")
        pipes: list[Connection] = []
        processes: list[BaseProcess] = []
        try:
            for start in range(0, len(specs), per_process):
                mine, theirs = context.Pipe()
                process = context.Process(target=_client_process, args=(theirs,), daemon=True)
                process.start()
                pipes.append(mine)
                processes.append(process)
                mine.send(("open", list(specs[start : start + per_process])))
            clients = cls(pipes, processes)
            await clients._all("opened")
            yield clients
        finally:
            for pipe in pipes:
                with contextlib.suppress(OSError):
                    pipe.send(("close", None))
            for process in processes:
                await asyncio.to_thread(process.join, 30)
                if process.is_alive():
                    process.kill()

    async def _all(self, expected: str) -> list[object]:
        answers = await asyncio.gather(*(asyncio.to_thread(pipe.recv) for pipe in self._pipes))
        for kind, value in answers:
            if kind != expected:
                raise RuntimeError(f"a client process answered {kind}: {value}")
        return [value for _, value in answers]

    async def round(self, trigger: Callable[[], None]) -> list[float]:
        """Arm every listener, start the clock, pull the trigger; arrival times in ms."""
        await self.arm()
        started = time.perf_counter()
        trigger()
        return await self.collect(started)

    async def arm(self) -> None:
        for pipe in self._pipes:
            pipe.send(("arm", None))
        await self._all("armed")

    async def collect(self, started: float) -> list[float]:
        for pipe in self._pipes:
            pipe.send(("collect", None))
        heard: list[float] = []
        for times in await self._all("heard"):
            heard += times  # type: ignore[arg-type]
        return sorted((at - started) * 1000.0 for at in heard)


def sources(count: int) -> list[str]:
    """Loopback source addresses 127.0.0.1 ... 127.0.0.`count`."""
    return [f"127.0.0.{n + 1}" for n in range(max(1, count))]


# --- the raw ceiling -------------------------------------------------------------------------


async def raw_broadcast(
    count: int, rounds: int, workdir: Path, nodes: int, options: argparse.Namespace
) -> list[list[float]]:
    async with contextlib.AsyncExitStack() as stack:
        served = [
            await stack.enter_async_context(script_server("raw-broadcast", RAW_SERVER, workdir))
            for _ in range(nodes)
        ]
        addresses = sources(options.source_addresses)
        specs: list[Spec] = [
            (served[n % nodes].port, "/", {}, None, addresses[n % len(addresses)])
            for n in range(count)
        ]
        triggers = [await open_listener(s.port, "/trigger", {}, "never") for s in served]
        async with Clients.open(specs, options.per_process) as clients:
            results = []
            for n in range(rounds):
                message = json.dumps({"type": "station.status", "round": n}).encode()

                def pull(message: bytes = message) -> None:
                    for trigger in triggers:
                        trigger.send(message)

                results.append(await clients.round(pull))
                await asyncio.sleep(0.5)
        for trigger in triggers:
            trigger.close()
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
            for start in range(0, drivers, 5_000):
                chunk = ids[start : start + 5_000]
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
                        for i in chunk
                    ],
                )
                await connection.execute(
                    sign_ins.insert(),
                    [{"id": f"si-{i}", "driver_id": i, "created_at": now} for i in chunk],
                )
    finally:
        await engine.dispose()
    tokens = JwtTokens(SECRET, 3600 * 4, SystemClock())
    return int(site_id), [tokens.issue(Principal(i, Role.DRIVER, f"si-{i}"))[0] for i in ids]


@contextlib.asynccontextmanager
async def voltbook_nodes(
    url: str, workdir: Path, nodes: int, redis_url: str
) -> AsyncIterator[list[Served]]:
    """`voltbook serve` nodes on one database; more than one share a Redis (own prefix)."""
    cluster = {"VOLTBOOK_JWT_SECRET": SECRET}
    if nodes > 1:
        cluster |= {
            "VOLTBOOK_REDIS_URL": redis_url,
            "VOLTBOOK_REDIS_PREFIX": f"fanout-{secrets.token_hex(4)}",
            # A small pool each: one status write per round, and a shared PostgreSQL's
            # max_connections (100 by default) must hold every node's pools.
            "VOLTBOOK_DB_POOL_SIZE": "6",
        }
    async with contextlib.AsyncExitStack() as stack:
        served = []
        for n in range(nodes):
            data_dir = workdir / f"node-{n}"
            data_dir.mkdir(exist_ok=True)
            port = free_port()
            command = [sys.executable, "-m", "voltbook", "serve", "--host", HOST]
            command += ["--port", str(port)]
            env = voltbook_env(url, data_dir) | cluster
            served.append(
                await stack.enter_async_context(
                    child_server(f"voltbook-{n}", command, env, workdir, port, http=True)
                )
            )
        yield served


async def voltbook_fanout(
    count: int, rounds: int, workdir: Path, nodes: int, options: argparse.Namespace
) -> list[list[float]]:
    database = "postgresql" if nodes > 1 else options.fanout_db
    admin = getattr(options, "pg_admin_dsn", PG_ADMIN)  # nearby's option, shared
    async with fresh_database(database, admin, workdir, "voltbook_fanout") as url:
        _, tokens = await prepare(url, count)
        async with voltbook_nodes(url, workdir, nodes, options.redis_url) as served:
            topic = f"area:{LAT},{LON},2000"
            addresses = sources(options.source_addresses)
            specs: list[Spec] = [
                (
                    served[n % nodes].port,
                    "/api/v1/live",
                    {"Authorization": f"Bearer {tokens[n]}"},
                    topic,
                    addresses[n % len(addresses)],
                )
                for n in range(count)
            ]
            station = await open_listener(
                served[0].port,
                "/ocpp/FAN-1",
                {
                    "Sec-WebSocket-Protocol": "ocpp1.6",
                    "Authorization": "Basic "
                    + base64.b64encode(b"FAN-1:fanout-station-password").decode(),
                },
                "never",
            )
            async with contextlib.AsyncExitStack() as stack:
                try:
                    clients = await stack.enter_async_context(
                        Clients.open(specs, options.per_process)
                    )
                except RuntimeError as error:  # say what the nodes said
                    logs = await asyncio.to_thread(_log_tails, workdir)
                    raise RuntimeError(f"{error}\nnode logs:\n{logs}") from None
                results = []
                for n in range(rounds):
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
                    payload = json.dumps(frame).encode()

                    def pull(payload: bytes = payload) -> None:
                        station.send(payload)

                    results.append(await clients.round(pull))
                    await asyncio.sleep(1.0)
            station.close()
            return results


def _log_tails(workdir: Path) -> str:
    return "\n---\n".join(
        log.read_text(errors="replace")[-1500:] for log in sorted(workdir.glob("voltbook-*.log"))
    )


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("fanout")
    group.add_argument(
        "--subscribers", type=int, default=10_000, help="live subscribers (default 10,000)"
    )
    group.add_argument("--rounds", type=int, default=5, help="status changes (default 5)")
    group.add_argument(
        "--nodes",
        type=int,
        default=1,
        help="voltbook nodes sharing the subscribers (default 1; more: PostgreSQL and Redis)",
    )
    group.add_argument(
        "--fanout-db",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="database of a single node (default sqlite; several nodes use PostgreSQL)",
    )
    group.add_argument(
        "--redis-url",
        default=os.environ.get("VOLTBOOK_BENCH_REDIS", "redis://127.0.0.1:6379/0"),
        help="Redis of a cluster of nodes (each run has its own key prefix)",
    )
    group.add_argument(
        "--per-process",
        type=int,
        default=15_000,
        help="client sockets per client process (default 15,000)",
    )
    group.add_argument(
        "--source-addresses",
        type=int,
        default=4,
        help="loopback addresses the client sockets come from (default 4)",
    )


async def run(args: argparse.Namespace) -> list[Row]:
    limit = raise_fd_limit()
    nodes = max(1, args.nodes)
    per_node = -(-args.subscribers // nodes)
    if limit < per_node + 500 or limit < args.per_process + 500:
        raise RuntimeError(
            f"{per_node:,} sockets per node or {args.per_process:,} per client process need "
            f"more than the {limit:,} open files a process may have here (hard limit): "
            "use more --nodes or a smaller --per-process"
        )
    where = f"{args.subscribers:,} subscribers" + (f", {nodes} nodes" if nodes > 1 else "")
    with tempfile.TemporaryDirectory(prefix="voltbook-fanout-") as tmp:
        workdir = Path(tmp)
        _say(f"fanout: raw broadcast to {where} ...")
        raw = await raw_broadcast(args.subscribers, args.rounds, workdir, nodes, args)
        _say(f"fanout: voltbook, {where} following one area ...")
        ours = await voltbook_fanout(args.subscribers, args.rounds, workdir, nodes, args)
    rows = []
    best_raw = min(raw, key=lambda r: r[-1])
    raw_stats = stats_of(best_raw, args.subscribers)
    database = "postgresql" if nodes > 1 else args.fanout_db
    for n, latencies in enumerate(ours):
        stats = stats_of(latencies, args.subscribers)
        last = latencies[-1]
        rows.append(
            Row(
                database,
                where,
                f"status change {n + 1}: last after {last:.0f} ms (raw {best_raw[-1]:.0f} ms)",
                stats,
                [Ceiling("raw broadcast", raw_stats.qps)],
                target=f"last <= {TARGET_MS:.0f} ms"
                if args.subscribers <= 10_000
                else "≤ 1.5× raw",
                met=last <= TARGET_MS if args.subscribers <= 10_000 else last <= 1.5 * best_raw[-1],
            )
        )
    print_table(
        "Fan-out: deliveries/s (queries/s column), arrival p50/p99 in ms, last in the layer",
        rows,
        style=args.style,
    )
    return rows
