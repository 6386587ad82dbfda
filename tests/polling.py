"""One way for a test to wait for something that no message announces."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], timeout: float = 10.0, every_s: float = 0.05
) -> None:
    """Return once `check()` (plain or awaitable) is true; fail after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            result = check()
            if await result if inspect.isawaitable(result) else result:
                return
            await asyncio.sleep(every_s)
