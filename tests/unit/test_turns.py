"""Turns per key: one at a time per key, first come first served; other keys run beside."""

from __future__ import annotations

import asyncio

from voltbook.core.turns import Turns


async def test_work_on_one_key_runs_in_the_order_it_asked_and_other_keys_run_beside() -> None:
    turns = Turns()
    done: list[str] = []
    first_in = asyncio.Event()

    async def work(key: str, name: str, hold_s: float) -> None:
        async with turns.of(key):
            first_in.set()
            await asyncio.sleep(hold_s)
            done.append(name)

    slow = asyncio.create_task(work("station-1", "offline (old connection)", 0.05))
    await first_in.wait()
    fast = asyncio.create_task(work("station-1", "online (reconnect)", 0.0))
    other = asyncio.create_task(work("station-2", "other station", 0.0))
    await asyncio.gather(slow, fast, other)
    assert done == ["other station", "offline (old connection)", "online (reconnect)"]
    assert len(turns) == 0  # nothing kept for keys no one waits on
