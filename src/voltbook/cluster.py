"""What differs between one node and many, wired by bootstrap.

One node: the in-process bus, presence counted in memory, commands to the local gateway.
Many nodes (`redis_url` set): the Redis bus, presence leases in Redis, and commands that reach
a station through whichever node holds its socket. The services see only the ports.
"""

from __future__ import annotations

from typing import Protocol

from voltbook.config import Settings
from voltbook.core.bus import Event, EventBus, InProcessBus
from voltbook.core.clock import Clock
from voltbook.live.presence import InProcessPresence, RedisPresence
from voltbook.live.redis_bus import RedisBus
from voltbook.live.station_link import ClusterStationLink
from voltbook.notices.ports import Presence
from voltbook.stations.events import StationConnected, StationConnectionClosed
from voltbook.stations.ports import StationLink


class Cluster(Protocol):
    @property
    def bus(self) -> EventBus: ...

    @property
    def presence(self) -> Presence: ...

    def station_link(self, local: StationLink) -> StationLink:
        """The link the fleet commands through, given this node's own gateway."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class SingleNode:
    def __init__(self) -> None:
        self._bus = InProcessBus()
        self._presence = InProcessPresence()

    @property
    def bus(self) -> InProcessBus:
        return self._bus

    @property
    def presence(self) -> InProcessPresence:
        return self._presence

    def station_link(self, local: StationLink) -> StationLink:
        return local

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


class ManyNodes:
    def __init__(self, redis_url: str, clock: Clock, prefix: str = "voltbook") -> None:
        self._bus = RedisBus.from_url(redis_url, prefix)
        self.node = self._bus.node
        self._presence = RedisPresence(self.node.redis, self.node.node_id, clock, prefix=prefix)
        self._link: ClusterStationLink | None = None

    @property
    def bus(self) -> RedisBus:
        return self._bus

    @property
    def presence(self) -> RedisPresence:
        return self._presence

    def station_link(self, local: StationLink) -> StationLink:
        link = ClusterStationLink(local, self.node)

        async def connected(event: Event) -> None:
            assert isinstance(event, StationConnected)
            await link.station_connected(event.station_id)

        async def disconnected(event: Event) -> None:
            assert isinstance(event, StationConnectionClosed)
            await link.station_disconnected(event.station_id)

        self._bus.subscribe(StationConnected, connected)
        self._bus.subscribe(StationConnectionClosed, disconnected)
        self._link = link
        return link

    async def start(self) -> None:
        await self._bus.start()
        await self._presence.start()
        if self._link is not None:
            await self._link.start()

    async def close(self) -> None:
        if self._link is not None:
            await self._link.close()
        await self._presence.close()
        await self._bus.close()  # last: it closes the Redis client


def build_cluster(settings: Settings, clock: Clock) -> SingleNode | ManyNodes:
    if settings.redis_url:
        return ManyNodes(settings.redis_url, clock, settings.redis_prefix)
    return SingleNode()
