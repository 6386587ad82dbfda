"""How much of a long variant runs, a server in a process of its own, and what a process
holds in memory.

`VOLTBOOK_LONG_SHARE` (default 1) scales the repetitions of every `long` variant, so that a
stated fraction can run where the whole does not fit (e.g. 0.1 for a tenth); the short
variants ignore it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from pathlib import Path

import httpx

START_WITHIN_S = 90  # a loaded machine starts a Python process slowly


def long_share(repetitions: int) -> int:
    """`repetitions` scaled by VOLTBOOK_LONG_SHARE, at least one."""
    share = float(os.environ.get("VOLTBOOK_LONG_SHARE", "1"))
    return max(1, round(repetitions * share))


def resident_mib(pid: int | str = "self", field: str = "VmRSS") -> float:
    """A process's resident set size (VmRSS), in MiB: this one's by default. `field` names
    another line of /proc/<pid>/status: RssAnon (the heap: what a leak grows) or RssFile
    (files mapped into memory, a SQLite database among them: the OS may take them back)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


async def start_server(env: dict[str, str], port: int, log: Path) -> asyncio.subprocess.Process:
    """`voltbook serve` in a child process, once its /readyz says yes (killed if it does not)."""
    with log.open("ab") as sink:
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "voltbook", "serve", "--port", str(port), env=env,
            stdout=sink, stderr=sink,
        )  # fmt: skip
    deadline = time.monotonic() + START_WITHIN_S
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        while time.monotonic() < deadline and server.returncode is None:
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/readyz")).status_code == 200:
                    return server
            await asyncio.sleep(0.1)
    if server.returncode is None:
        server.kill()
        await server.wait()
    raise AssertionError(f"the server did not come up:\n{tail(log)}")


async def stop_server(server: asyncio.subprocess.Process) -> None:
    if server.returncode is not None:
        return
    server.terminate()
    try:
        async with asyncio.timeout(20):
            await server.wait()
    except TimeoutError:
        server.kill()
        await server.wait()


def tail(log: Path) -> str:
    return log.read_text()[-3000:]
