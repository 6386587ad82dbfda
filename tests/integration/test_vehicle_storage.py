"""Vehicles, consents and last positions on both databases; a charger's SoC reaches the vehicle."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from voltbook.bootstrap import build_services
from voltbook.charging.model import MeterSample
from voltbook.config import Settings
from voltbook.core.clock import SystemClock
from voltbook.core.errors import NotFound
from voltbook.core.ids import TimeOrderedIds
from voltbook.drivers.privacy import LocationNotShared, PrivacyService
from voltbook.drivers.privacy_model import Preferences
from voltbook.drivers.vehicle_model import VehicleSpec
from voltbook.drivers.vehicles import VehicleService
from voltbook.services import Services
from voltbook.storage.tables import driver_positions, drivers, id_tokens, reservations
from voltbook.storage.unit_of_work import SqlUnitOfWork

CCS1 = "IEC_62196_T1_COMBO"
SPEC = VehicleSpec("Bolt", 65, (CCS1, "IEC_62196_T1"), 11, 55)
TTL_S = 1800


class StoppedClock:
    """The system clock, but stopped where a test puts it."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self.at.timestamp()


class uow_factory:  # noqa: N801 - used like the factory function bootstrap makes
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._engine, SystemClock(), read_only=read_only)


async def add_drivers(engine: AsyncEngine, *ids: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            drivers.insert(),
            [
                {
                    "id": i,
                    "email": f"{i}@example.org",
                    "password_hash": "unused",
                    "role": "driver",
                    "created_at": datetime.now(UTC),
                }
                for i in ids
            ],
        )


