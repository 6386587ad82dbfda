"""The in-memory site catalog follows every change to what a search shows, on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.test_nearby import plan
from tests.unit.fakes import FakeClock
from voltbook.core.bus import Event, InProcessBus
from voltbook.stations.catalog import SiteCatalog
from voltbook.stations.catalog_sync import CATALOG_EVENTS, CatalogSync
from voltbook.stations.events import ConnectorStatusChanged, SitesChanged
from voltbook.stations.model import ConnectorStatus, NearbyQuery, NearbySite
from voltbook.stations.service import StationService
from voltbook.storage.site_versions import SqlSiteVersions
from voltbook.storage.tables import sites
from voltbook.storage.unit_of_work import SqlUnitOfWork

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
EVERYWHERE = NearbyQuery(42.0, -71.0, radius_m=50_000.0, limit=10)
AVAILABLE = NearbyQuery(42.0, -71.0, radius_m=50_000.0, limit=10, available_only=True)


class World:
    """Two sites near Boston in the database, a catalog of them, and a service using it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.clock = FakeClock(AT)
        self.bus = InProcessBus()
        self.sync = CatalogSync(
            SiteCatalog(), SqlSiteVersions(engine), self.uow, self.clock, self.bus
        )
        for event in CATALOG_EVENTS:
            self.bus.subscribe(event, self.sync.on_event)
        self.stations = StationService(self.uow, self.bus, self.sync.catalog, self.clock)

    def uow(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.clock, read_only=read_only)

    async def start(self) -> None:
        await self.stations.import_sites(
            [plan(1, 42.0, -71.0), plan(2, 42.01, -71.0)], source="test"
        )
        await self.sync.reconcile()

    async def set_status(self, station_id: str, status: ConnectorStatus) -> None:
        async with self.uow() as uow:
            await uow.stations.set_online(station_id, self.clock.now())
            await uow.stations.set_status(station_id, 1, 1, status, None, self.clock.now())
            await uow.commit()

    async def in_memory(self, query: NearbyQuery) -> list[NearbySite]:
        assert self.sync.catalog.fresh(self.clock.monotonic())
        return self.sync.catalog.nearby(query)


def ids(found: list[NearbySite]) -> list[str]:
    return [item.site.details.source_id for item in found]


async def test_the_catalog_answers_what_the_database_answers(engine: AsyncEngine) -> None:
    world = World(engine)
    await world.start()
    await world.set_status("T-2", ConnectorStatus.AVAILABLE)
    await world.sync.reconcile()

    for query in (EVERYWHERE, AVAILABLE):
        assert await world.in_memory(query) == await world.stations.nearby_in_storage(query)
    assert ids(await world.stations.nearby(AVAILABLE)) == ["T-2"]


async def test_a_status_change_this_node_publishes_shows_before_its_handler_returns(
    engine: AsyncEngine,
) -> None:
    world = World(engine)
    await world.start()
    await world.set_status("T-1", ConnectorStatus.AVAILABLE)
    assert ids(await world.in_memory(AVAILABLE)) == []  # no event yet, no reconciliation

    await world.bus.publish(
        ConnectorStatusChanged(
            "T-1", 1, 1, ConnectorStatus.AVAILABLE, ConnectorStatus.UNKNOWN, None, AT
        )
    )

    assert ids(await world.in_memory(AVAILABLE)) == ["T-1"]
    assert not world.bus.failures


async def test_changes_no_event_of_this_node_tells_show_after_the_next_reconciliation(
    engine: AsyncEngine,
) -> None:
    world = World(engine)
    await world.start()
    # Another node: a status, a heartbeat's last_seen, a station registered for a site.
    site_one = (await world.in_memory(EVERYWHERE))[0].site.id
    await world.set_status("T-2", ConnectorStatus.AVAILABLE)
    async with world.uow() as uow:
        await uow.stations.touch("T-1", AT + timedelta(seconds=5))
        await uow.stations.add("NEW-1", site_one, "hash")
        await uow.commit()
    before = await world.in_memory(EVERYWHERE)

    read = await world.sync.reconcile()

    after = await world.in_memory(EVERYWHERE)
    assert read == 2  # only the two sites that changed
    assert after == await world.stations.nearby_in_storage(EVERYWHERE) != before
    first = next(item.site for item in after if item.site.details.source_id == "T-1")
    assert {station.id for station in first.stations} == {"T-1", "NEW-1"}
    assert ids(await world.in_memory(AVAILABLE)) == ["T-2"]


async def test_imports_that_add_and_move_sites_show_after_the_next_reconciliation(
    engine: AsyncEngine,
) -> None:
    world = World(engine)
    await world.start()
    world.clock.advance(1.0)
    other = StationService(world.uow, InProcessBus())  # another process imports
    await other.import_sites([plan(2, 42.2, -71.0), plan(3, 42.001, -71.0)], source="test")

    await world.sync.reconcile()

    assert ids(await world.in_memory(EVERYWHERE)) == ["T-1", "T-3", "T-2"]
    assert await world.in_memory(EVERYWHERE) == await world.stations.nearby_in_storage(EVERYWHERE)


