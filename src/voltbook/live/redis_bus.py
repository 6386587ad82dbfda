"""The event bus port over Redis pub/sub, for many nodes.

Every event reaches the handlers on the node that publishes it, exactly as with the in-process
bus. An event whose class sets `cluster_wide = True` is also published on the cluster's event
channel and delivered to the handlers of every *other* node (a node skips its own messages).
Events published while Redis is unreachable still reach local handlers; other nodes miss them
(pub/sub keeps nothing), which is why driver notices are also stored in the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections import deque
from typing import Any

import structlog
from redis.asyncio import Redis

from voltbook.core.bus import Event, Handler, InProcessBus
from voltbook.live.codec import DataclassCodec, UnknownType, type_name
from voltbook.live.redis_node import RedisNode

_log = structlog.get_logger("voltbook.cluster")


def cluster_wide_events() -> list[type[Event]]:
    """Every loaded event class that is marked cluster-wide."""
    found: dict[str, type[Event]] = {}
    pending: list[type[Event]] = list(Event.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.cluster_wide and _is_current(cls):
            found[type_name(cls)] = cls
    return list(found.values())


def _is_current(cls: type) -> bool:
    """False for the stale first draft that `dataclass(slots=True)` leaves behind."""
    home: object = sys.modules.get(cls.__module__)
    for part in cls.__qualname__.split("."):
        home = getattr(home, part, None)
        if home is None:  # defined inside a function (event classes belong at module level)
            return True
    return home is cls


class RedisBus:
    """EventBus adapter: local delivery plus Redis pub/sub for cluster-wide events."""

    def __init__(self, node: RedisNode) -> None:
        self._node = node
        self._local = InProcessBus()
        self._codec = DataclassCodec()
        self._channel = node.key("events")
        # Events from other nodes wait here, in order, for one worker: slow handlers never
        # hold up the listener (and the station-command answers it also carries).
        self._inbox: asyncio.Queue[Event] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        node.follow(self._channel, self._received)

    @classmethod
    def from_url(cls, redis_url: str, channel_prefix: str = "voltbook") -> RedisBus:
        """A bus on its own node (connection and node id)."""
        # Health checks find a dead subscriber connection that no error would reveal.
        redis = Redis.from_url(redis_url, socket_connect_timeout=5, health_check_interval=30)
        return cls(RedisNode(redis, prefix=channel_prefix))

    @property
    def node(self) -> RedisNode:
        """The node's Redis connection and id, shared with the other Redis adapters."""
        return self._node

    @property
    def node_id(self) -> str:
        return self._node.node_id

    @property
    def failures(self) -> deque[BaseException]:
        """Exceptions raised by local handlers (as with the in-process bus)."""
        return self._local.failures

    def register(self, event_type: type[Event]) -> None:
        """Make a cluster-wide event class known (classes loaded at start are found anyway)."""
        self._codec.register(event_type)

    def subscribe(self, event_type: type[Event], handler: Handler) -> None:
        self._local.subscribe(event_type, handler)

    async def publish(self, event: Event) -> None:
        await self._local.publish(event)
        if not type(event).cluster_wide:
            return
        message = self._encode(event)
        message["node"] = self._node.node_id
        await self._node.publish(self._channel, message)

    async def start(self) -> None:
        for event_type in cluster_wide_events():
            self._codec.register(event_type)
        if self._worker is None:
            self._worker = asyncio.create_task(self._deliver(), name="redis-bus-inbox")
        await self._node.start()

    async def close(self) -> None:
        await self._node.close()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    async def _deliver(self) -> None:
        while True:
            event = await self._inbox.get()
            await self._local.publish(event)  # handler failures are kept, never raised

    def _encode(self, event: Event) -> dict[str, Any]:
        try:
            return self._codec.encode(event)
        except UnknownType:
            self._codec.register(type(event))
            return self._codec.encode(event)

    async def _received(self, message: dict[str, Any]) -> None:
        if message.get("node") == self._node.node_id:
            return  # our own: local handlers already had it
        try:
            event = self._decode(message)
        except (UnknownType, LookupError, ValueError, TypeError) as error:
            _log.warning("unreadable event from another node", error=type(error).__name__)
            return
        self._inbox.put_nowait(event)

    def _decode(self, message: dict[str, Any]) -> Event:
        name = str(message.get("type"))
        if not self._codec.knows(name):
            for event_type in cluster_wide_events():
                self._codec.register(event_type)
        event = self._codec.decode(message)
        if not isinstance(event, Event) or not type(event).cluster_wide:
            raise UnknownType(name)  # only cluster-wide events may arrive from elsewhere
        return event
