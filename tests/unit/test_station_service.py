"""Use cases of the stations area on in-memory fakes (stations/service.py)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from tests.unit import builders
from tests.unit.fakes import EventRecorder, InMemoryStationsStore
from voltbook.core.errors import NotFound
from voltbook.core.geo import EARTH_RADIUS_M
from voltbook.stations.events import SitesImported
from voltbook.stations.model import ConnectorStatus, NearbyQuery, PowerType
from voltbook.stations.ports import SitePlan
from voltbook.stations.service import IMPORT_BATCH, ImportReport, StationService
from voltbook.stations.standards import Standard

CENTRE = (42.0, -71.0)


def north(metres: float) -> tuple[float, float]:
    return CENTRE[0] + math.degrees(metres / EARTH_RADIUS_M), CENTRE[1]


def nearby(
    radius_m: float = 10_000.0,
    limit: int = 10,
    *,
    standards: frozenset[Standard] = frozenset(),
    min_power_kw: float | None = None,
    power_type: PowerType | None = None,
    available_only: bool = False,
) -> NearbyQuery:
    return NearbyQuery(
        CENTRE[0],
        CENTRE[1],
        radius_m,
        limit,
        standards=standards,
        min_power_kw=min_power_kw,
        power_type=power_type,
        available_only=available_only,
    )


def many_plans(count: int, *, prefix: str = "P") -> list[SitePlan]:
    return [
        builders.plan(f"{prefix}-{n}", lat=40.0 + n * 1e-4, lon=-74.0) for n in range(1, count + 1)
    ]


# --- nearby -------------------------------------------------------------------------------


async def test_nearby_lists_sites_within_the_radius_nearest_first(
    stations: StationService, stations_store: InMemoryStationsStore
) -> None:
    for site_id, metres in [(1, 3_000.0), (2, 500.0), (3, 20_000.0), (4, 1_500.0)]:
        stations_store.put(builders.site(site_id, lat=north(metres)[0], lon=CENTRE[1]))
    found = await stations.nearby(nearby(radius_m=10_000.0))
    assert [n.site.id for n in found] == [2, 4, 1]
    assert [round(n.distance_m) for n in found] == [500, 1_500, 3_000]


async def test_nearby_returns_at_most_limit_sites(
    stations: StationService, stations_store: InMemoryStationsStore
) -> None:
    for site_id in range(1, 31):
        stations_store.put(builders.site(site_id, lat=north(100.0 * site_id)[0], lon=CENTRE[1]))
    found = await stations.nearby(nearby(limit=7))
    assert [n.site.id for n in found] == [1, 2, 3, 4, 5, 6, 7]


async def test_nearby_breaks_distance_ties_by_site_id(
    stations: StationService, stations_store: InMemoryStationsStore
) -> None:
    for site_id in (8, 2, 5):
        stations_store.put(builders.site(site_id, lat=north(700.0)[0], lon=CENTRE[1]))
    found = await stations.nearby(nearby())
    assert [n.site.id for n in found] == [2, 5, 8]


async def test_nearby_returns_whole_sites_with_their_connectors(
    stations: StationService, stations_store: InMemoryStationsStore
) -> None:
    seeded = stations_store.put(
        builders.site(1, lat=CENTRE[0], lon=CENTRE[1], connectors=(builders.connector(),))
    )
    (found,) = await stations.nearby(nearby())
    assert found.site == seeded
    assert found.distance_m == 0.0


async def test_nearby_keeps_only_sites_with_a_connector_of_a_wanted_standard(
    stations: StationService, stations_store: InMemoryStationsStore
) -> None:
    j1772 = builders.connector(standard=Standard.IEC_62196_T1)
    ccs = builders.connector(
        standard=Standard.IEC_62196_T1_COMBO, power_type=PowerType.DC, max_power_kw=150.0
    )
    stations_store.put(builders.site(1, lat=north(100.0)[0], lon=CENTRE[1], connectors=(j1772,)))
    stations_store.put(
        builders.site(2, lat=north(200.0)[0], lon=CENTRE[1], connectors=(j1772, ccs))
    )
    stations_store.put(builders.site(3, lat=north(300.0)[0], lon=CENTRE[1], connectors=(ccs,)))
    found = await stations.nearby(nearby(standards=frozenset({Standard.IEC_62196_T1_COMBO})))
    assert [n.site.id for n in found] == [2, 3]


async def test_nearby_with_a_minimum_power_skips_slow_and_unknown_power_sites(
    stations: StationService, stations_store: InMemoryStationsStore
) -> None:
    slow = builders.connector(max_power_kw=7.2)
    unknown = builders.connector(max_power_kw=None)
    fast = builders.connector(
        standard=Standard.IEC_62196_T1_COMBO, power_type=PowerType.DC, max_power_kw=150.0
    )
    for site_id, plug in [(1, slow), (2, unknown), (3, fast)]:
        stations_store.put(
            builders.site(site_id, lat=north(100.0 * site_id)[0], lon=CENTRE[1], connectors=(plug,))
        )
    found = await stations.nearby(nearby(min_power_kw=50.0))
    assert [n.site.id for n in found] == [3]
    dc = await stations.nearby(nearby(power_type=PowerType.DC))
    assert [n.site.id for n in dc] == [3]


async def test_nearby_available_only_needs_an_online_station_with_a_free_connector(
    stations: StationService, stations_store: InMemoryStationsStore
) -> None:
    free = builders.connector(status=ConnectorStatus.AVAILABLE)
    busy = builders.connector(status=ConnectorStatus.CHARGING)
    layouts = [(1, (free,), False), (2, (busy,), True), (3, (busy, free), True), (4, (), True)]
    for site_id, plugs, online in layouts:
        stations_store.put(
            builders.site(
                site_id,
                lat=north(100.0 * site_id)[0],
                lon=CENTRE[1],
                connectors=plugs,
                online=online,
            )
        )
    found = await stations.nearby(nearby(available_only=True))
    assert [n.site.id for n in found] == [3]


async def test_nearby_with_nothing_around_is_empty(
    stations: StationService, stations_store: InMemoryStationsStore
) -> None:
    stations_store.put(builders.site(1, lat=-33.9, lon=151.2))  # Sydney
    assert await stations.nearby(nearby(radius_m=50_000.0)) == []


async def test_nearby_reads_in_a_read_only_unit_of_work_and_writes_nothing(
    stations: StationService, stations_store: InMemoryStationsStore
) -> None:
    stations_store.put(builders.site(1, lat=CENTRE[0], lon=CENTRE[1]))
    await stations.nearby(nearby())
    assert stations_store.read_only_flags == [True]
    assert stations_store.commits == 0


async def test_nearby_leaves_out_a_site_deleted_while_it_was_searching(
    stations: StationService, stations_store: InMemoryStationsStore
) -> None:
    for site_id in (1, 2, 3):
        stations_store.put(builders.site(site_id, lat=north(100.0 * site_id)[0], lon=CENTRE[1]))
    stations_store.after_candidates = lambda: stations_store.delete(2)
    found = await stations.nearby(nearby())
    assert [n.site.id for n in found] == [1, 3]


# --- get_site -----------------------------------------------------------------------------


async def test_get_site_returns_the_site(
    stations: StationService, stations_store: InMemoryStationsStore
) -> None:
    seeded = stations_store.put(builders.site(42, connectors=(builders.connector(),)))
    assert await stations.get_site(42) == seeded
    assert stations_store.read_only_flags == [True]


async def test_get_site_for_an_unknown_id_is_not_found(stations: StationService) -> None:
    with pytest.raises(NotFound, match="site 404 does not exist"):
        await stations.get_site(404)


# --- import_sites -------------------------------------------------------------------------


async def test_importing_new_sites_creates_them(
    stations: StationService, stations_store: InMemoryStationsStore
) -> None:
    report = await stations.import_sites(many_plans(3), source="test")
    assert report == ImportReport(created=3, updated=0, skipped=0)
    assert len(stations_store.sites) == 3
    assert {s.details.source_id for s in stations_store.sites.values()} == {"P-1", "P-2", "P-3"}


async def test_imported_sites_get_a_station_with_the_planned_connectors(
    stations: StationService,
) -> None:
    plan = builders.plan(
        "AFDC-7",
        standards=(Standard.IEC_62196_T1_COMBO, Standard.CHADEMO),
        max_power_kw=62.5,
    )
    await stations.import_sites([plan], source="test")
    (found,) = await stations.nearby(
        NearbyQuery(plan.details.lat, plan.details.lon, 10.0, 1, power_type=PowerType.DC)
    )
    (station,) = found.site.stations
    assert station.id == "AFDC-7"
    assert [(c.standard, c.max_power_kw, c.status) for c in station.connectors] == [
        (Standard.IEC_62196_T1_COMBO, 62.5, ConnectorStatus.UNKNOWN),
        (Standard.CHADEMO, 62.5, ConnectorStatus.UNKNOWN),
    ]


async def test_reimporting_updates_sites_without_duplicating_them(
    stations: StationService, stations_store: InMemoryStationsStore
) -> None:
    await stations.import_sites(many_plans(4), source="test")
    ids_before = dict(stations_store.keys)
    renamed = [builders.plan("P-2", name="Renamed Garage"), *many_plans(5)[4:]]
    report = await stations.import_sites(renamed, source="test")
    assert report == ImportReport(created=1, updated=1, skipped=0)
    assert len(stations_store.sites) == 5
    assert {k: v for k, v in stations_store.keys.items() if k in ids_before} == ids_before
    site_id = stations_store.keys[("test", "P-2")]
    assert (await stations.get_site(site_id)).details.name == "Renamed Garage"


async def test_the_same_source_id_from_another_source_is_another_site(
    stations: StationService, stations_store: InMemoryStationsStore
) -> None:
    await stations.import_sites([builders.plan("X-1", source="afdc")], source="afdc")
    report = await stations.import_sites([builders.plan("X-1", source="ocm")], source="ocm")
    assert report.created == 1
    assert len(stations_store.sites) == 2


async def test_importing_publishes_what_happened(
    stations: StationService, events: EventRecorder
) -> None:
    await stations.import_sites(many_plans(2), source="afdc", skipped=3)
    await stations.import_sites(many_plans(3), source="afdc")
    assert events.of_type(SitesImported) == [
        SitesImported(source="afdc", created=2, updated=0, skipped=3),
        SitesImported(source="afdc", created=1, updated=2, skipped=0),
    ]


async def test_import_passes_skipped_rows_through_to_the_report(stations: StationService) -> None:
    report = await stations.import_sites(many_plans(1), source="afdc", skipped=17)
    assert report.skipped == 17


async def test_importing_more_than_a_batch_commits_each_batch_and_reports_progress(
    stations: StationService, stations_store: InMemoryStationsStore
) -> None:
    total = 2 * IMPORT_BATCH + 1
    progress: list[int] = []
    report = await stations.import_sites(many_plans(total), source="test", progress=progress.append)
    assert report == ImportReport(created=total, updated=0, skipped=0)
    assert progress == [IMPORT_BATCH, IMPORT_BATCH, 1]
    assert stations_store.commits == 3
    assert stations_store.read_only_flags == [False, False, False]
    assert len(stations_store.sites) == total


async def test_an_import_of_exactly_one_batch_is_one_transaction(
    stations: StationService, stations_store: InMemoryStationsStore
) -> None:
    progress: list[int] = []
    await stations.import_sites(many_plans(IMPORT_BATCH), source="test", progress=progress.append)
    assert progress == [IMPORT_BATCH]
    assert stations_store.commits == 1


async def test_importing_nothing_opens_no_transaction_but_still_reports(
    stations: StationService, stations_store: InMemoryStationsStore, events: EventRecorder
) -> None:
    report = await stations.import_sites([], source="test", skipped=2)
    assert report == ImportReport(0, 0, 2)
    assert stations_store.read_only_flags == []
    assert events.of_type(SitesImported) == [SitesImported("test", 0, 0, 2)]


async def test_batches_committed_before_a_failure_stay_imported(
    stations: StationService, stations_store: InMemoryStationsStore, events: EventRecorder
) -> None:
    class SourceBroke(RuntimeError):
        pass

    def plans_then_failure() -> Iterator[SitePlan]:
        yield from many_plans(IMPORT_BATCH + 10)
        raise SourceBroke("the file was truncated")

    with pytest.raises(SourceBroke):
        await stations.import_sites(plans_then_failure(), source="test")
    assert len(stations_store.sites) == IMPORT_BATCH  # the first batch only
    assert events.of_type(SitesImported) == []


async def test_imported_sites_are_found_nearby(stations: StationService) -> None:
    plans = [
        builders.plan("FAR", lat=north(4_000.0)[0], lon=CENTRE[1]),
        builders.plan("NEAR", lat=north(1_000.0)[0], lon=CENTRE[1]),
        builders.plan("OUT", lat=north(40_000.0)[0], lon=CENTRE[1]),
    ]
    await stations.import_sites(plans, source="test")
    found = await stations.nearby(nearby(radius_m=5_000.0))
    assert [n.site.details.source_id for n in found] == ["NEAR", "FAR"]
