"""Timing helpers shared by the benchmarks.

`measure` runs an async call from C concurrent workers for a fixed time (after a warm-up
that is thrown away) and reports queries/s, p50 and p99 latency. Ceilings are measured the
same way in the same run: `SELECT 1` through the same SQLAlchemy engine, and an HTTP
server's cheapest endpoint through the same client, so that every figure can be read as a
fraction of what this machine can do at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from voltbook.storage.database import is_sqlite

# One call of the code under test: (query number, worker number) -> number of items found.
Call = Callable[[int, int], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Stats:
    concurrency: int
    count: int
    errors: int
    elapsed_s: float
    latencies_ms: Sequence[float] = field(repr=False)
    items: int = 0
    cpu_percent: float | None = None
    postgres_cpu_percent: float | None = None
    others_cpu_percent: float | None = None
    first_error: str | None = None

    @property
    def qps(self) -> float:
        return self.count / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_ms, 50.0)

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_ms, 99.0)

    @property
    def mean_items(self) -> float:
        return self.items / self.count if self.count else 0.0


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (NaN when there are none)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of a process (all its threads), from /proc; this one by default."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def _host_busy_seconds() -> float:
    """CPU time all cores spent busy since boot (from /proc/stat)."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _postgres_seconds() -> dict[int, float]:
    """CPU time of every PostgreSQL server process, by pid."""
    found: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                text = handle.read()
        except OSError:
            continue
        if "(postgres)" in text:
            fields = text.rsplit(")", 1)[1].split()
            found[int(entry)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    """CPU use so far of: the host, this process, a server process, PostgreSQL."""

    host: float
    own: float
    server: float
    postgres: dict[int, float]

    @classmethod
    def take(cls, server_pid: int | None) -> CpuSnapshot:
        try:
            host = _host_busy_seconds()
            postgres = _postgres_seconds()
            server = cpu_seconds(server_pid) if server_pid is not None else 0.0
        except OSError:  # no /proc: not Linux
            host, postgres, server = math.nan, {}, 0.0
        return cls(host, cpu_seconds(), server, postgres)

    def since(self, before: CpuSnapshot, seconds: float) -> tuple[float, float, float, float]:
        """Percent of one core used by this process, the server, PostgreSQL and all others."""
        own = self.own - before.own
        server = self.server - before.server
        postgres = sum(t - before.postgres.get(pid, 0.0) for pid, t in self.postgres.items())
        others = max(0.0, (self.host - before.host) - own - server - postgres)
        scale = 100.0 / seconds
        return own * scale, server * scale, postgres * scale, others * scale


async def _run(call: Call, concurrency: int, duration_s: float, first: int) -> tuple[Any, ...]:
    latencies: list[float] = []
    counter = iter(range(first, 1 << 62))
    errors = 0
    items = 0
    first_error: str | None = None
    deadline = time.perf_counter() + duration_s

    async def worker(number: int) -> None:
        nonlocal errors, items, first_error
        clock = time.perf_counter
        while clock() < deadline:
            index = next(counter)
            started = clock()
            try:
                found = await call(index, number)
            except Exception as error:  # a benchmark counts failures, it does not stop on them
                errors += 1
                if first_error is None:
                    first_error = f"{type(error).__name__}: {error}"
                continue
            latencies.append((clock() - started) * 1000.0)
            items += found

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    elapsed = time.perf_counter() - started
    return latencies, errors, items, first_error, elapsed, next(counter)


@dataclass(slots=True)
class QuietPolicy:
    """When a figure counts as disturbed by other work on the machine, and what to do then.

    A figure during which other processes used more than `max_others_percent` of a core
    is measured again (after waiting up to 10 s for the machine to calm down), at most
    `retries` times and within `budget_s` seconds of extra time for the whole run; the
    least disturbed attempt is kept, and the table marks it when it is still disturbed.
    """

    max_others_percent: float = 25.0
    retries: int = 2
    budget_s: float = 120.0
    spent_s: float = 0.0
    # Also wait up to this long for a quiet machine before every figure (0: never).
    settle_s: float = 0.0


QUIET = QuietPolicy()


async def _wait_until_quiet(policy: QuietPolicy, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        before = CpuSnapshot.take(None)
        await asyncio.sleep(0.5)
        _, _, postgres, others = CpuSnapshot.take(None).since(before, 0.5)
        if others + postgres <= policy.max_others_percent:
            return


async def measure(
    call: Call,
    *,
    concurrency: int,
    duration_s: float,
    warmup_s: float,
    cpu_pid: int | None = None,
    policy: QuietPolicy | None = None,
) -> Stats:
    """Run `call` from `concurrency` workers for `duration_s` after a `warmup_s` warm-up.

    Workers take query numbers from one shared counter, so every run walks the same
    sequence of (pre-drawn) query points. `cpu_pid` is the process whose CPU use is
    reported (default: this one), as a percentage of one core over the measured time;
    so is the CPU use of PostgreSQL's processes and of everything else on the machine,
    and a figure disturbed by other work is measured again (see `QuietPolicy`).
    """
    policy = policy or QUIET
    best: Stats | None = None
    attempt = 0
    while True:
        if policy.settle_s > 0:
            await _wait_until_quiet(policy, policy.settle_s)
        stats = await _measure_once(call, concurrency, duration_s, warmup_s, cpu_pid)
        others = stats.others_cpu_percent or 0.0
        if best is None or others < (best.others_cpu_percent or 0.0):
            best = stats
        left = policy.budget_s - policy.spent_s
        if others <= policy.max_others_percent or attempt >= policy.retries or left <= 0:
            return best
        attempt += 1
        started = time.monotonic()
        await _wait_until_quiet(policy, min(10.0, left))
        policy.spent_s += time.monotonic() - started + warmup_s + duration_s


async def _measure_once(
    call: Call, concurrency: int, duration_s: float, warmup_s: float, cpu_pid: int | None
) -> Stats:
    _, _, _, _, _, next_index = await _run(call, concurrency, warmup_s, 0)
    gc.collect()
    before = CpuSnapshot.take(cpu_pid)
    latencies, errors, items, first_error, elapsed, _ = await _run(
        call, concurrency, duration_s, next_index
    )
    own, server, postgres, others = CpuSnapshot.take(cpu_pid).since(before, elapsed)
    latencies.sort()
    return Stats(
        concurrency=concurrency,
        count=len(latencies),
        errors=errors,
        elapsed_s=elapsed,
        latencies_ms=latencies,
        items=items,
        cpu_percent=own if cpu_pid is None else server,
        postgres_cpu_percent=postgres,
        others_cpu_percent=others,
        first_error=first_error,
    )


def select_one(engine: AsyncEngine) -> Call:
    """The `SELECT 1` ceiling: one read-only unit of work with the cheapest possible statement.

    It checks out a pooled connection exactly as `SqlUnitOfWork(read_only=True)` does
    (AUTOCOMMIT on PostgreSQL; a deferred BEGIN on SQLite), runs `SELECT 1` and gives the
    connection back. A nearby search does this bookkeeping once and runs two or more
    statements, so its best possible ratio to this ceiling is a little above 1/2.
    """
    sqlite = is_sqlite(str(engine.url))
    statement = sa.text("SELECT 1")

    async def call(_index: int, _worker: int) -> int:
        async with engine.connect() as connection:
            if sqlite:
                await connection.execution_options(sqlite_read_only=True)
                await connection.begin()
            else:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(statement)
            if connection.in_transaction():
                await connection.rollback()
        return 0

    return call


# --- databases ------------------------------------------------------------------------


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as asyncpg's own DSN."""
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def fresh_database(
    kind: str, admin_dsn: str, workdir: Path, prefix: str = "voltbook_bench"
) -> AsyncIterator[str]:
    """A new empty database (its SQLAlchemy URL), dropped or deleted afterwards."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'voltbook.sqlite3'}"
        return
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield str(sa.make_url(admin_dsn).set(drivername="postgresql+asyncpg", database=name))
    finally:
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


# --- HTTP ------------------------------------------------------------------------------


class HttpConnection:
    """A minimal HTTP/1.1 keep-alive client connection: GET only, no redirects or TLS.

    httpx spends more CPU per request than a small server does, so with it the load
    generator and not the server would set the pace on a 2-core machine (see
    docs/benchmarks.md); this one costs a few microseconds per request.
    """

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, port: int
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._host = f"{host}:{port}".encode("ascii")

    @classmethod
    async def open(cls, host: str, port: int) -> HttpConnection:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer, host, port)

    async def get(self, path: str) -> tuple[int, bytes]:
        self._writer.write(
            b"GET " + path.encode("ascii") + b" HTTP/1.1\r\nHost: " + self._host + b"\r\n\r\n"
        )
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            return status, await self._chunked_body()
        return status, await self._reader.readexactly(length)

    async def _chunked_body(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self._reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()


class HttpLoad:
    """Per-worker keep-alive connections to one server, with either client.

    `client="raw"` uses `HttpConnection`; `client="httpx"` one `httpx.AsyncClient` whose
    pool holds a connection per worker.
    """

    def __init__(self, host: str, port: int, client: str = "raw") -> None:
        self.host = host
        self.port = port
        self.client = client
        self._raw: dict[int, HttpConnection] = {}
        self._httpx: Any = None

    async def get(self, path: str, worker: int) -> tuple[int, bytes]:
        if self.client == "httpx":
            if self._httpx is None:
                import httpx

                self._httpx = httpx.AsyncClient(
                    base_url=f"http://{self.host}:{self.port}",
                    limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
                    timeout=30.0,
                )
            response = await self._httpx.get(path)
            return response.status_code, response.content
        connection = self._raw.get(worker)
        if connection is None:
            connection = self._raw[worker] = await HttpConnection.open(self.host, self.port)
        try:
            return await connection.get(path)
        except BaseException:
            # A half-read answer leaves the stream unusable: start afresh next time.
            del self._raw[worker]
            await connection.close()
            raise

    async def close(self) -> None:
        for connection in self._raw.values():
            await connection.close()
        self._raw.clear()
        if self._httpx is not None:
            await self._httpx.aclose()
            self._httpx = None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- reporting -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ceiling:
    name: str
    qps: float


@dataclass(slots=True)
class Row:
    database: str
    dataset: str
    layer: str
    stats: Stats
    ceilings: list[Ceiling] = field(default_factory=list)
    target: str = ""
    met: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "dataset": self.dataset,
            "layer": self.layer,
            "concurrency": self.stats.concurrency,
            "queries": self.stats.count,
            "errors": self.stats.errors,
            "seconds": round(self.stats.elapsed_s, 3),
            "qps": round(self.stats.qps, 1),
            "p50_ms": round(self.stats.p50_ms, 3),
            "p99_ms": round(self.stats.p99_ms, 3),
            "mean_items": round(self.stats.mean_items, 2),
            "cpu_percent": _round(self.stats.cpu_percent),
            "postgres_cpu_percent": _round(self.stats.postgres_cpu_percent),
            "others_cpu_percent": _round(self.stats.others_cpu_percent),
            "ceilings": [
                {"name": c.name, "qps": round(c.qps, 1), "ratio": round(self.stats.qps / c.qps, 3)}
                for c in self.ceilings
                if c.qps > 0
            ],
            "target": self.target,
            "met": self.met,
            "first_error": self.stats.first_error,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _percent(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.0f}"


HEADERS = (
    "database",
    "data set",
    "layer",
    "conc",
    "queries/s",
    "p50 ms",
    "p99 ms",
    "items",
    "cpu %",
    "pg %",
    "other %",
    "ceiling",
    "ceiling/s",
    "ratio",
    "target",
    "met",
)
_RIGHT = {
    "conc",
    "queries/s",
    "p50 ms",
    "p99 ms",
    "items",
    "cpu %",
    "pg %",
    "other %",
    "ceiling/s",
    "ratio",
}


def _cells(row: Row, sep: str) -> list[str]:
    s = row.stats
    ceilings = [c for c in row.ceilings if c.qps > 0]
    met = "" if row.met is None else ("yes" if row.met else "NO")
    errors = f" ({s.errors} errors)" if s.errors else ""
    return [
        row.database,
        row.dataset,
        row.layer,
        str(s.concurrency),
        f"{s.qps:,.0f}{errors}",
        f"{s.p50_ms:.2f}",
        f"{s.p99_ms:.2f}",
        f"{s.mean_items:.1f}",
        _percent(s.cpu_percent),
        _percent(s.postgres_cpu_percent) if row.database == "postgresql" else "",
        _percent(s.others_cpu_percent)
        + ("!" if (s.others_cpu_percent or 0.0) > QUIET.max_others_percent else ""),
        sep.join(c.name for c in ceilings),
        sep.join(f"{c.qps:,.0f}" for c in ceilings),
        sep.join(f"{s.qps / c.qps:.2f}" for c in ceilings),
        row.target,
        met,
    ]


def print_table(title: str, rows: Sequence[Row], *, style: str = "rich") -> None:
    """Print the rows as a rich table (`style="rich"`) or a Markdown pipe table ("markdown")."""
    separator = "\n" if style == "rich" else "; "
    lines = [_cells(row, separator) for row in rows]
    print_lines(title, HEADERS, lines, _RIGHT, style, width=220)


def print_lines(
    title: str,
    headers: Sequence[str],
    lines: Sequence[Sequence[str]],
    right: Collection[str],
    style: str,
    *,
    width: int = 240,
) -> None:
    """Print rows of cells under `headers` as a rich table or a Markdown pipe table; columns
    named in `right` are right-aligned; a last cell "yes" / "NO" (target met) is coloured."""
    if style == "rich":
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, show_lines=False)
        for header in headers:
            table.add_column(header, justify="right" if header in right else "left")
        for line in lines:
            cells = list(line)
            if cells[-1] == "NO":
                cells[-1] = "[bold red]NO[/]"
            elif cells[-1] == "yes":
                cells[-1] = "[green]yes[/]"
            table.add_row(*cells)
        Console(width=width).print(table)
        return
    widths = [max([len(h), *(len(line[i]) for line in lines)]) for i, h in enumerate(headers)]

    def render(cells: Sequence[str]) -> str:
        padded = (
            cell.rjust(size) if header in right else cell.ljust(size)
            for cell, size, header in zip(cells, widths, headers, strict=True)
        )
        return "| " + " | ".join(padded) + " |"

    print(f"\n{title}\n")
    print(render(headers))
    print(
        "|"
        + "|".join(
            "-" * (w + 1) + ":" if h in right else "-" * (w + 2)
            for w, h in zip(widths, headers, strict=True)
        )
        + "|"
    )
    for line in lines:
        print(render(line))
