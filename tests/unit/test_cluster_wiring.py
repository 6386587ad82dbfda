"""One node or many: bootstrap picks the adapters from the settings; the services see ports."""

from __future__ import annotations

from pathlib import Path

from voltbook.cluster import ManyNodes, SingleNode, build_cluster
from voltbook.config import Settings
from voltbook.core.bus import InProcessBus
from voltbook.core.clock import SystemClock
from voltbook.live.presence import InProcessPresence, RedisPresence
from voltbook.live.redis_bus import RedisBus
from voltbook.live.station_link import ClusterStationLink
from voltbook.stations.commands import Command, CommandAnswer


class LocalGateway:
    async def send(self, station_id: str, command: Command, timeout_s: float) -> CommandAnswer:
        return CommandAnswer("Reset", "Accepted")


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path, **values)  # type: ignore[arg-type]


async def test_without_a_redis_url_one_node_uses_the_in_process_adapters(tmp_path: Path) -> None:
    cluster = build_cluster(settings(tmp_path), SystemClock())
    assert isinstance(cluster, SingleNode)
    assert isinstance(cluster.bus, InProcessBus)
    assert isinstance(cluster.presence, InProcessPresence)
    gateway = LocalGateway()
    assert cluster.station_link(gateway) is gateway
    await cluster.start()
    await cluster.close()


async def test_with_a_redis_url_the_redis_adapters_are_used_under_the_configured_prefix(
    tmp_path: Path,
) -> None:
    cluster = build_cluster(
        settings(tmp_path, redis_url="redis://127.0.0.1:6379/0", redis_prefix="fleet-7"),
        SystemClock(),
    )
    assert isinstance(cluster, ManyNodes)
    try:
        assert isinstance(cluster.bus, RedisBus)
        assert isinstance(cluster.presence, RedisPresence)
        assert isinstance(cluster.station_link(LocalGateway()), ClusterStationLink)
        assert cluster.node.key("station", "ST-1") == "fleet-7:station:ST-1"
    finally:
        await cluster.close()  # never started: closing must still be clean
