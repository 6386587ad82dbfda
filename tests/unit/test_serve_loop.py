"""`voltbook serve` runs the server on uvloop."""

from __future__ import annotations

import asyncio

import uvloop

from voltbook.cli import _run_fast


def test_the_server_coroutine_runs_on_uvloop() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def main() -> None:
        loops.append(asyncio.get_running_loop())

    _run_fast(main())

    assert isinstance(loops[0], uvloop.Loop)