async def test_a_site_gone_from_the_database_leaves_the_catalog(engine: AsyncEngine) -> None:
    world = World(engine)
    await world.start()
    async with engine.begin() as connection:
        await connection.execute(sa.delete(sites).where(sites.c.source_id == "T-2"))

    await world.sync.reconcile()

    assert ids(await world.in_memory(EVERYWHERE)) == ["T-1"]


async def test_a_catalog_not_reconciled_for_over_a_second_sends_searches_to_the_database(
    engine: AsyncEngine,
) -> None:
    world = World(engine)
    await world.start()
    await world.set_status("T-1", ConnectorStatus.AVAILABLE)  # no event: memory lags
    assert ids(await world.stations.nearby(AVAILABLE)) == []

    world.clock.advance(1.01)  # the sync did not run: storage away, or the loop stuck

    assert not world.sync.catalog.fresh(world.clock.monotonic())
    assert ids(await world.stations.nearby(AVAILABLE)) == ["T-1"]  # the database's answer


async def test_rows_the_server_stamps_show_after_the_next_look_which_reads_only_them(
    engine: AsyncEngine,
) -> None:
    world = World(engine)
    await world.start()
    world.clock.advance(0.5)
    site_one = (await world.in_memory(EVERYWHERE))[0].site.id
    async with world.uow() as uow:  # another process: a heartbeat, a station registered
        await uow.stations.touch("T-1", world.clock.now())
        await uow.stations.add("NEW-1", site_one, "hash")
        await uow.commit()

    read = await world.sync.look()

    assert read == 1
    assert await world.in_memory(EVERYWHERE) == await world.stations.nearby_in_storage(EVERYWHERE)
    assert await world.sync.look() == 0  # nothing new since


async def test_a_status_change_on_another_node_shows_when_its_sites_changed_arrives(
    engine: AsyncEngine,
) -> None:
    here, there = World(engine), World(engine)
    await here.start()
    await there.sync.reconcile()
    sent: list[Event] = []

    async def over_redis(event: Event) -> None:
        sent.append(event)

    here.bus.subscribe(SitesChanged, over_redis)
    await here.set_status("T-2", ConnectorStatus.AVAILABLE)
    await here.bus.publish(
        ConnectorStatusChanged(
            "T-2", 1, 1, ConnectorStatus.AVAILABLE, ConnectorStatus.UNKNOWN, None, AT
        )
    )
    assert ids(await there.in_memory(AVAILABLE)) == []

    for event in sent:  # what the Redis bus delivers to the other node
        await there.bus.publish(event)

    assert ids(await there.in_memory(AVAILABLE)) == ["T-2"]
    assert not here.bus.failures
    assert not there.bus.failures


async def test_looking_for_changes_never_waits_for_a_writer(engine: AsyncEngine) -> None:
    world = World(engine)
    await world.start()
    world.clock.advance(0.5)
    async with world.uow() as writer:  # on SQLite this holds the write lock
        await writer.stations.touch("T-1", world.clock.now())

        await asyncio.wait_for(world.sync.look(), 5)
        await asyncio.wait_for(world.sync.reconcile(), 5)


async def test_a_station_made_for_a_site_since_the_last_reading_shows_at_its_first_event(
    engine: AsyncEngine,
) -> None:
    world = World(engine)
    await world.start()
    site_id = world.sync.catalog.site_of_station("T-1")
    async with world.uow() as uow:  # registered with a site after the catalog's reading
        await uow.stations.add("NEW-AT-1", site_id, "hmac-sha256$unused")
        await uow.commit()
    await world.set_status("NEW-AT-1", ConnectorStatus.AVAILABLE)
    await world.bus.publish(
        ConnectorStatusChanged(
            "NEW-AT-1", 1, 1, ConnectorStatus.AVAILABLE, ConnectorStatus.UNKNOWN, None, AT
        )
    )
    assert world.sync.catalog.site_of_station("NEW-AT-1") == site_id
    assert await world.in_memory(AVAILABLE) == await world.stations.nearby_in_storage(AVAILABLE)


class CountingWorld(World):
    """The world, counting the units of work its catalog and services open."""

    opened = 0

    def uow(self, *, read_only: bool = False) -> SqlUnitOfWork:
        self.opened += 1
        return super().uow(read_only=read_only)


async def test_events_of_a_station_of_no_site_cost_one_read_and_never_a_full_comparison(
    engine: AsyncEngine,
) -> None:
    world = CountingWorld(engine)
    await world.start()
    async with world.uow() as uow:
        await uow.stations.add("NO-SITE-1", None, "hmac-sha256$unused")
        await uow.commit()
    before = world.opened
    for status in (ConnectorStatus.AVAILABLE, ConnectorStatus.CHARGING) * 3:
        await world.bus.publish(ConnectorStatusChanged("NO-SITE-1", 1, 1, status, None, None, AT))
    assert world.opened - before == 1  # the station's site, asked once
    assert not world.sync.comparison_due  # no comparison of everything asked for
    assert not world.bus.failures