async def position_rows(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return list((await connection.scalars(sa.select(driver_positions.c.driver_id))).all())


@pytest.fixture
def clock() -> StoppedClock:
    return StoppedClock()


@pytest.fixture
def privacy(engine: AsyncEngine, clock: StoppedClock) -> PrivacyService:
    return PrivacyService(uow_factory(engine), clock, TTL_S)


async def test_vehicles_are_stored_and_each_driver_sees_only_their_own(
    engine: AsyncEngine,
) -> None:
    await add_drivers(engine, "alice", "bob")
    vehicles = VehicleService(uow_factory(engine), SystemClock(), TimeOrderedIds())
    made = await vehicles.create("alice", SPEC)
    await vehicles.create("alice", VehicleSpec("Leaf", 40, ("CHADEMO",), 6.6, None))
    assert [v.name for v in await vehicles.list("alice")] == ["Bolt", "Leaf"]
    assert await vehicles.list("bob") == []
    with pytest.raises(NotFound):
        await vehicles.get("bob", made.id)

    reported = await vehicles.report("alice", made.id, 48.5, 150)
    stored = await vehicles.get("alice", made.id)
    assert stored == reported
    assert stored.standards == (CCS1, "IEC_62196_T1")
    assert stored.max_ac_kw == 11

    renamed = await vehicles.update("alice", made.id, VehicleSpec("Bolt EUV", 65, (CCS1,)))
    assert await vehicles.get("alice", made.id) == renamed
    assert renamed.soc_percent == 48.5

    older = await vehicles.report("alice", made.id, 10, 20, at=stored.reported_at)
    assert older.soc_percent == 48.5  # not newer: nothing changes
    await vehicles.delete("alice", made.id)
    assert [v.name for v in await vehicles.list("alice")] == ["Leaf"]


async def test_consents_quiet_hours_and_time_zone_are_stored(
    engine: AsyncEngine, privacy: PrivacyService
) -> None:
    await add_drivers(engine, "alice")
    fresh = await privacy.preferences("alice")
    assert (fresh.consent_location, fresh.consent_offers) == (False, False)
    await privacy.update_me("alice", Preferences(True, True, "22:00-07:00", "Europe/Berlin"))
    me = await privacy.preferences("alice")
    assert (me.consent_location, me.consent_offers) == (True, True)
    assert (me.quiet_hours, me.time_zone) == ("22:00-07:00", "Europe/Berlin")


async def test_a_driver_never_has_more_than_one_position_row(
    engine: AsyncEngine, privacy: PrivacyService, clock: StoppedClock
) -> None:
    await add_drivers(engine, "alice", "bob")
    await privacy.update_me("alice", Preferences(consent_location=True))
    for step in range(5):
        clock.at += timedelta(seconds=10)
        await privacy.record_position("alice", 42.35 + step / 100, -71.06, 5.0)
    older = await privacy.record_position("alice", 1.0, 1.0, at=clock.at - timedelta(minutes=1))
    assert await position_rows(engine) == ["alice"]
    last = await privacy.last_position("alice")
    assert last is not None
    assert last == older  # the stored, newer one came back
    assert last.lat == pytest.approx(42.39)
    assert last.expires_at == clock.at + timedelta(seconds=TTL_S)


async def test_concurrent_positions_and_a_withdrawal_leave_one_row_or_none(
    engine: AsyncEngine, privacy: PrivacyService, clock: StoppedClock
) -> None:
    await add_drivers(engine, "alice")
    await privacy.update_me("alice", Preferences(consent_location=True))
    results = await asyncio.gather(
        *(privacy.record_position("alice", 42.0 + i / 1000, -71.0) for i in range(20))
    )
    assert len(results) == 20
    assert await position_rows(engine) == ["alice"]

    async def share() -> None:
        with contextlib.suppress(LocationNotShared):
            await privacy.record_position("alice", 42.5, -71.5)

    await asyncio.gather(
        *(share() for _ in range(10)),
        privacy.update_me("alice", Preferences(consent_location=False)),
        *(share() for _ in range(10)),
    )
    assert await position_rows(engine) == []  # whatever the order, nothing outlives the "no"


async def test_without_consent_no_position_is_stored(
    engine: AsyncEngine, privacy: PrivacyService
) -> None:
    await add_drivers(engine, "bob")
    with pytest.raises(LocationNotShared):
        await privacy.record_position("bob", 42.35, -71.06)
    assert await position_rows(engine) == []


async def test_an_expired_position_is_not_returned_and_the_purge_removes_it(
    engine: AsyncEngine, privacy: PrivacyService, clock: StoppedClock
) -> None:
    await add_drivers(engine, "alice", "bob")
    for driver in ("alice", "bob"):
        await privacy.update_me(driver, Preferences(consent_location=True))
    await privacy.record_position("alice", 42.35, -71.06)
    clock.at += timedelta(seconds=600)
    await privacy.record_position("bob", 42.35, -71.06)
    clock.at += timedelta(seconds=TTL_S - 600)
    assert await privacy.last_position("alice") is None
    assert await privacy.last_position("bob") is not None
    assert await privacy.purge() == 1
    assert await position_rows(engine) == ["bob"]


async def test_turning_location_consent_off_deletes_the_position(
    engine: AsyncEngine, privacy: PrivacyService
) -> None:
    await add_drivers(engine, "alice")
    await privacy.update_me("alice", Preferences(consent_location=True))
    await privacy.record_position("alice", 42.35, -71.06)
    await privacy.update_me("alice", Preferences(consent_location=False))
    assert await position_rows(engine) == []
    await privacy.update_me("alice", Preferences(consent_location=True))
    assert await privacy.last_position("alice") is None  # consent back on brings nothing back


# --- a charger's SoC --------------------------------------------------------------------------


@pytest.fixture
def services(engine: AsyncEngine, tmp_path: Path) -> Services:
    settings = Settings(
        database_url=str(engine.url),
        data_dir=tmp_path,
        jwt_secret="integration-secret-that-is-long-enough-0123456789",
    )
    return build_services(settings, engine)


async def start_session(
    services: Services, engine: AsyncEngine, station: str, tag: str, reservation: int | None
) -> str:
    async with SqlUnitOfWork(engine, SystemClock()) as uow:
        await uow.stations.add(station, None, "not-a-real-hash")
        await uow.commit()
    session, _ = await services.charging.start(
        station, 1, 1, tag, 0.0, datetime.now(UTC), reservation_id=reservation
    )
    return session.reference


async def test_a_meter_value_with_soc_updates_the_booked_vehicle(
    engine: AsyncEngine, services: Services
) -> None:
    await add_drivers(engine, "alice")
    other = await services.vehicles.create("alice", SPEC)
    booked = await services.vehicles.create("alice", VehicleSpec("Leaf", 40, ("CHADEMO",)))
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        await connection.execute(
            id_tokens.insert().values(
                token="TAGALICE", driver_id="alice", status="Accepted", created_at=now
            )
        )
    reference = await start_session(services, engine, "SOC-1", "TAGALICE", None)
    async with engine.begin() as connection:  # a booking this session fulfils by its id tag
        await connection.execute(
            reservations.insert().values(
                driver_id="alice",
                vehicle_id=booked.id,
                station_id="SOC-1",
                evse_id=1,
                any_evse=False,
                starts_at=now - timedelta(minutes=5),
                ends_at=now + timedelta(minutes=55),
                grace_s=900,
                status="fulfilled",
                id_tag="TAGALICE",
                created_at=now,
            )
        )
    sample = MeterSample(now + timedelta(seconds=30), energy_wh=500.0, soc_percent=57.0)
    await services.charging.meter("SOC-1", reference, [sample])
    assert await services.vehicles.flush() == 1
    charged = await services.vehicles.get("alice", booked.id)
    assert charged.soc_percent == 57.0
    assert charged.reported_at == sample.at
    assert (await services.vehicles.get("alice", other.id)).soc_percent is None


async def test_a_meter_value_with_soc_updates_the_tag_owners_only_vehicle(
    engine: AsyncEngine, services: Services
) -> None:
    await add_drivers(engine, "bob")
    only = await services.vehicles.create("bob", SPEC)
    await services.vehicles.report(
        "bob", only.id, 20, 60, at=datetime.now(UTC) - timedelta(hours=1)
    )
    async with engine.begin() as connection:
        await connection.execute(
            id_tokens.insert().values(
                token="TAGBOB", driver_id="bob", status="Accepted", created_at=datetime.now(UTC)
            )
        )
    reference = await start_session(services, engine, "SOC-2", "TAGBOB", None)
    later = datetime.now(UTC) + timedelta(seconds=30)
    await services.charging.meter("SOC-2", reference, [MeterSample(later, 100.0)])  # no SoC
    assert await services.vehicles.flush() == 0
    await services.charging.meter(
        "SOC-2", reference, [MeterSample(later + timedelta(seconds=1), 200.0, soc_percent=30)]
    )
    assert await services.vehicles.flush() == 1
    charged = await services.vehicles.get("bob", only.id)
    assert charged.soc_percent == 30
    assert charged.range_km == pytest.approx(90)
