"""Two nodes' buses on the real Redis: cluster-wide events cross, local facts stay home."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

import pytest

from tests.integration.redis_nodes import (
    cut_listener,
    forget,
    new_node,
    unique_prefix,
)
from tests.polling import eventually
from voltbook.core.bus import Event
from voltbook.live.redis_bus import RedisBus


@dataclass(frozen=True, slots=True)
class NoticeFor(Event):
    cluster_wide: ClassVar[bool] = True

    driver_id: str
    seq: int
    at: datetime
    topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HappenedHere(Event):
    station_id: str


class Inbox:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.events.append(event)


@pytest.fixture
async def buses() -> AsyncIterator[tuple[RedisBus, RedisBus]]:
    prefix = unique_prefix()
    a, b = RedisBus(new_node(prefix)), RedisBus(new_node(prefix))
    await a.start()
    await b.start()
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()
        await forget(prefix)


AT = datetime(2026, 11, 26, 23, 0, tzinfo=UTC)


async def test_a_cluster_wide_event_published_on_one_node_reaches_the_handlers_of_the_other(
    buses: tuple[RedisBus, RedisBus],
) -> None:
    a, b = buses
    on_a, on_b = Inbox(), Inbox()
    a.subscribe(NoticeFor, on_a)
    b.subscribe(NoticeFor, on_b)
    event = NoticeFor("driver-1", 3, AT, ("reservations",))
    await a.publish(event)

    async def arrived() -> bool:
        return bool(on_b.events)

    await eventually(arrived)
    assert on_b.events == [event]
    assert on_a.events == [event]  # the publishing node's handlers run once, locally
    await asyncio.sleep(0.2)
    assert on_a.events == [event]  # and its own message from Redis is not delivered again


async def test_a_local_event_stays_on_the_node_where_it_happened(
    buses: tuple[RedisBus, RedisBus],
) -> None:
    a, b = buses
    on_a, on_b = Inbox(), Inbox()
    a.subscribe(HappenedHere, on_a)
    b.subscribe(HappenedHere, on_b)
    b.subscribe(NoticeFor, on_b)
    await a.publish(HappenedHere("ST-1"))
    await a.publish(NoticeFor("driver-1", 1, AT))  # a marker that does cross

    async def marker_arrived() -> bool:
        return bool(on_b.events)

    await eventually(marker_arrived)
    assert on_a.events == [HappenedHere("ST-1")]
    assert on_b.events == [NoticeFor("driver-1", 1, AT)]


async def test_events_arrive_on_the_other_node_in_the_order_they_were_published(
    buses: tuple[RedisBus, RedisBus],
) -> None:
    a, b = buses
    on_b = Inbox()
    b.subscribe(NoticeFor, on_b)
    sent = [NoticeFor("driver-1", n, AT) for n in range(50)]
    for event in sent:
        await a.publish(event)

    async def all_arrived() -> bool:
        return len(on_b.events) == len(sent)

    await eventually(all_arrived)
    assert on_b.events == sent


async def test_a_failing_handler_on_the_receiving_node_does_not_stop_the_next_events(
    buses: tuple[RedisBus, RedisBus],
) -> None:
    a, b = buses
    on_b = Inbox()

    async def broken(event: Event) -> None:
        raise RuntimeError("handler bug")

    b.subscribe(NoticeFor, broken)
    b.subscribe(NoticeFor, on_b)
    await a.publish(NoticeFor("driver-1", 1, AT))
    await a.publish(NoticeFor("driver-1", 2, AT))

    async def both_arrived() -> bool:
        return len(on_b.events) == 2

    await eventually(both_arrived)
    assert len(b.failures) == 2


async def test_without_redis_local_handlers_still_get_every_event() -> None:
    from redis.asyncio import Redis

    from voltbook.live.redis_node import RedisNode

    node = RedisNode(Redis.from_url("redis://127.0.0.1:1/0"), prefix=unique_prefix(), retry_s=0.05)
    bus = RedisBus(node)
    await bus.start()  # does not raise: the listener keeps retrying
    try:
        inbox = Inbox()
        bus.subscribe(NoticeFor, inbox)
        await bus.publish(NoticeFor("driver-1", 1, AT))
        assert inbox.events == [NoticeFor("driver-1", 1, AT)]
        assert not node.listening
    finally:
        await bus.close()


async def test_a_node_that_lost_redis_hears_the_other_nodes_again_once_it_is_back() -> None:
    prefix = unique_prefix()
    b_node = new_node(prefix)
    a, b = RedisBus(new_node(prefix)), RedisBus(b_node)
    await a.start()
    await b.start()
    try:
        on_b = Inbox()
        b.subscribe(NoticeFor, on_b)
        assert await cut_listener(b_node) == 1
        await a.publish(NoticeFor("driver-1", 1, AT))  # lost on the wire for b, or not

        async def back() -> bool:
            await a.publish(NoticeFor("driver-1", 9, AT))
            await asyncio.sleep(0.05)
            return bool(on_b.events)

        await eventually(back, timeout=10)
        assert on_b.events[-1] == NoticeFor("driver-1", 9, AT)
    finally:
        await a.close()
        await b.close()
        await forget(prefix)


async def test_a_slow_handler_does_not_hold_up_other_traffic_to_its_node() -> None:
    prefix = unique_prefix()
    a_node, b_node = new_node(prefix), new_node(prefix)
    a, b = RedisBus(a_node), RedisBus(b_node)
    other_traffic: list[dict[str, object]] = []

    async def record(message: dict[str, object]) -> None:
        other_traffic.append(message)

    b_node.follow(b_node.key("node", b_node.node_id), record)
    release = asyncio.Event()
    on_b = Inbox()

    async def slow(event: Event) -> None:
        await release.wait()

    b.subscribe(NoticeFor, slow)
    b.subscribe(NoticeFor, on_b)
    await a.start()
    await b.start()
    try:
        await a.publish(NoticeFor("driver-1", 1, AT))
        await a.publish(NoticeFor("driver-1", 2, AT))
        await a_node.publish(b_node.key("node", b_node.node_id), {"kind": "answer", "id": "x"})

        async def answer_arrived() -> bool:
            return bool(other_traffic)

        await eventually(answer_arrived)
        assert on_b.events == [NoticeFor("driver-1", 1, AT)]  # the first is still being handled
        release.set()

        async def both_handled() -> bool:
            return len(on_b.events) == 2

        await eventually(both_handled)
    finally:
        await a.close()
        await b.close()
        await forget(prefix)
