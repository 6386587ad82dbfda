"""What every SignInRepository does, the fake's as well as SQL's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from voltbook.drivers.model import Driver, Role
from voltbook.drivers.ports import DriversUowFactory
from voltbook.drivers.sign_ins import RefreshRecord, SignIn, Standing

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
LATER = WHEN + timedelta(minutes=5)
EXPIRES = WHEN + timedelta(days=30)


async def given_signed_in(uow: DriversUowFactory, *sign_in_ids: str) -> None:
    async with uow() as writing:
        await writing.drivers.add(Driver("d-1", "alice@example.com", "x", Role.DRIVER, WHEN))
        for sign_in_id in sign_in_ids:
            await writing.sign_ins.add(SignIn(sign_in_id, "d-1", WHEN))
            await writing.sign_ins.add_refresh(f"hash-{sign_in_id}", sign_in_id, EXPIRES)
        await writing.commit()


async def test_a_refresh_token_reads_back_and_is_used_once(drivers_uow: DriversUowFactory) -> None:
    await given_signed_in(drivers_uow, "s-1")
    async with drivers_uow() as uow:
        assert await uow.sign_ins.refresh("hash-s-1") == RefreshRecord(
            "hash-s-1", "s-1", "d-1", EXPIRES, None, revoked=False
        )
        assert await uow.sign_ins.refresh("hash-unknown") is None
        assert await uow.sign_ins.use_refresh("hash-s-1", LATER)
        assert not await uow.sign_ins.use_refresh("hash-s-1", LATER)
        assert not await uow.sign_ins.use_refresh("hash-unknown", LATER)
        await uow.commit()
    async with drivers_uow(read_only=True) as uow:
        found = await uow.sign_ins.refresh("hash-s-1")
    assert found is not None
    assert found.used_at == LATER


async def test_sign_ins_without_commit_are_dropped(drivers_uow: DriversUowFactory) -> None:
    await given_signed_in(drivers_uow)
    async with drivers_uow() as uow:
        await uow.sign_ins.add(SignIn("s-1", "d-1", WHEN))
    async with drivers_uow(read_only=True) as uow:
        assert await uow.sign_ins.standing("s-1") is None


async def test_revoking_all_keeps_the_one_asked_for_and_ends_the_rest_once(
    drivers_uow: DriversUowFactory,
) -> None:
    await given_signed_in(drivers_uow, "s-1", "s-2", "s-3")
    async with drivers_uow() as uow:
        ended = await uow.sign_ins.revoke_all("d-1", LATER, keep="s-2")
        again = await uow.sign_ins.revoke_all("d-1", LATER, keep="s-2")
        await uow.commit()
    assert sorted(ended) == ["s-1", "s-3"]
    assert again == []
    async with drivers_uow(read_only=True) as uow:
        standings = await uow.sign_ins.standings(["s-1", "s-2", "s-3", "s-none"])
        record = await uow.sign_ins.refresh("hash-s-1")
    assert {key: s.revoked for key, s in standings.items()} == {
        "s-1": True,
        "s-2": False,
        "s-3": True,
    }
    assert record is not None
    assert record.revoked


async def test_a_standing_follows_the_account(drivers_uow: DriversUowFactory) -> None:
    await given_signed_in(drivers_uow, "s-1")
    async with drivers_uow() as uow:
        assert await uow.sign_ins.standing("s-1") == Standing(
            "d-1", Role.DRIVER, blocked=False, deleted=False, revoked=False
        )
        await uow.drivers.set_role("d-1", Role.OPERATOR)
        await uow.drivers.set_blocked("d-1", True)
        await uow.sign_ins.revoke("s-1", LATER)
        assert await uow.sign_ins.standing("s-1") == Standing(
            "d-1", Role.OPERATOR, blocked=True, deleted=False, revoked=True
        )
        await uow.drivers.erase("d-1", LATER)
        await uow.commit()
    async with drivers_uow(read_only=True) as uow:
        standing = await uow.sign_ins.standing("s-1")
    assert standing is not None
    assert standing.deleted
    assert not standing.active
