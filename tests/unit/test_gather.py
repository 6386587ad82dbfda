"""Reads by key gathered into one: the callers of a moment share a read, and nobody is served
by a read that started before they asked."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voltbook.core.gather import Gathered


class Store:
    """A table read in batches; every read is recorded with the keys it was for."""

    def __init__(self, hold_s: float = 0.0) -> None:
        self.rows: dict[str, int] = {}
        self.reads: list[list[str]] = []
        self.hold_s = hold_s
        self.fail_next = False

    async def read(self, keys: list[str]) -> dict[str, int]:
        self.reads.append(sorted(keys))
        seen = {key: self.rows[key] for key in keys if key in self.rows}  # read at the start
        await asyncio.sleep(self.hold_s)
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("the database went away")
        return seen


async def test_the_callers_of_one_moment_share_one_read_and_each_gets_its_own_row() -> None:
    store = Store()
    store.rows.update(a=1, b=2)
    gathered = Gathered(store.read)
    found = await asyncio.gather(*(gathered.get(key) for key in ["a", "b", "a", "missing"]))
    assert found == [1, 2, 1, None]
    assert store.reads == [["a", "b", "missing"]]


async def test_a_caller_who_asks_while_a_read_is_under_way_waits_for_the_next_read() -> None:
    store = Store(hold_s=0.02)
    store.rows["sign-in"] = 1
    gathered = Gathered(store.read)
    early = asyncio.create_task(gathered.get("sign-in"))
    await asyncio.sleep(0.005)  # the first read has started
    store.rows["sign-in"] = 2  # committed before the second caller asks
    late = asyncio.create_task(gathered.get("sign-in"))
    assert (await early, await late) == (1, 2)
    assert store.reads == [["sign-in"], ["sign-in"]]


async def test_a_failed_read_fails_only_its_own_callers() -> None:
    store = Store(hold_s=0.02)
    store.rows.update(a=1)
    store.fail_next = True
    gathered = Gathered(store.read)
    failing = asyncio.create_task(gathered.get("a"))
    await asyncio.sleep(0.005)
    after = asyncio.create_task(gathered.get("a"))
    with pytest.raises(ConnectionError):
        await failing
    assert await after == 1


async def test_a_caller_who_goes_away_does_not_disturb_the_others() -> None:
    store = Store(hold_s=0.02)
    store.rows.update(a=1)
    gathered = Gathered(store.read)
    leaving = asyncio.create_task(gathered.get("a"))
    staying = asyncio.create_task(gathered.get("a"))
    await asyncio.sleep(0.005)
    leaving.cancel()
    assert await staying == 1
    assert leaving.cancelled()
    assert await gathered.get("a") == 1  # and the next read still runs


@settings(max_examples=60, deadline=None)
@given(
    waves=st.lists(
        st.lists(st.sampled_from("abcd"), min_size=1, max_size=6), min_size=1, max_size=6
    ),
    pauses=st.lists(st.sampled_from([0.0, 0.001, 0.003]), min_size=6, max_size=6),
)
async def test_every_caller_sees_the_rows_as_they_were_when_it_asked_or_later(
    waves: list[list[str]], pauses: list[float]
) -> None:
    store = Store(hold_s=0.002)
    gathered = Gathered(store.read)
    asked: list[tuple[str, int, asyncio.Task[int | None]]] = []
    for version, (wave, pause) in enumerate(zip(waves, pauses, strict=False)):
        for key in wave:  # a change committed, then callers who ask
            store.rows[key] = version
            asked.append((key, version, asyncio.create_task(gathered.get(key))))
        await asyncio.sleep(pause)
    for _key, version, task in asked:
        got = await task
        assert got is not None
        assert got >= version
    assert sum(len(read) for read in store.reads) <= len(asked)
