"""A running server's long-lived objects, set aside from Python's cyclic garbage collector.

Once started, a server holds a large heap that lives as long as the process: the app and
its routes, the compiled OCPP schemas, SQLAlchemy's statements, the sites in memory. Every
full (generation 2) collection walked all of it. Under load (an OCPP message allocates
dozens of objects, and batches queued for a second outlive the young generations) a full
collection came about once a second and took 140-170 ms, every station's answer waiting
behind it: the p99 of the OCPP ingest benchmark was that pause (docs/benchmarks.md).

`gc.freeze()` moves every object alive at that moment to a permanent generation that
collections skip; objects made afterwards are collected as before. The cost: a reference
cycle among frozen objects is never reclaimed, so the server freezes twice only, once
started and once more after its first minute (the memory catalog, the first batches and
caches are in by then), not periodically.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Protocol

SETTLE_AGAIN_AFTER_S = 60.0


class Started(Protocol):
    @property
    def started(self) -> bool: ...


def settle() -> int:
    """Collect what is garbage now, then set the rest aside; how many objects were set aside."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


async def settle_once_started(server: Started, again_after_s: float = SETTLE_AGAIN_AFTER_S) -> None:
    """For a server being started: settle the heap once it serves, and once more later."""
    while not server.started:  # noqa: ASYNC110 (uvicorn says so with a flag, not an event)
        await asyncio.sleep(0.05)
    settle()
    await asyncio.sleep(again_after_s)
    settle()
