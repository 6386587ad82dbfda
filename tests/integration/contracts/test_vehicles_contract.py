"""What every vehicle repository does, the fake's as well as SQL's."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from tests.integration.contracts.conftest import DRIVERS
from voltbook.drivers.ports import VehiclesUowFactory
from voltbook.drivers.vehicle_model import Vehicle

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
D1, D2 = DRIVERS


def vehicle(vehicle_id: str, driver_id: str = D1, *, minutes: int = 0) -> Vehicle:
    return Vehicle(
        vehicle_id, driver_id, f"Car {vehicle_id}", 64.0, ("IEC_62196_T2", "IEC_62196_T2_COMBO"),
        11.0, 150.0, WHEN + timedelta(minutes=minutes),
    )  # fmt: skip


async def given(uow: VehiclesUowFactory, *vehicles: Vehicle) -> None:
    async with uow() as writing:
        for one in vehicles:
            await writing.vehicles.add(one)
        await writing.commit()


async def test_a_vehicle_is_read_back_as_stored_and_listed_oldest_first(
    vehicles_uow: VehiclesUowFactory,
) -> None:
    await given(vehicles_uow, vehicle("V2", minutes=5), vehicle("V1"), vehicle("V3", D2))
    async with vehicles_uow(read_only=True) as uow:
        assert await uow.vehicles.get("V1") == vehicle("V1")
        assert await uow.vehicles.get("nope") is None
        assert [v.id for v in await uow.vehicles.of_driver(D1)] == ["V1", "V2"]
        assert [v.id for v in await uow.vehicles.of_driver("nobody")] == []


async def test_saving_a_description_keeps_the_last_report(
    vehicles_uow: VehiclesUowFactory,
) -> None:
    reported = dataclasses.replace(
        vehicle("V1"), soc_percent=55.0, range_km=210.0, reported_at=WHEN + timedelta(minutes=1)
    )
    await given(vehicles_uow, vehicle("V1"))
    async with vehicles_uow() as uow:
        assert await uow.vehicles.save_state(reported)
        renamed = dataclasses.replace(vehicle("V1"), name="Renamed", max_dc_kw=None)
        await uow.vehicles.save(renamed)
        await uow.commit()
    async with vehicles_uow(read_only=True) as uow:
        assert await uow.vehicles.get("V1") == dataclasses.replace(
            reported, name="Renamed", max_dc_kw=None
        )


async def test_a_report_older_than_the_stored_one_is_not_saved(
    vehicles_uow: VehiclesUowFactory,
) -> None:
    await given(vehicles_uow, vehicle("V1"))
    newer = dataclasses.replace(vehicle("V1"), soc_percent=80.0, reported_at=WHEN + timedelta(2))
    older = dataclasses.replace(vehicle("V1"), soc_percent=20.0, reported_at=WHEN + timedelta(1))
    async with vehicles_uow() as uow:
        assert await uow.vehicles.save_state(newer)
        assert not await uow.vehicles.save_state(older)
        assert not await uow.vehicles.save_state(newer)  # the same report again
        assert not await uow.vehicles.save_state(dataclasses.replace(newer, id="unknown"))
        await uow.commit()
    async with vehicles_uow(read_only=True) as uow:
        stored = await uow.vehicles.get("V1")
        assert stored is not None
        assert stored.soc_percent == 80.0


async def test_delete_says_whether_there_was_one(vehicles_uow: VehiclesUowFactory) -> None:
    await given(vehicles_uow, vehicle("V1"))
    async with vehicles_uow() as uow:
        assert await uow.vehicles.delete("V1")
        assert not await uow.vehicles.delete("V1")
        await uow.commit()
    async with vehicles_uow(read_only=True) as uow:
        assert await uow.vehicles.get("V1") is None


async def test_a_vehicle_added_without_commit_is_dropped(vehicles_uow: VehiclesUowFactory) -> None:
    async with vehicles_uow() as uow:
        await uow.vehicles.add(vehicle("V1"))
    async with vehicles_uow(read_only=True) as uow:
        assert await uow.vehicles.get("V1") is None
