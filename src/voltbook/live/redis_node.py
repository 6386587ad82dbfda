"""One node's Redis pub/sub: a random node id, one listener on the channels it follows, reconnects.

Pub/sub is fire-and-forget: a message published while a node is disconnected from Redis is
lost for that node. What must survive an outage is stored elsewhere (the notices outbox in the
database, the reservation job table); what crosses here is live traffic.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

Receiver = Callable[[dict[str, Any]], Awaitable[None]]
_log = structlog.get_logger("voltbook.cluster")


class RedisNode:
    """Publishes JSON messages and hands the ones on followed channels to their receivers."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "voltbook",
        node_id: str | None = None,
        retry_s: float = 1.0,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.node_id = node_id or secrets.token_hex(8)
        self._retry_s = retry_s
        self._receivers: dict[str, Receiver] = {}
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    def key(self, *parts: str) -> str:
        """A Redis key or channel name under this cluster's prefix."""
        return ":".join((self.prefix, *parts))

    def follow(self, channel: str, receiver: Receiver) -> None:
        """Hand every message on `channel` to `receiver` (register before start)."""
        self._receivers[channel] = receiver

    async def publish(self, channel: str, message: dict[str, Any]) -> int:
        """How many nodes were listening; 0 when Redis is unreachable (logged)."""
        try:
            return int(await self.redis.publish(channel, json.dumps(message)))
        except (RedisError, OSError) as error:
            _log.warning("redis publish failed", error=type(error).__name__)
            return 0

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    async def start(self, wait_s: float = 5.0) -> None:
        """Start listening; waits (up to `wait_s`) until the channels are subscribed."""
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="redis-listener")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_s):
                await self._listening.wait()
        if not self.listening:
            _log.warning("redis not reachable yet; the node keeps trying")

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        await self.redis.aclose()

    async def _listen(self) -> None:
        while True:
            try:
                async with self.redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(*self._receivers)
                    self._listening.set()
                    _log.info("listening on redis", node=self.node_id)
                    async for raw in pubsub.listen():
                        await self._dispatch(raw)
            except (RedisError, OSError) as error:
                if self._listening.is_set():
                    _log.warning(
                        "lost redis; messages from other nodes are missed until it is back",
                        error=type(error).__name__,
                    )
                self._listening.clear()
            await asyncio.sleep(self._retry_s)

    async def _dispatch(self, raw: dict[str, Any]) -> None:
        channel = raw.get("channel")
        if isinstance(channel, bytes):
            channel = channel.decode()
        receiver = self._receivers.get(str(channel))
        if receiver is None or raw.get("type") != "message":
            return
        try:
            message = json.loads(raw["data"])
            if not isinstance(message, dict):
                raise TypeError("not an object")  # noqa: TRY301 - same handling as bad JSON
        except (ValueError, TypeError):
            _log.warning("unreadable message on redis", channel=channel)
            return
        try:
            await receiver(message)
        except Exception:  # one bad message must not stop the listener
            _log.exception("handling a message from another node failed", channel=channel)


class Repeating:
    """Runs `action` every `period_s` seconds in a task of its own, from `start` to `stop`
    (lease renewals of presence and station whereabouts)."""

    def __init__(self, period_s: float, action: Callable[[], Awaitable[object]], name: str):
        self._period = period_s
        self._action = action
        self._name = name
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._period)
            await self._action()
