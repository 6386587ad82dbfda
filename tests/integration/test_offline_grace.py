"""A station whose connection drops is offline only if it is not back within the grace period
(docs/adr/0034); a node's late "offline" never overwrites a newer connection elsewhere."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from voltbook import bootstrap
from voltbook.config import Settings
from voltbook.core.bus import Event
from voltbook.services import Services
from voltbook.stations.events import StationConnected, StationDisconnected
from voltbook.storage.stations import SqlStationRepository

GRACE_S = 0.3


@dataclass
class Node:
    """One server's services, and the station events it published."""

    services: Services
    heard: list[Event] = field(default_factory=list)


def node(engine: AsyncEngine, tmp_path: Path) -> Node:
    settings = Settings(
        data_dir=tmp_path, database_url=str(engine.url), ocpp_offline_grace_s=GRACE_S
    )
    heard: list[Event] = []

    async def record(event: Event) -> None:
        heard.append(event)

    table = {StationConnected: (record,), StationDisconnected: (record,)}
    return Node(bootstrap.build_services(settings, engine, more_events=[table]), heard)


@pytest.fixture
def one(engine: AsyncEngine, tmp_path: Path) -> Node:
    return node(engine, tmp_path)


async def connected_then_dropped(services: Services, station_id: str) -> None:
    """A station made, connected, and its connection just closed."""
    await services.fleet.register(station_id)
    await services.fleet.connected(station_id, "1.6")
    await services.fleet.disconnected(station_id)


def kinds(heard: list[Event]) -> list[str]:
    return [
        "resumed" if isinstance(e, StationConnected) and e.resumed else type(e).__name__
        for e in heard
    ]


async def test_a_station_back_within_the_grace_period_never_counted_as_offline(
    one: Node,
) -> None:
    services, heard = one.services, one.heard
    await connected_then_dropped(services, "GRACE-1")
    assert (await services.fleet.get("GRACE-1")).online  # not yet: it may be back
    await services.fleet.connected("GRACE-1", "1.6")
    await asyncio.sleep(GRACE_S * 2)
    assert (await services.fleet.get("GRACE-1")).online
    assert kinds(heard) == ["StationConnected", "resumed"]


async def test_a_station_away_longer_is_written_offline_as_of_the_moment_it_went(
    one: Node,
) -> None:
    services, heard = one.services, one.heard
    await connected_then_dropped(services, "GRACE-2")
    await asyncio.sleep(GRACE_S * 2)
    station = await services.fleet.get("GRACE-2")
    assert not station.online
    assert kinds(heard) == ["StationConnected", "StationDisconnected"]
    gone = heard[-1]
    assert isinstance(gone, StationDisconnected)
    assert station.last_seen == gone.at  # the drop, not the end of the grace period
    await services.fleet.connected("GRACE-2", "1.6")  # back later: online again, in full
    assert (await services.fleet.get("GRACE-2")).online
    assert kinds(heard)[-1] == "StationConnected"


async def test_a_late_offline_does_not_overwrite_a_newer_connection_on_another_node(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    node_a, node_b = node(engine, tmp_path), node(engine, tmp_path)
    await connected_then_dropped(node_a.services, "GRACE-3")
    await asyncio.sleep(0.01)
    await node_b.services.fleet.connected("GRACE-3", "1.6")  # reconnected through node B
    await asyncio.sleep(GRACE_S * 2)
    assert (await node_a.services.fleet.get("GRACE-3")).online
    assert kinds(node_a.heard) == ["StationConnected"]  # no "offline", so no alarm from A
    assert kinds(node_b.heard) == ["StationConnected"]


async def test_stations_in_their_grace_period_are_written_offline_when_the_server_stops(
    one: Node,
) -> None:
    services, heard = one.services, one.heard
    await connected_then_dropped(services, "GRACE-4")
    await services.fleet.offline_now()
    assert not (await services.fleet.get("GRACE-4")).online
    assert kinds(heard) == ["StationConnected", "StationDisconnected"]


async def test_an_offline_write_that_fails_is_tried_again_after_another_grace_period(
    one: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    services, heard = one.services, one.heard
    await services.fleet.register("GRACE-5")
    await services.fleet.connected("GRACE-5", "1.6")
    real = SqlStationRepository.set_offline
    failures = [ConnectionError("the database went away")]

    async def flaky(self: SqlStationRepository, station_id: str, since: datetime) -> bool:
        if failures:
            raise failures.pop()
        return await real(self, station_id, since)

    monkeypatch.setattr(SqlStationRepository, "set_offline", flaky)
    await services.fleet.disconnected("GRACE-5")
    await asyncio.sleep(GRACE_S * 1.5)
    assert not failures  # the first try failed
    assert (await services.fleet.get("GRACE-5")).online
    await asyncio.sleep(GRACE_S * 1.5)
    assert not (await services.fleet.get("GRACE-5")).online
    assert kinds(heard) == ["StationConnected", "StationDisconnected"]
