"""Reads by key gathered into one: the keys asked for while no read has started are read
together, so a burst of concurrent requests costs one round trip instead of one each."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Gathered(Generic[K, V]):
    """`await get(key)` is `read([key]).get(key)`, but callers of the same moment share a read.

    A caller always joins a read that has not started yet, never one already under way, so
    what it gets was read after it asked (a change committed before the call is seen). One
    read runs at a time; the callers that arrive meanwhile wait for the next, which starts as
    soon as the current one ends. A failed read fails only the callers it was for. One event
    loop; not thread-safe.
    """

    def __init__(self, read: Callable[[list[K]], Awaitable[Mapping[K, V]]]) -> None:
        self._read = read
        self._waiting: dict[K, list[asyncio.Future[V | None]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def get(self, key: K) -> V | None:
        future: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(future)
        if self._reader is None:
            self._reader = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        batch: dict[K, list[asyncio.Future[V | None]]] = {}
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, {}
                try:
                    found = await self._read(list(batch))
                except Exception as error:
                    _settle(batch, None, error)
                else:
                    _settle(batch, found, None)
        finally:
            self._reader = None
            # Cancelled (the loop is closing): nobody is left waiting for ever.
            for futures in (*batch.values(), *self._waiting.values()):
                for future in futures:
                    future.cancel()
            self._waiting = {}


def _settle(
    batch: dict[K, list[asyncio.Future[V | None]]],
    found: Mapping[K, V] | None,
    error: Exception | None,
) -> None:
    for key, futures in batch.items():
        for future in futures:
            if future.done():  # its caller was cancelled (a client went away)
                continue
            if error is not None:
                future.set_exception(error)
            else:
                assert found is not None
                future.set_result(found.get(key))
