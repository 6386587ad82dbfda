"""The fakes keep to the contracts of the ports they stand in for."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from tests.unit import builders
from tests.unit.account_fakes import InMemoryDriverRepository, InMemoryDriverStore
from tests.unit.fakes import (
    FakeClock,
    InMemorySiteRepository,
    InMemoryStationsStore,
    PlainHasher,
    SequentialIds,
)
from tests.unit.memory_uow import ReadOnlyViolation
from voltbook.core.errors import Conflict
from voltbook.drivers.model import Driver, Role
from voltbook.stations.model import NearbyQuery, PowerType
from voltbook.stations.standards import Standard

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def driver(driver_id: str = "d-1", email: str = "alice@example.com") -> Driver:
    return Driver(driver_id, email, "plain$x", Role.DRIVER, WHEN)


# --- clock, ids, hasher -------------------------------------------------------------------


def test_the_fake_clock_moves_only_when_advanced() -> None:
    clock = FakeClock(WHEN, monotonic_start=5.0)
    assert (clock.now(), clock.monotonic()) == (WHEN, 5.0)
    clock.advance(1.5)
    assert (clock.now(), clock.monotonic()) == (WHEN + timedelta(seconds=1.5), 6.5)


def test_the_fake_clock_wall_time_can_be_set_without_moving_the_monotonic_time() -> None:
    clock = FakeClock(WHEN, monotonic_start=5.0)
    clock.set_now(WHEN - timedelta(days=1))
    assert (clock.now(), clock.monotonic()) == (WHEN - timedelta(days=1), 5.0)


def test_the_fake_clock_refuses_naive_times_and_going_backwards() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeClock(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="backwards"):
        FakeClock().advance(-1)


def test_sequential_ids_are_unique_and_predictable() -> None:
    ids = SequentialIds("x")
    assert [ids.new_id() for _ in range(3)] == ["x-000001", "x-000002", "x-000003"]


def test_the_plain_hasher_never_stores_the_password_and_verifies_it() -> None:
    hasher = PlainHasher()
    stored = hasher.hash("secret password")
    assert "secret password" not in stored
    assert hasher.verify(stored, "secret password")
    assert not hasher.verify(stored, "other password")
    assert not hasher.verify("garbage", "secret password")


# --- stations -----------------------------------------------------------------------------


async def test_site_writes_are_invisible_until_committed() -> None:
    store = InMemoryStationsStore()
    async with store.uow() as writer:
        await writer.sites.upsert_imported([builders.plan("A")])
        assert await writer.sites.count() == 1  # a unit of work sees its own writes
        async with store.uow(read_only=True) as reader:
            assert await reader.sites.count() == 0
        await writer.commit()
    async with store.uow(read_only=True) as reader:
        assert await reader.sites.count() == 1


async def test_site_writes_without_commit_are_discarded() -> None:
    store = InMemoryStationsStore()
    async with store.uow() as uow:
        await uow.sites.upsert_imported([builders.plan("A")])
    assert store.sites == {}
    assert store.commits == 0


async def test_a_read_only_stations_unit_of_work_refuses_writes() -> None:
    store = InMemoryStationsStore()
    async with store.uow(read_only=True) as uow:
        with pytest.raises(ReadOnlyViolation):
            await uow.sites.upsert_imported([builders.plan("A")])


async def test_upsert_keeps_ids_stable_and_counts_created_and_updated() -> None:
    repository = InMemorySiteRepository()
    first = await repository.upsert_imported([builders.plan("A"), builders.plan("B")])
    ids = {s.details.source_id: s.id for s in (await repository.get_many([1, 2])).values()}
    second = await repository.upsert_imported([builders.plan("B", name="new"), builders.plan("C")])
    assert (first.created, first.updated) == (2, 0)
    assert (second.created, second.updated) == (1, 1)
    sites = await repository.get_many([1, 2, 3])
    assert {s.details.source_id: s.id for s in sites.values()} == ids | {"C": 3}
    assert sites[ids["B"]].details.name == "new"
    assert await repository.count() == 3


async def test_upsert_of_one_key_twice_in_a_batch_creates_one_site() -> None:
    repository = InMemorySiteRepository()
    counts = await repository.upsert_imported([builders.plan("A"), builders.plan("A", name="2")])
    assert (counts.created, counts.updated) == (1, 0)
    assert [s.details.name for s in (await repository.get_many([1])).values()] == ["2"]


async def test_reimport_leaves_the_connectors_of_a_station_that_spoke_ocpp() -> None:
    store = InMemoryStationsStore()
    seeded = builders.site(1, connectors=(builders.connector(standard=Standard.IEC_62196_T2),))
    (station,) = seeded.stations
    store.put(
        dataclasses.replace(
            seeded,
            details=builders.details("A"),
            stations=(dataclasses.replace(station, id="A", ocpp_version="1.6"),),
        )
    )
    repository = InMemorySiteRepository(store)
    await repository.upsert_imported([builders.plan("A", standards=(Standard.CHADEMO,))])
    (kept,) = (await repository.get_many([1]))[1].stations
    assert [c.standard for c in kept.connectors] == [Standard.IEC_62196_T2]


async def test_get_many_leaves_out_unknown_ids() -> None:
    store = InMemoryStationsStore()
    store.put(builders.site(7))
    assert list(await InMemorySiteRepository(store).get_many([7, 8])) == [7]


async def test_nearest_candidates_apply_the_connector_filters_but_not_the_radius() -> None:
    store = InMemoryStationsStore()
    dc = builders.connector(standard=Standard.CHADEMO, power_type=PowerType.DC, max_power_kw=50)
    store.put(builders.site(1, lat=0.0, lon=0.0, connectors=(builders.connector(),)))
    store.put(builders.site(2, lat=60.0, lon=60.0, connectors=(dc,)))
    store.put(builders.site(3, lat=0.0, lon=0.0))
    repository = InMemorySiteRepository(store)
    everything = await repository.nearest_candidates(NearbyQuery(0.0, 0.0, 10.0, 1))
    assert sorted(p.site_id for p in everything) == [1, 2, 3]
    only_dc = await repository.nearest_candidates(
        NearbyQuery(0.0, 0.0, 10.0, 1, power_type=PowerType.DC)
    )
    assert [p.site_id for p in only_dc] == [2]


# --- drivers ------------------------------------------------------------------------------


async def test_adding_a_driver_with_a_taken_email_is_a_conflict() -> None:
    repository = InMemoryDriverRepository()
    await repository.add(driver("d-1"))
    with pytest.raises(Conflict):
        await repository.add(driver("d-2"))


async def test_driver_writes_are_invisible_until_committed_and_dropped_without_commit() -> None:
    store = InMemoryDriverStore()
    async with store.uow() as uow:
        await uow.drivers.add(driver("d-1"))
        assert await uow.drivers.by_email("alice@example.com") == driver("d-1")
        assert store.drivers == {}
    assert store.drivers == {}
    async with store.uow() as uow:
        await uow.drivers.add(driver("d-1"))
        await uow.commit()
    async with store.uow(read_only=True) as uow:
        assert await uow.drivers.get("d-1") == driver("d-1")


async def test_a_committed_email_is_a_conflict_in_a_later_unit_of_work() -> None:
    store = InMemoryDriverStore()
    async with store.uow() as uow:
        await uow.drivers.add(driver("d-1"))
        await uow.commit()
    async with store.uow() as uow:
        with pytest.raises(Conflict):
            await uow.drivers.add(driver("d-2"))


async def test_two_units_of_work_racing_for_one_email_cannot_both_commit() -> None:
    store = InMemoryDriverStore()
    async with store.uow() as first, store.uow() as second:
        await first.drivers.add(driver("d-1"))
        await second.drivers.add(driver("d-2"))
        await first.commit()
        with pytest.raises(Conflict):
            await second.commit()
    assert list(store.drivers) == ["d-1"]


async def test_a_read_only_drivers_unit_of_work_refuses_writes() -> None:
    async with InMemoryDriverStore().uow(read_only=True) as uow:
        with pytest.raises(ReadOnlyViolation):
            await uow.drivers.add(driver())
