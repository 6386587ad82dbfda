"""The wiring table: a new area joins through rows of the table alone, on SQLite and
PostgreSQL, and a failing handler is logged and counted without stopping the others."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from voltbook import bootstrap
from voltbook.cluster import SingleNode
from voltbook.config import Settings
from voltbook.core.bus import Event
from voltbook.services import Services
from voltbook.stations.events import ConnectorStatusChanged
from voltbook.stations.model import ConnectorStatus


@dataclass(frozen=True, slots=True)
class ParcelDelivered(Event):
    """An event of the fixture area itself."""

    station_id: str
    parcel: str


class ParcelLockers:
    """A small fixture area: it keeps what it hears, and one of its handlers always fails."""

    def __init__(self) -> None:
        self.statuses: list[tuple[str, str]] = []
        self.parcels: list[str] = []

    async def connector_status(self, event: ConnectorStatusChanged) -> None:
        self.statuses.append((event.station_id, event.status.value))

    async def delivered(self, event: ParcelDelivered) -> None:
        self.parcels.append(event.parcel)

    async def broken(self, event: ConnectorStatusChanged) -> None:
        raise LookupError("no locker at this station")


async def wired(
    engine: AsyncEngine, tmp_path: Path, lockers: ParcelLockers, *, with_broken: bool = False
) -> tuple[Services, SingleNode]:
    cluster = SingleNode()
    on_status = (lockers.connector_status, lockers.broken) if with_broken else (
        lockers.connector_status,
    )  # fmt: skip
    rows = {ConnectorStatusChanged: on_status, ParcelDelivered: (lockers.delivered,)}
    settings = Settings(data_dir=tmp_path, database_url=str(engine.url))
    services = bootstrap.build_services(settings, engine, cluster=cluster, more_events=[rows])
    await services.fleet.register("LOCKER-1", "a-long-station-password")
    return services, cluster


async def test_an_area_joins_through_rows_of_the_wiring_table_alone(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    lockers = ParcelLockers()
    services, cluster = await wired(engine, tmp_path, lockers)

    await services.fleet.status_reported("LOCKER-1", 1, 1, ConnectorStatus.AVAILABLE, None)
    await cluster.bus.publish(ParcelDelivered("LOCKER-1", "P-7"))

    assert lockers.statuses == [("LOCKER-1", "Available")]
    assert lockers.parcels == ["P-7"]


async def test_a_failing_handler_is_logged_and_counted_and_the_others_still_act(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    lockers = ParcelLockers()
    services, _ = await wired(engine, tmp_path, lockers, with_broken=True)

    with capture_logs() as logs:
        await services.fleet.status_reported("LOCKER-1", 1, 1, ConnectorStatus.FAULTED, "X")
        raised = await services.alarms.active()
        await services.fleet.status_reported("LOCKER-1", 1, 1, ConnectorStatus.AVAILABLE, None)

    assert lockers.statuses == [("LOCKER-1", "Faulted"), ("LOCKER-1", "Available")]
    assert [a.station_id for a in raised] == ["LOCKER-1"]  # the alarms area still acted
    assert services.failures.counts == {"ParcelLockers.broken": 2}
    failed = [line for line in logs if line["event"] == "handler failed"]
    assert len(failed) == 2
    assert {key: failed[0][key] for key in ("handler", "event_type", "error", "station")} == {
        "handler": "ParcelLockers.broken",
        "event_type": "ConnectorStatusChanged",
        "error": "LookupError",
        "station": "LOCKER-1",
    }
    assert failed[0]["where"].startswith("test_wiring.py:")
    assert all("no locker" not in str(line) for line in failed)  # the error's text stays out
