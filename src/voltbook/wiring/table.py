"""An event table: which handlers act on which event, and how they are subscribed.

A table maps an event type to the handlers that act on it, in the order they are listed;
handlers are bound methods (or functions) taking the event. Each handler is subscribed wrapped:
a failure is recorded (see `HandlerFailures`) and never reaches the publisher or the other
handlers of the same event.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from voltbook.core.bus import Event, EventBus
from voltbook.wiring.failures import HandlerFailures

Reaction = Callable[[Any], Awaitable[object]]
"""A handler of one event type: it takes the event (a bound method, usually)."""

Table = Mapping[type[Event], Sequence[Reaction]]


def handler_name(handler: Reaction) -> str:
    """The label a handler is logged and counted under: `Class.method` or `module.function`."""
    qualname = getattr(handler, "__qualname__", None)
    if isinstance(qualname, str) and "<locals>" not in qualname:
        return qualname
    return getattr(handler, "__name__", None) or type(handler).__name__


def subscribe(bus: EventBus, tables: Iterable[Table], failures: HandlerFailures) -> None:
    """Subscribe every row of every table, each handler guarded."""
    for table in tables:
        for event_type, handlers in table.items():
            for handler in handlers:
                bus.subscribe(event_type, guarded(handler, failures))


def guarded(handler: Reaction, failures: HandlerFailures) -> Callable[[Event], Awaitable[None]]:
    name = handler_name(handler)

    async def handle(event: Event) -> None:
        try:
            await handler(event)
        except Exception as error:  # recorded: one handler never stops the others
            failures.record(name, error, event)

    handle.__qualname__ = name
    return handle
