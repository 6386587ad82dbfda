"""SQLite: the write transactions of one process take turns in the event loop, in order.

SQLite lets one write transaction at a time into a database file. Left to SQLite, every
writer takes a pooled connection, blocks that connection's thread in `BEGIN IMMEDIATE`, and
polls for the lock with sleeps that grow to 100 ms (its busy handler). When the lock is
given back nobody takes it until a sleeper wakes up, and the holder itself needs turns of
the event loop between its statements; on a busy server (many stations sending status at
once) the lock stood idle most of the time, waiting writers held every pooled connection,
and writers failed with "database is locked" (or found no connection in the pool) after
their timeouts.

Here a writer first waits for its turn in this process, first come first served and
without holding a connection, then takes one and begins. `BEGIN IMMEDIATE` and the busy
timeout stay for other processes on the same file (the command line). See docs/adr/0032.
"""

from __future__ import annotations

import asyncio


class WriteTurns:
    """One write transaction at a time, in arrival order; readers do not take a turn."""

    __slots__ = ("_holder", "_lock")

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[object] | None = None

    async def take(self) -> None:
        """Wait for this process's turn to write. A task that already holds the turn would
        wait for itself: that is a bug, said at once instead of hanging."""
        task = asyncio.current_task()
        if task is not None and task is self._holder:
            raise RuntimeError("a write unit of work opened inside another one of the same task")
        await self._lock.acquire()
        self._holder = task

    def give_back(self) -> None:
        self._holder = None
        self._lock.release()
