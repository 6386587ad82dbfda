"""What every SiteRepository does, the fake's as well as SQL's."""

from __future__ import annotations

from tests.unit import builders
from voltbook.core.geo import great_circle_m
from voltbook.stations.model import NearbyQuery, PowerType
from voltbook.stations.ports import StationsUowFactory
from voltbook.stations.standards import Standard

CENTRE = (42.3555, -71.0605)


def north(metres: float) -> float:
    """The latitude `metres` north of the centre."""
    return CENTRE[0] + metres / 111_195.0


def around(radius_m: float = 5_000.0, **filters: object) -> NearbyQuery:
    return NearbyQuery(CENTRE[0], CENTRE[1], radius_m, 50, **filters)  # type: ignore[arg-type]


async def ids_by_source(uow: StationsUowFactory) -> dict[str, int]:
    async with uow(read_only=True) as reading:
        points = await reading.sites.nearest_candidates(around())
        found = await reading.sites.get_many([p.site_id for p in points])
    return {site.details.source_id: site.id for site in found.values()}


async def test_upsert_creates_then_updates_keeping_the_ids(
    stations_uow: StationsUowFactory,
) -> None:
    async with stations_uow() as uow:
        first = await uow.sites.upsert_imported([builders.plan("A"), builders.plan("B")])
        await uow.commit()
    ids = await ids_by_source(stations_uow)
    async with stations_uow() as uow:
        second = await uow.sites.upsert_imported(
            [builders.plan("B", name="new"), builders.plan("C")]
        )
        await uow.commit()
    assert (first.created, first.updated) == (2, 0)
    assert (second.created, second.updated) == (1, 1)
    now = await ids_by_source(stations_uow)
    assert {key: now[key] for key in ids} == ids
    assert len(set(now.values())) == 3
    async with stations_uow(read_only=True) as uow:
        assert (await uow.sites.get_many([ids["B"]]))[ids["B"]].details.name == "new"
        assert await uow.sites.count() == 3


async def test_one_key_twice_in_a_batch_makes_one_site_with_the_last_plan(
    stations_uow: StationsUowFactory,
) -> None:
    async with stations_uow() as uow:
        counts = await uow.sites.upsert_imported(
            [builders.plan("A"), builders.plan("A", name="second")]
        )
        await uow.commit()
    assert (counts.created, counts.updated) == (1, 0)
    async with stations_uow(read_only=True) as uow:
        assert await uow.sites.count() == 1
    ids = await ids_by_source(stations_uow)
    async with stations_uow(read_only=True) as uow:
        assert (await uow.sites.get_many([ids["A"]]))[ids["A"]].details.name == "second"


async def test_writes_are_seen_by_their_own_unit_of_work_and_dropped_without_commit(
    stations_uow: StationsUowFactory,
) -> None:
    async with stations_uow() as uow:
        await uow.sites.upsert_imported([builders.plan("A")])
        assert await uow.sites.count() == 1
    async with stations_uow(read_only=True) as uow:
        assert await uow.sites.count() == 0


async def test_get_many_leaves_out_unknown_ids(stations_uow: StationsUowFactory) -> None:
    async with stations_uow() as uow:
        await uow.sites.upsert_imported([builders.plan("A")])
        await uow.commit()
    (site_id,) = (await ids_by_source(stations_uow)).values()
    async with stations_uow(read_only=True) as uow:
        assert list(await uow.sites.get_many([site_id, site_id + 1000])) == [site_id]


async def test_a_site_reads_back_as_it_was_planned(stations_uow: StationsUowFactory) -> None:
    plan = builders.plan("A", standards=(Standard.IEC_62196_T2, Standard.CHADEMO))
    async with stations_uow() as uow:
        await uow.sites.upsert_imported([plan])
        await uow.commit()
    (site_id,) = (await ids_by_source(stations_uow)).values()
    async with stations_uow(read_only=True) as uow:
        site = (await uow.sites.get_many([site_id]))[site_id]
    assert site.details == plan.details
    (station,) = site.stations
    assert station.id == "A"
    assert [(c.evse_id, c.connector_id, c.standard, c.power_type) for c in station.connectors] == [
        (c.evse_id, c.connector_id, c.standard, c.power_type) for c in plan.connectors
    ]


async def test_nearby_ranks_by_distance_within_the_radius(stations_uow: StationsUowFactory) -> None:
    plans = [
        builders.plan("FAR", lat=north(3_000), lon=CENTRE[1]),
        builders.plan("NEAR", lat=north(200), lon=CENTRE[1]),
        builders.plan("OUT", lat=north(9_000), lon=CENTRE[1]),
        builders.plan("MID", lat=north(1_000), lon=CENTRE[1]),
    ]
    async with stations_uow() as uow:
        await uow.sites.upsert_imported(plans)
        await uow.commit()
    async with stations_uow(read_only=True) as uow:
        found = await uow.sites.nearby(around(5_000.0))
    assert [n.site.details.source_id for n in found] == ["NEAR", "MID", "FAR"]
    for near in found:
        expected = great_circle_m(
            CENTRE[0], CENTRE[1], near.site.details.lat, near.site.details.lon
        )
        assert abs(near.distance_m - expected) < 5.0


async def test_nearby_applies_the_connector_filters(stations_uow: StationsUowFactory) -> None:
    async with stations_uow() as uow:
        await uow.sites.upsert_imported(
            [
                builders.plan("AC", lat=north(100), lon=CENTRE[1]),
                builders.plan("DC", lat=north(200), lon=CENTRE[1], standards=(Standard.CHADEMO,)),
            ]
        )
        await uow.commit()
    async with stations_uow(read_only=True) as uow:
        only_dc = await uow.sites.nearby(around(power_type=PowerType.DC))
        chademo = await uow.sites.nearby(around(standards=frozenset({Standard.CHADEMO})))
    assert [n.site.details.source_id for n in only_dc] == ["DC"]
    assert [n.site.details.source_id for n in chademo] == ["DC"]
