"""Station admission on real databases: fast keyed hashes, and argon2id hashes stored before
them moved to the new form on the station's next connect (docs/adr/0015)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from voltbook import bootstrap
from voltbook.config import Settings
from voltbook.core.clock import SystemClock
from voltbook.security.passwords import Argon2idHasher
from voltbook.stations.fleet import Admission
from voltbook.storage.unit_of_work import SqlUnitOfWork

PASSWORD = "an-older-station-password"


async def test_an_argon2id_station_hash_moves_to_the_keyed_form_on_its_next_connect(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=str(engine.url))
    services = bootstrap.build_services(settings, engine)
    old = Argon2idHasher(time_cost=1, memory_cost_kib=8_192).hash(PASSWORD)
    async with SqlUnitOfWork(engine, SystemClock()) as uow:
        await uow.stations.add("OLD-1", None, old)
        await uow.commit()

    assert (
        await services.fleet.admit("OLD-1", "not-the-password-at-all") is Admission.WRONG_PASSWORD
    )
    assert await services.fleet.admit("OLD-1", PASSWORD) is Admission.ADMITTED
    async with SqlUnitOfWork(engine, SystemClock(), read_only=True) as uow:
        stored = await uow.stations.credentials("OLD-1")
    assert stored is not None
    assert stored.password_hash is not None
    assert stored.password_hash.startswith("hmac-sha256$")

    # Another node (no remembered admission) checks the new form.
    other = bootstrap.build_services(settings, engine)
    assert await other.fleet.admit("OLD-1", PASSWORD) is Admission.ADMITTED
    assert await other.fleet.admit("OLD-1", PASSWORD + "x") is Admission.WRONG_PASSWORD


async def test_a_registered_station_is_stored_in_the_keyed_form(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    services = bootstrap.build_services(
        Settings(data_dir=tmp_path, database_url=str(engine.url)), engine
    )
    made = await services.fleet.register("NEW-1")
    async with SqlUnitOfWork(engine, SystemClock(), read_only=True) as uow:
        stored = await uow.stations.credentials("NEW-1")
    assert stored is not None
    assert stored.password_hash is not None
    assert stored.password_hash.startswith("hmac-sha256$")
    assert await services.fleet.admit("NEW-1", made.password) is Admission.ADMITTED
