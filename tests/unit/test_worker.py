"""Follow-up work runs in the order it was handed in, and one failure stops nothing."""

from __future__ import annotations

import asyncio

from voltbook.core.worker import SerialWorker


async def test_jobs_run_one_at_a_time_in_submission_order() -> None:
    done: list[int] = []
    worker = SerialWorker()

    def job(n: int, pause: float):
        async def run() -> None:
            await asyncio.sleep(pause)
            done.append(n)

        return run

    for n, pause in enumerate((0.03, 0.0, 0.01)):
        worker.submit(job(n, pause))
    runner = asyncio.create_task(worker.run())
    await asyncio.wait_for(worker.drained(), 2)
    runner.cancel()
    assert done == [0, 1, 2]


async def test_a_failing_job_is_reported_and_the_next_one_runs() -> None:
    failures: list[BaseException] = []
    done: list[str] = []
    worker = SerialWorker(failures.append)

    async def broken() -> None:
        raise RuntimeError("boom")

    async def fine() -> None:
        done.append("fine")

    worker.submit(broken)
    worker.submit(fine)
    runner = asyncio.create_task(worker.run())
    await asyncio.wait_for(worker.drained(), 2)
    runner.cancel()
    assert done == ["fine"]
    assert [str(f) for f in failures] == ["boom"]


async def test_items_queued_one_after_another_reach_their_handler_together_in_order() -> None:
    calls: list[object] = []
    worker = SerialWorker()

    async def handle(items: list[int]) -> None:
        calls.append(list(items))

    async def other() -> None:
        calls.append("other")

    for n in (1, 2, 3):
        worker.submit_item(handle, n)
    worker.submit(other)  # something else in between keeps its place
    worker.submit_item(handle, 4)
    runner = asyncio.create_task(worker.run())
    await asyncio.wait_for(worker.drained(), 2)
    worker.submit_item(handle, 5)  # the earlier batch has run: a new one
    await asyncio.wait_for(worker.drained(), 2)
    runner.cancel()
    assert calls == [[1, 2, 3], "other", [4], [5]]
