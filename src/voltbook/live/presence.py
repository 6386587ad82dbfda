"""Presence adapters: is a driver's app connected to any node?

One node counts live channels in memory. Many nodes keep, per driver, a Redis sorted set of
the nodes holding a channel for them, each scored with the time its lease runs out; a node
renews its leases on a heartbeat, so the drivers of a node that crashed read as offline once
its leases lapse (the lease length plus clock skew between nodes, at most).
"""

from __future__ import annotations

import contextlib
from collections import Counter

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from voltbook.core.clock import Clock
from voltbook.live.redis_node import Repeating

_log = structlog.get_logger("voltbook.cluster")


class InProcessPresence:
    """Counts open channels per driver in this process."""

    def __init__(self) -> None:
        self._open: Counter[str] = Counter()

    async def online(self, driver_id: str) -> bool:
        return self._open[driver_id] > 0

    async def joined(self, driver_id: str) -> None:
        self._open[driver_id] += 1

    async def left(self, driver_id: str) -> None:
        self._open[driver_id] -= 1
        if self._open[driver_id] <= 0:
            del self._open[driver_id]


class RedisPresence:
    """Presence shared by every node through Redis, with leases renewed by `heartbeat`."""

    def __init__(
        self,
        redis: Redis,
        node_id: str,
        clock: Clock,
        *,
        prefix: str = "voltbook",
        lease_s: float = 60.0,
    ) -> None:
        self._redis = redis
        self._node = node_id
        self._clock = clock
        self._prefix = prefix
        self._lease = lease_s
        self._open: Counter[str] = Counter()  # this node's channels per driver
        self._renewer = Repeating(lease_s / 3, self.heartbeat, "presence-leases")

    def _key(self, driver_id: str) -> str:
        return f"{self._prefix}:presence:{driver_id}"

    def _now(self) -> float:
        return self._clock.now().timestamp()

    async def online(self, driver_id: str) -> bool:
        if self._open[driver_id] > 0:
            return True
        try:
            live = await self._redis.zcount(self._key(driver_id), f"({self._now()}", "+inf")
        except (RedisError, OSError) as error:
            _log.warning("presence unreadable; driver counted offline", error=type(error).__name__)
            return False
        return int(live) > 0

    async def joined(self, driver_id: str) -> None:
        self._open[driver_id] += 1
        if self._open[driver_id] == 1:
            await self._lease_for([driver_id])

    async def left(self, driver_id: str) -> None:
        self._open[driver_id] -= 1
        if self._open[driver_id] > 0:
            return
        del self._open[driver_id]
        try:
            await self._redis.zrem(self._key(driver_id), self._node)
        except (RedisError, OSError) as error:  # the lease lapses on its own
            _log.warning("presence not updated", error=type(error).__name__)

    async def heartbeat(self) -> None:
        """Renew this node's leases for every driver it holds a channel for."""
        await self._lease_for(list(self._open))

    async def start(self) -> None:
        self._renewer.start()

    async def close(self) -> None:
        await self._renewer.stop()
        drivers = list(self._open)
        self._open.clear()
        with contextlib.suppress(RedisError, OSError):
            async with self._redis.pipeline(transaction=False) as pipe:
                for driver_id in drivers:
                    pipe.zrem(self._key(driver_id), self._node)
                await pipe.execute()

    async def _lease_for(self, drivers: list[str]) -> None:
        if not drivers:
            return
        now = self._now()
        until = now + self._lease
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for driver_id in drivers:
                    key = self._key(driver_id)
                    pipe.zadd(key, {self._node: until})
                    pipe.zremrangebyscore(key, "-inf", now)  # leases of crashed nodes
                    pipe.expire(key, int(self._lease * 2) + 1)
                await pipe.execute()
        except (RedisError, OSError) as error:
            _log.warning("presence lease not renewed", error=type(error).__name__)
