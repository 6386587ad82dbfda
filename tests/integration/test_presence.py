"""Presence: in one process, and across nodes on the real Redis with leases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.integration.redis_nodes import REDIS_URL, forget, unique_prefix
from tests.unit.fakes import FakeClock
from voltbook.live.presence import InProcessPresence, RedisPresence


async def test_in_one_process_a_driver_is_online_while_any_of_their_channels_is_open() -> None:
    presence = InProcessPresence()
    assert not await presence.online("d-1")
    await presence.joined("d-1")
    await presence.joined("d-1")  # a phone and a laptop
    await presence.left("d-1")
    assert await presence.online("d-1")
    await presence.left("d-1")
    assert not await presence.online("d-1")
    assert not await presence.online("d-2")


class Nodes:
    def __init__(self, prefix: str, clock: FakeClock) -> None:
        self.prefix = prefix
        self.clock = clock
        self.clients: list[Redis] = []

    def node(self, node_id: str, lease_s: float = 60.0) -> RedisPresence:
        redis = Redis.from_url(REDIS_URL)
        self.clients.append(redis)
        return RedisPresence(redis, node_id, self.clock, prefix=self.prefix, lease_s=lease_s)


@pytest.fixture
async def nodes() -> AsyncIterator[Nodes]:
    prefix = unique_prefix()
    found = Nodes(prefix, FakeClock())
    try:
        yield found
    finally:
        for redis in found.clients:
            await redis.aclose()
        await forget(prefix)


async def test_a_driver_connected_to_one_node_is_online_for_every_node(nodes: Nodes) -> None:
    a, b = nodes.node("a"), nodes.node("b")
    await a.joined("d-1")
    assert await b.online("d-1")
    assert not await b.online("d-2")
    await a.left("d-1")
    assert not await b.online("d-1")


async def test_a_driver_stays_online_while_a_channel_is_open_on_any_node(nodes: Nodes) -> None:
    a, b, c = nodes.node("a"), nodes.node("b"), nodes.node("c")
    await a.joined("d-1")
    await b.joined("d-1")
    await a.left("d-1")
    assert await c.online("d-1")
    await b.left("d-1")
    assert not await c.online("d-1")


async def test_two_channels_on_one_node_count_until_both_are_closed(nodes: Nodes) -> None:
    a, b = nodes.node("a"), nodes.node("b")
    await a.joined("d-1")
    await a.joined("d-1")
    await a.left("d-1")
    assert await b.online("d-1")
    await a.left("d-1")
    assert not await b.online("d-1")


async def test_the_drivers_of_a_crashed_node_go_offline_when_its_lease_runs_out(
    nodes: Nodes,
) -> None:
    crashed, other = nodes.node("crashed", lease_s=30), nodes.node("other", lease_s=30)
    await crashed.joined("d-1")  # then the node dies: no left(), no heartbeat
    nodes.clock.advance(29)
    assert await other.online("d-1")
    nodes.clock.advance(2)
    assert not await other.online("d-1")


async def test_a_live_node_keeps_its_drivers_online_past_one_lease_with_heartbeats(
    nodes: Nodes,
) -> None:
    a, b = nodes.node("a", lease_s=30), nodes.node("b", lease_s=30)
    await a.joined("d-1")
    for _ in range(4):
        nodes.clock.advance(20)
        await a.heartbeat()
    assert await b.online("d-1")


async def test_a_node_that_shuts_down_takes_its_drivers_offline_at_once(nodes: Nodes) -> None:
    a, b = nodes.node("a"), nodes.node("b")
    await a.start()
    await a.joined("d-1")
    await a.close()
    assert not await b.online("d-1")


async def test_presence_keys_expire_in_redis_so_nothing_piles_up(nodes: Nodes) -> None:
    a = nodes.node("a", lease_s=30)
    await a.joined("d-1")
    ttl = await nodes.clients[0].ttl(f"{nodes.prefix}:presence:d-1")
    assert 0 < ttl <= 61
