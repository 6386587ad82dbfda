"""Work done in the background, one job after another, in the order it was handed in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

Job = Callable[[], Awaitable[object]]
T = TypeVar("T")


class _Batch:
    """Items for one handler, handed over together when the job's turn comes."""

    def __init__(self, handler: Callable[[list[Any]], Awaitable[object]]) -> None:
        self.handler = handler
        self.items: list[Any] = []
        self.started = False

    async def __call__(self) -> None:
        self.started = True
        await self.handler(self.items)


class SerialWorker:
    """Runs jobs one at a time in submission order; a failing job does not stop the rest.

    For follow-up work an event causes (telling people about it) that must keep the order of
    the events but must not hold up whoever published them.
    """

    def __init__(self, on_error: Callable[[BaseException], None] | None = None) -> None:
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._on_error = on_error
        self._idle = asyncio.Event()
        self._idle.set()
        self._last: Job | None = None

    def submit(self, job: Job) -> None:
        self._idle.clear()
        self._last = job
        self._queue.put_nowait(job)

    def submit_item(self, handler: Callable[[list[T]], Awaitable[object]], item: T) -> None:
        """Queue `item` for `handler`; items queued one after another for the same handler
        (nothing else between them) reach it in one call, in order."""
        last = self._last
        if isinstance(last, _Batch) and last.handler == handler and not last.started:
            last.items.append(item)
            return
        batch = _Batch(handler)
        batch.items.append(item)
        self.submit(batch)

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def run(self) -> None:
        """Work off jobs until cancelled."""
        while True:
            job = await self._queue.get()
            try:
                await job()
            except Exception as error:  # reported, then the next job
                if self._on_error is not None:
                    self._on_error(error)
            finally:
                self._queue.task_done()
                if self._queue.empty():
                    self._idle.set()

    async def drained(self) -> None:
        """Wait until every job submitted so far has run."""
        await self._idle.wait()
