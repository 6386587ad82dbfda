"""Nearby search on both databases equals a brute-force great-circle ordering."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import wipe
from voltbook.core.bus import InProcessBus
from voltbook.core.clock import SystemClock
from voltbook.core.geo import great_circle_m
from voltbook.stations.catalog import SiteCatalog
from voltbook.stations.catalog_sync import CatalogSync
from voltbook.stations.model import (
    MAX_RADIUS_M,
    ConnectorStatus,
    NearbyQuery,
    NearbySite,
    PowerType,
    SiteDetails,
)
from voltbook.stations.ports import ConnectorPlan, SitePlan, StationsUowFactory
from voltbook.stations.service import StationService
from voltbook.stations.standards import Standard
from voltbook.storage import site_search as sites_storage
from voltbook.storage.database import create_reader
from voltbook.storage.site_versions import SqlSiteVersions
from voltbook.storage.tables import connectors, sites
from voltbook.storage.tables import stations as stations_table
from voltbook.storage.unit_of_work import SqlUnitOfWork

R = 6_371_008.771415059


def reference_distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Vincenty's formula on the sphere: an independent check of the haversine in core.geo."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.hypot(
        math.cos(p2) * math.sin(dl),
        math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl),
    )
    x = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return R * math.atan2(y, x)


def plan(
    number: int, lat: float, lon: float, standard: Standard = Standard.IEC_62196_T1
) -> SitePlan:
    power = PowerType.DC if standard is Standard.IEC_62196_T1_COMBO else PowerType.AC
    kw = 150.0 if power is PowerType.DC else 7.2
    return SitePlan(
        details=SiteDetails(
            source="test",
            source_id=f"T-{number}",
            name=f"site {number}",
            address="",
            city="",
            region="",
            postal_code="",
            country="US",
            lat=lat,
            lon=lon,
            operator=None,
            access="public",
            opening_hours=None,
        ),
        station_id=f"T-{number}",
        connectors=(ConnectorPlan(1, 1, standard, power, kw),),
    )


def service(engine: AsyncEngine, searched: str = "sql") -> StationService:
    """The stations service; `searched="memory"`: one whose searches are answered from the
    in-memory site catalog (docs/adr/0022), brought up to date before each search."""
    clock = SystemClock()

    def uow(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock, read_only=read_only)

    if searched == "sql":
        return StationService(uow, InProcessBus())
    sync = CatalogSync(SiteCatalog(), SqlSiteVersions(engine), uow, clock)
    return MemoryStations(uow, sync, clock)


class MemoryStations(StationService):
    def __init__(self, uow: StationsUowFactory, sync: CatalogSync, clock: SystemClock) -> None:
        super().__init__(uow, InProcessBus(), sync.catalog, clock)
        self.sync = sync
        self.clock = clock

    async def nearby(self, query: NearbyQuery) -> list[NearbySite]:
        await self.sync.reconcile()
        assert self.sync.catalog.fresh(self.clock.monotonic())  # so the memory answers
        return await super().nearby(query)


@pytest.fixture(params=["sql", "memory"])
def searched(request: pytest.FixtureRequest) -> str:
    """Where a search is answered: the database (ADR 0001) or the site catalog (ADR 0022)."""
    return str(request.param)


latitudes = st.one_of(
    st.floats(-90, 90),
    st.floats(88, 90),
    st.floats(-90, -88),
    st.sampled_from([-90.0, 0.0, 90.0, 42.3555]),
)
longitudes = st.one_of(
    st.floats(-180, 180),
    st.floats(179, 180),
    st.floats(-180, -179),
    st.sampled_from([-180.0, 180.0, 0.0, -71.0605]),
)
points = st.tuples(latitudes, longitudes)
# Clusters around the query point (dense city), duplicates (two rows at one spot), and far points.
point_sets = st.lists(points, min_size=0, max_size=40)
radii = st.one_of(
    st.just(0.0),
    st.floats(0, 5_000),
    st.floats(0, 2_000_000),
    st.just(20_000_000.0),
    st.just(MAX_RADIUS_M),
)
limits = st.one_of(st.integers(1, 12), st.just(100))


def near(
    center: tuple[float, float], draw_offsets: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    lat, lon = center
    out = []
    for dlat, dlon in draw_offsets:
        new_lat = max(-90.0, min(90.0, lat + dlat))
        new_lon = ((lon + dlon + 180.0) % 360.0) - 180.0
        out.append((new_lat, new_lon))
    return out


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    center=points,
    far=point_sets,
    offsets=st.lists(st.tuples(st.floats(-0.05, 0.05), st.floats(-0.05, 0.05)), max_size=30),
    duplicates=st.integers(0, 3),
    radius=radii,
    limit=limits,
)
async def test_nearby_equals_brute_force_great_circle_order(
    engine: AsyncEngine,
    searched: str,
    center: tuple[float, float],
    far: list[tuple[float, float]],
    offsets: list[tuple[float, float]],
    duplicates: int,
    radius: float,
    limit: int,
) -> None:
    await wipe(engine)
    positions = far + near(center, offsets)
    positions += positions[:duplicates]  # same spot, another site: ties broken by id
    stations = service(engine, searched)
    await stations.import_sites(
        [plan(n, lat, lon) for n, (lat, lon) in enumerate(positions)], source="test"
    )
    query = NearbyQuery(lat=center[0], lon=center[1], radius_m=radius, limit=limit)

    found = await stations.nearby(query)

    sites = await stations.nearby(
        NearbyQuery(lat=center[0], lon=center[1], radius_m=MAX_RADIUS_M, limit=100)
    )
    everything = {s.site.id: (s.site.details.lat, s.site.details.lon) for s in sites}
    assert len(everything) == len(positions)
    brute = sorted(
        (great_circle_m(query.lat, query.lon, lat, lon), site_id)
        for site_id, (lat, lon) in everything.items()
        if great_circle_m(query.lat, query.lon, lat, lon) <= radius
    )[:limit]
    assert [item.site.id for item in found] == [site_id for _, site_id in brute]
    for item in found:
        lat, lon = everything[item.site.id]
        assert abs(item.distance_m - reference_distance_m(query.lat, query.lon, lat, lon)) < 0.1


async def test_limit_at_its_maximum_returns_the_hundred_nearest(
    engine: AsyncEngine,
    searched: str,
) -> None:
    stations = service(engine, searched)
    grid = [(42.0 + i * 0.01, -71.0 + j * 0.01) for i in range(15) for j in range(15)]
    await stations.import_sites(
        [plan(n, lat, lon) for n, (lat, lon) in enumerate(grid)], source="test"
    )
    found = await stations.nearby(NearbyQuery(42.07, -70.93, radius_m=MAX_RADIUS_M, limit=100))
    distances = [item.distance_m for item in found]
    assert len(found) == 100
    assert distances == sorted(distances)
    cutoff = distances[-1]
    outside = sorted(great_circle_m(42.07, -70.93, lat, lon) for lat, lon in grid)[100:]
    assert all(d >= cutoff for d in outside)


async def test_connector_filter_finds_the_nearest_matching_site_beyond_others(
    engine: AsyncEngine,
    searched: str,
) -> None:
    stations = service(engine, searched)
    await stations.import_sites(
        [
            plan(1, 42.3556, -71.0606),  # J1772 next door
            plan(2, 42.3600, -71.0600, Standard.IEC_62196_T1_COMBO),  # CCS1, 500 m away
            plan(3, 42.4000, -71.0600, Standard.IEC_62196_T1_COMBO),  # CCS1, 5 km away
        ],
        source="test",
    )
    query = NearbyQuery(
        42.3555, -71.0605, radius_m=10_000, limit=1,
        standards=frozenset({Standard.IEC_62196_T1_COMBO}),
    )  # fmt: skip
    found = await stations.nearby(query)
    assert [item.site.details.source_id for item in found] == ["T-2"]
    fast = await stations.nearby(
        NearbyQuery(42.3555, -71.0605, radius_m=10_000, limit=5, min_power_kw=50)
    )
    assert [item.site.details.source_id for item in fast] == ["T-2", "T-3"]
    available = await stations.nearby(
        NearbyQuery(42.3555, -71.0605, radius_m=10_000, limit=5, available_only=True)
    )
    assert available == []  # no station has reported: every connector is Unknown


async def test_sparse_area_far_from_everything_still_finds_the_nearest(
    engine: AsyncEngine,
    searched: str,
) -> None:
    stations = service(engine, searched)
    await stations.import_sites([plan(1, 43.9714, -74.4196), plan(2, -33.9, 151.2)], source="test")
    found = await stations.nearby(NearbyQuery(0.0, 0.0, radius_m=MAX_RADIUS_M, limit=1))
    assert [item.site.details.source_id for item in found] == ["T-1"]


async def test_a_site_a_hair_from_the_point_is_found_where_the_knn_index_fails(
    engine: AsyncEngine,
    searched: str,
) -> None:
    # PostGIS 3.3's KNN scan fails ("index returned tuples in wrong order") when a site lies
    # within a fraction of a millimetre of the point; the search then falls back to rings.
    stations = service(engine, searched)
    await stations.import_sites([plan(1, 0.0, 0.0), plan(2, 0.0, 0.001)], source="test")
    for lon in (1e-12, 1.175494351e-38):
        found = await stations.nearby(NearbyQuery(0.0, lon, radius_m=1.0, limit=1))
        assert [item.site.details.source_id for item in found] == ["T-1"]
        found = await stations.nearby(NearbyQuery(0.0, lon, radius_m=1_000.0, limit=2))
        assert [item.site.details.source_id for item in found] == ["T-1", "T-2"]
    async with SqlUnitOfWork(engine, SystemClock()) as uow:  # in a transaction
        candidates = await uow.sites.nearest_candidates(NearbyQuery(0.0, 1e-12, 1_000.0, 1))
        assert {point.site_id for point in candidates} >= {
            point.site_id
            for point in await uow.sites.nearest_candidates(NearbyQuery(0.0, 0.0, 0.0, 1))
        }
        assert await uow.sites.count() == 2  # the transaction is still usable


async def test_a_site_is_read_anew_as_soon_as_any_of_its_rows_changes(
    engine: AsyncEngine,
) -> None:
    # Sites read twice with unchanged rows are one object (storage keeps what it built);
    # any change to the site, its station or a connector gives a new one with the change.
    stations = service(engine)
    await stations.import_sites([plan(1, 42.0, -71.0), plan(2, 42.001, -71.0)], source="test")
    query = NearbyQuery(42.0, -71.0, radius_m=1_000.0, limit=2)

    before = {item.site.id: item.site for item in await stations.nearby(query)}
    again = {item.site.id: item.site for item in await stations.nearby(query)}
    assert all(again[i] is before[i] for i in before)

    async with engine.begin() as connection:
        await connection.execute(
            sa.update(connectors)
            .where(connectors.c.station_id == "T-1")
            .values(status=ConnectorStatus.CHARGING.value)
        )
        await connection.execute(sa.update(stations_table).values(online=True))
        await connection.execute(
            sa.update(sites).where(sites.c.source_id == "T-2").values(name="renamed")
        )
    after = {item.site.details.source_id: item.site for item in await stations.nearby(query)}

    [station] = after["T-1"].stations
    assert station.online
    assert station.connectors[0].status is ConnectorStatus.CHARGING
    assert after["T-2"].details.name == "renamed"
    assert after["T-2"].stations[0].online
    async with SqlUnitOfWork(engine, SystemClock(), read_only=True) as uow:
        assert await uow.sites.get_many([after["T-1"].id]) == {after["T-1"].id: after["T-1"]}


async def test_a_reader_engine_in_autocommit_finds_what_the_main_engine_finds(
    engine: AsyncEngine,
) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite reads on the main engine")
    reader = create_reader(engine.url.render_as_string(hide_password=False))
    assert reader is not None
    clock = SystemClock()

    def on_reader(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock, read_only=read_only, reader=reader)

    plain, read = service(engine), StationService(on_reader, InProcessBus())
    await plain.import_sites(
        [plan(n, 42.0 + n / 1000, -71.0 + n / 700, Standard.IEC_62196_T1_COMBO) for n in range(40)]
        + [plan(99, 0.0, 179.99)],
        source="test",
    )
    try:
        for query in (
            NearbyQuery(42.01, -70.99, radius_m=5_000.0, limit=10),
            NearbyQuery(42.01, -70.99, radius_m=50_000.0, limit=100),
            NearbyQuery(
                42.01, -70.99, 5_000.0, 3, standards=frozenset({Standard.IEC_62196_T1_COMBO})
            ),
            NearbyQuery(0.0, 179.999, radius_m=MAX_RADIUS_M, limit=2),  # rings, not KNN
        ):
            assert await read.nearby(query) == await plain.nearby(query)
        async with on_reader(read_only=True) as uow:
            assert await uow.sites.count() == 41
    finally:
        await reader.dispose()


async def test_sqlite_searches_run_one_at_a_time(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL searches run side by side")
    stations = service(engine)
    await stations.import_sites([plan(n, 42.0 + n / 1000, -71.0) for n in range(20)], source="test")
    running, most = 0, 0
    guard = threading.Lock()
    search = sites_storage._sqlite_search

    def watched(connection: Any, query: NearbyQuery) -> Any:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        time.sleep(0.005)  # long enough for the others to start, were they allowed to
        try:
            return search(connection, query)
        finally:
            with guard:
                running -= 1

    monkeypatch.setattr(sites_storage, "_sqlite_search", watched)
    answers = await asyncio.gather(
        *(stations.nearby(NearbyQuery(42.0, -71.0, 50_000.0, n)) for n in range(1, 9))
    )

    assert most == 1
    assert [len(found) for found in answers] == list(range(1, 9))
