"""Work done in the background, one job after another, in the order it was handed in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

Job = Callable[[], Awaitable[object]]


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

    def submit(self, job: Job) -> None:
        self._idle.clear()
        self._queue.put_nowait(job)

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
