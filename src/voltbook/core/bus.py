"""Event bus port and the in-process adapter. Services publish facts; others subscribe."""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every domain event: a fact that happened.

    Handlers run on the node where the event is published, once. An event type that sets
    `cluster_wide = True` also reaches the handlers on every other node (over Redis when many
    nodes run): for facts that concern connections held elsewhere, like a notice for a driver
    whose app is connected to another node. Its fields must be JSON-friendly (str, int, float,
    bool, None, datetime, enums of str, tuples/lists and dicts of those).
    """

    cluster_wide: ClassVar[bool] = False


Handler = Callable[[Event], Awaitable[None]]


class EventBus(Protocol):
    async def publish(self, event: Event) -> None:
        """Deliver `event` to every handler subscribed to its type."""
        ...

    def subscribe(self, event_type: type[Event], handler: Handler) -> None:
        """Call `handler` for every published event of `event_type` (or a subclass)."""
        ...


class InProcessBus:
    """Delivers events to handlers in this process; a failing handler does not stop others.

    Handlers subscribed through the wiring table record their own failures (logged and
    counted); what still reaches the bus is counted in `failed` and the last `keep` of it
    kept in `failures`, never an unbounded list."""

    def __init__(self, keep: int = 100) -> None:
        self._handlers: defaultdict[type[Event], list[Handler]] = defaultdict(list)
        self.failures: deque[BaseException] = deque(maxlen=keep)
        self.failed = 0

    def subscribe(self, event_type: type[Event], handler: Handler) -> None:
        self._handlers[event_type].append(handler)

    async def publish(self, event: Event) -> None:
        handlers = [
            handler
            for event_type, registered in self._handlers.items()
            if isinstance(event, event_type)
            for handler in registered
        ]
        if not handlers:
            return
        results = await asyncio.gather(*(h(event) for h in handlers), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                self.failed += 1
                self.failures.append(result)
