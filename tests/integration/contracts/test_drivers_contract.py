"""What every DriverRepository does, the fake's as well as SQL's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from voltbook.core.errors import Conflict
from voltbook.drivers.model import Driver, Role
from voltbook.drivers.ports import DriversUowFactory

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def driver(driver_id: str = "d-1", email: str = "alice@example.com") -> Driver:
    return Driver(driver_id, email, "plain$x", Role.DRIVER, WHEN, consent_location=True)


async def add(uow: DriversUowFactory, *drivers: Driver) -> None:
    async with uow() as writing:
        for one in drivers:
            await writing.drivers.add(one)
        await writing.commit()


async def test_an_added_driver_reads_back_by_id_and_by_email(
    drivers_uow: DriversUowFactory,
) -> None:
    await add(drivers_uow, driver())
    async with drivers_uow(read_only=True) as uow:
        assert await uow.drivers.get("d-1") == driver()
        assert await uow.drivers.by_email("alice@example.com") == driver()
        assert await uow.drivers.get("d-2") is None
        assert await uow.drivers.by_email("bob@example.com") is None


async def test_a_committed_email_is_a_conflict_later(drivers_uow: DriversUowFactory) -> None:
    await add(drivers_uow, driver())
    async with drivers_uow() as uow:
        with pytest.raises(Conflict):
            await uow.drivers.add(driver("d-2"))


async def test_an_email_taken_in_the_same_unit_of_work_is_a_conflict(
    drivers_uow: DriversUowFactory,
) -> None:
    async with drivers_uow() as uow:
        await uow.drivers.add(driver("d-1"))
        with pytest.raises(Conflict):
            await uow.drivers.add(driver("d-2"))
        await uow.commit()  # the first one still stands
    async with drivers_uow(read_only=True) as uow:
        assert await uow.drivers.get("d-1") == driver()
        assert await uow.drivers.get("d-2") is None


async def test_changes_land_on_commit_only(drivers_uow: DriversUowFactory) -> None:
    await add(drivers_uow, driver())
    async with drivers_uow() as uow:
        await uow.drivers.set_password("d-1", "plain$new")
        await uow.drivers.set_role("d-1", Role.OPERATOR)
        await uow.drivers.set_blocked("d-1", True)
    async with drivers_uow(read_only=True) as uow:
        assert await uow.drivers.get("d-1") == driver()
    async with drivers_uow() as uow:
        await uow.drivers.set_password("d-1", "plain$new")
        await uow.drivers.set_role("d-1", Role.OPERATOR)
        await uow.drivers.set_blocked("d-1", True)
        await uow.commit()
    async with drivers_uow(read_only=True) as uow:
        found = await uow.drivers.get("d-1")
    assert found is not None
    assert (found.password_hash, found.role, found.blocked) == ("plain$new", Role.OPERATOR, True)


async def test_an_erased_account_is_gone_and_keeps_nothing_personal(
    drivers_uow: DriversUowFactory,
) -> None:
    await add(drivers_uow, driver(), driver("d-2", "bob@example.com"))
    async with drivers_uow() as uow:
        await uow.drivers.set_role("d-1", Role.OPERATOR)
        await uow.drivers.erase("d-1", WHEN)
        await uow.commit()
    async with drivers_uow(read_only=True) as uow:
        assert await uow.drivers.get("d-1") is None
        assert await uow.drivers.by_email("alice@example.com") is None
        left = await uow.drivers.by_email("deleted-d-1@deleted.invalid")
        assert await uow.drivers.get("d-2") == driver("d-2", "bob@example.com")
    assert left is not None
    assert (left.role, left.blocked, left.consent_location, left.consent_offers) == (
        Role.DRIVER,
        True,
        False,
        False,
    )
    assert left.password_hash == "!"


async def test_an_erased_address_is_free_for_a_new_account(drivers_uow: DriversUowFactory) -> None:
    await add(drivers_uow, driver())
    async with drivers_uow() as uow:
        await uow.drivers.erase("d-1", WHEN)
        await uow.commit()
    await add(drivers_uow, driver("d-3"))
    async with drivers_uow(read_only=True) as uow:
        assert await uow.drivers.by_email("alice@example.com") == driver("d-3")
