"""A running server's heap is set aside from the cyclic collector once it serves (heap.py)."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from voltbook.heap import settle, settle_once_started


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process's own objects go back to the collector


class Server:
    started = False


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def test_settling_collects_what_is_garbage_and_sets_aside_what_is_alive() -> None:
    gone, alive = Node(), Node()
    gone_ref, alive_ref = weakref.ref(gone), weakref.ref(alive)
    del gone
    assert settle() == gc.get_freeze_count() > 0
    assert gone_ref() is None
    assert alive_ref() is alive


async def test_the_heap_is_set_aside_once_the_server_serves_and_once_more_later() -> None:
    server = Server()
    settling = asyncio.create_task(settle_once_started(server, again_after_s=0.2))
    await asyncio.sleep(0.1)
    assert gc.get_freeze_count() == 0  # not before it serves
    server.started = True
    await asyncio.sleep(0.1)
    first = gc.get_freeze_count()
    assert first > 0
    young = [object() for _ in range(1000)]  # made after the first time
    gc.unfreeze()  # what the second time sets aside is counted on its own
    await asyncio.wait_for(settling, 1)
    assert gc.get_freeze_count() >= len(young)
