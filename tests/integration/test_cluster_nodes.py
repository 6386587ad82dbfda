"""Two nodes as bootstrap builds them from the settings, on the real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from tests.integration.redis_nodes import REDIS_URL, forget, unique_prefix
from tests.polling import eventually
from voltbook.cluster import ManyNodes, build_cluster
from voltbook.config import Settings
from voltbook.core.bus import Event
from voltbook.core.clock import SystemClock


@dataclass(frozen=True, slots=True)
class OfferSent(Event):
    cluster_wide: ClassVar[bool] = True

    driver_id: str
    offer_id: int


@pytest.fixture
async def two_nodes(tmp_path: Path) -> AsyncIterator[tuple[ManyNodes, ManyNodes]]:
    prefix = unique_prefix()
    settings = Settings(data_dir=tmp_path, redis_url=REDIS_URL, redis_prefix=prefix)
    a, b = build_cluster(settings, SystemClock()), build_cluster(settings, SystemClock())
    assert isinstance(a, ManyNodes)
    assert isinstance(b, ManyNodes)
    await a.start()
    await b.start()
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()
        await forget(prefix)


async def test_a_cluster_wide_event_on_node_a_reaches_a_handler_on_node_b(
    two_nodes: tuple[ManyNodes, ManyNodes],
) -> None:
    a, b = two_nodes
    assert a.node.node_id != b.node.node_id
    seen: list[Event] = []

    async def handler(event: Event) -> None:
        seen.append(event)

    b.bus.subscribe(OfferSent, handler)
    await a.bus.publish(OfferSent("driver-1", 5))

    async def arrived() -> bool:
        return bool(seen)

    await eventually(arrived)
    assert seen == [OfferSent("driver-1", 5)]


async def test_a_driver_whose_app_is_on_node_a_is_online_for_node_b(
    two_nodes: tuple[ManyNodes, ManyNodes],
) -> None:
    a, b = two_nodes
    await a.presence.joined("driver-1")
    assert await b.presence.online("driver-1")
    await a.presence.left("driver-1")
    assert not await b.presence.online("driver-1")
