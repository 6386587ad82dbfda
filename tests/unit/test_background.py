"""Background rounds: done now, then once per period, and a failing round does not end them."""

from __future__ import annotations

import asyncio

from voltbook.bootstrap import every


async def test_a_round_runs_at_once_and_then_waits_its_period() -> None:
    rounds = 0

    async def work() -> None:
        nonlocal rounds
        rounds += 1

    task = asyncio.create_task(every(3600, work, "test round", "test"))
    await asyncio.sleep(0.05)
    task.cancel()
    assert rounds == 1


async def test_a_failing_round_is_tried_again_next_period() -> None:
    outcomes: list[str] = []

    async def work() -> None:
        outcomes.append("tried")
        if len(outcomes) == 1:
            raise ConnectionError("storage hiccup")

    task = asyncio.create_task(every(0.01, work, "test round", "test"))
    async with asyncio.timeout(5):
        while len(outcomes) < 3:
            await asyncio.sleep(0.01)
    task.cancel()
    assert outcomes[:3] == ["tried"] * 3
