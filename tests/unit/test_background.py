"""Background rounds: done now, then once per period, and a failing round does not end them."""

from __future__ import annotations

import asyncio

from voltbook.wiring.background import every_on, run_reservation_jobs
from voltbook.wiring.failures import HandlerFailures


async def test_a_round_runs_at_once_and_then_waits_its_period() -> None:
    rounds = 0

    async def work() -> None:
        nonlocal rounds
        rounds += 1

    task = asyncio.create_task(every_on(3600, work, "test.round", HandlerFailures()))
    await asyncio.sleep(0.05)
    task.cancel()
    assert rounds == 1


async def test_a_failing_round_is_tried_again_next_period() -> None:
    outcomes: list[str] = []

    async def work() -> None:
        outcomes.append("tried")
        if len(outcomes) == 1:
            raise ConnectionError("storage hiccup")

    failures = HandlerFailures()
    task = asyncio.create_task(every_on(0.01, work, "test.round", failures))
    async with asyncio.timeout(5):
        while len(outcomes) < 3:
            await asyncio.sleep(0.01)
    task.cancel()
    assert outcomes[:3] == ["tried"] * 3
    assert failures.counts == {"test.round": 1}


class Jobs:
    """A job runner whose first batch waits (as on a silent charger) until `answer` is set."""

    def __init__(self) -> None:
        self.wake = asyncio.Event()
        self.answer = asyncio.Event()
        self.batches = 0
        self.cancelled = 0

    async def run_due(self) -> int:
        self.batches += 1
        if self.batches == 1:
            try:
                await self.answer.wait()
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
            return 1
        return 0


async def test_a_job_batch_that_waits_does_not_keep_the_next_wake_up_waiting() -> None:
    jobs = Jobs()
    loop = asyncio.create_task(run_reservation_jobs(jobs, HandlerFailures(), every_s=3600))
    jobs.wake.set()
    async with asyncio.timeout(5):
        while jobs.batches < 1:
            await asyncio.sleep(0.001)
        jobs.wake.set()  # a booking for now, made while the first batch waits
        while jobs.batches < 2:
            await asyncio.sleep(0.001)
    assert not jobs.answer.is_set()

    loop.cancel()  # shutting down ends the batches still running
    await asyncio.gather(loop, return_exceptions=True)
    assert jobs.cancelled == 1
