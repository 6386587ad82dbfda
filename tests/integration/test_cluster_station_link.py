"""Station commands across nodes on the real Redis: they reach the node holding the socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from tests.integration.redis_nodes import admin, forget, new_node, unique_prefix
from voltbook.core.errors import DomainError, TimedOut, Unavailable, UpstreamFailed
from voltbook.live.redis_node import RedisNode
from voltbook.live.station_link import ClusterStationLink
from voltbook.stations.commands import Command, CommandAnswer, GetConfiguration, ReserveNow, Reset


@dataclass
class Gateway:
    """One node's own gateway: the stations whose sockets it holds, and how they answer."""

    connected: set[str] = field(default_factory=set)
    silent: bool = False
    fails_with: DomainError | None = None
    received: list[tuple[str, Command, float]] = field(default_factory=list)

    async def send(self, station_id: str, command: Command, timeout_s: float) -> CommandAnswer:
        if station_id not in self.connected:
            raise Unavailable(f"station {station_id} is not connected")
        self.received.append((station_id, command, timeout_s))
        if self.fails_with is not None:
            raise self.fails_with
        if self.silent:
            await asyncio.sleep(timeout_s)
            raise TimedOut(f"station {station_id} did not answer in time")
        return CommandAnswer(
            type(command).__name__, "Accepted", {"status": "Accepted", "via": station_id}
        )


@dataclass
class Node:
    gateway: Gateway
    redis: RedisNode
    link: ClusterStationLink

    async def station_connects(self, station_id: str) -> None:
        self.gateway.connected.add(station_id)
        await self.link.station_connected(station_id)

    async def station_leaves(self, station_id: str) -> None:
        self.gateway.connected.discard(station_id)
        await self.link.station_disconnected(station_id)


class Cluster:
    def __init__(self) -> None:
        self.prefix = unique_prefix()
        self.nodes: list[Node] = []

    async def node(self) -> Node:
        gateway = Gateway()
        redis = new_node(self.prefix)
        node = Node(gateway, redis, ClusterStationLink(gateway, redis, lease_s=30))
        await redis.start()
        await node.link.start()
        self.nodes.append(node)
        return node


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    found = Cluster()
    try:
        yield found
    finally:
        for node in found.nodes:
            await node.link.close()
            await node.redis.close()
        await forget(found.prefix)


async def test_a_command_sent_on_one_node_reaches_the_station_on_another_and_returns_its_answer(
    cluster: Cluster,
) -> None:
    a, b = await cluster.node(), await cluster.node()
    await a.station_connects("ST-1")
    command = ReserveNow(7, "CARD1", datetime(2030, 1, 1, 10, tzinfo=UTC), evse_id=2)
    answer = await b.link.send("ST-1", command, 5.0)
    assert answer == CommandAnswer("ReserveNow", "Accepted", {"status": "Accepted", "via": "ST-1"})
    assert a.gateway.received == [("ST-1", command, 5.0)]
    assert b.gateway.received == []


async def test_a_command_for_a_station_on_this_node_goes_straight_to_the_local_gateway(
    cluster: Cluster,
) -> None:
    a, b = await cluster.node(), await cluster.node()
    await a.station_connects("ST-1")
    answer = await a.link.send("ST-1", Reset(hard=True), 5.0)
    assert answer.status == "Accepted"
    assert a.gateway.received == [("ST-1", Reset(hard=True), 5.0)]
    assert b.gateway.received == []


async def test_a_station_no_node_holds_is_unavailable(cluster: Cluster) -> None:
    a, b = await cluster.node(), await cluster.node()
    with pytest.raises(Unavailable):
        await b.link.send("ST-NOWHERE", GetConfiguration(), 5.0)
    await a.station_connects("ST-1")
    await a.station_leaves("ST-1")
    with pytest.raises(Unavailable):
        await b.link.send("ST-1", GetConfiguration(), 5.0)


async def test_a_silent_station_on_another_node_times_out(cluster: Cluster) -> None:
    a, b = await cluster.node(), await cluster.node()
    await a.station_connects("ST-1")
    a.gateway.silent = True
    started = asyncio.get_running_loop().time()
    with pytest.raises(TimedOut):
        await b.link.send("ST-1", GetConfiguration(), 0.3)
    assert asyncio.get_running_loop().time() - started < 2.0


async def test_the_holding_nodes_error_comes_back_as_the_same_kind_of_error(
    cluster: Cluster,
) -> None:
    a, b = await cluster.node(), await cluster.node()
    await a.station_connects("ST-1")
    a.gateway.fails_with = UpstreamFailed("station answered Reset wrongly: bad status")
    with pytest.raises(UpstreamFailed, match="bad status"):
        await b.link.send("ST-1", Reset(), 5.0)


async def test_a_holding_node_that_went_away_makes_the_station_unavailable_not_a_timeout(
    cluster: Cluster,
) -> None:
    a, b = await cluster.node(), await cluster.node()
    await a.station_connects("ST-1")
    await a.redis.close()  # crashed: its lease is still in Redis, nobody listens
    started = asyncio.get_running_loop().time()
    with pytest.raises(Unavailable):
        await b.link.send("ST-1", GetConfiguration(), 5.0)
    assert asyncio.get_running_loop().time() - started < 1.0


async def test_a_station_that_moved_to_another_node_is_not_released_by_the_old_one(
    cluster: Cluster,
) -> None:
    a, b, c = await cluster.node(), await cluster.node(), await cluster.node()
    await a.station_connects("ST-1")
    await b.station_connects("ST-1")  # reconnected elsewhere before a noticed the old socket die
    await a.station_leaves("ST-1")
    await a.link.renew()
    answer = await c.link.send("ST-1", GetConfiguration(), 5.0)
    assert answer.status == "Accepted"
    assert [r[0] for r in b.gateway.received] == ["ST-1"]
    assert a.gateway.received == []


async def test_a_node_stops_treating_a_station_as_local_once_another_node_took_it_over(
    cluster: Cluster,
) -> None:
    a, b = await cluster.node(), await cluster.node()
    await a.station_connects("ST-1")
    await b.station_connects("ST-1")  # a's socket is stale but a has not heard it close
    await a.link.renew()  # the renewal finds b's name on the station and lets go
    answer = await a.link.send("ST-1", GetConfiguration(), 5.0)
    assert answer.status == "Accepted"
    assert [r[0] for r in b.gateway.received] == ["ST-1"]


async def test_the_location_of_a_station_is_a_lease_that_ends_if_its_node_stops_renewing(
    cluster: Cluster,
) -> None:
    a = await cluster.node()
    await a.station_connects("ST-1")
    async with admin() as redis:
        ttl = await redis.ttl(f"{cluster.prefix}:station:ST-1")
    assert 0 < ttl <= 30


async def test_a_node_that_shuts_down_gives_up_its_stations(cluster: Cluster) -> None:
    a, b = await cluster.node(), await cluster.node()
    await a.station_connects("ST-1")
    await a.link.close()
    async with admin() as redis:
        assert await redis.get(f"{cluster.prefix}:station:ST-1") is None
    with pytest.raises(Unavailable):
        await b.link.send("ST-1", GetConfiguration(), 5.0)


async def test_many_commands_in_flight_each_get_their_own_answer(cluster: Cluster) -> None:
    a, b = await cluster.node(), await cluster.node()
    for n in range(10):
        await a.station_connects(f"ST-{n}")
    answers = await asyncio.gather(
        *(b.link.send(f"ST-{n}", GetConfiguration((f"K{n}",)), 5.0) for n in range(10))
    )
    assert [answer.response["via"] for answer in answers] == [f"ST-{n}" for n in range(10)]
