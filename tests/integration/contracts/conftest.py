"""Each contract case runs three times: on the unit tests' fake, on SQLite and on PostgreSQL.

A case sees only a unit-of-work factory (the port), so what it asserts is what the port
promises; where the fake and SQL disagree, the fake is the one to fix.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import wipe
from tests.unit.account_fakes import InMemoryDriverStore
from tests.unit.charging_fakes import SessionStore
from tests.unit.driver_fakes import DriverDataStore
from tests.unit.fakes import DEFAULT_START, FakeClock, InMemoryStationsStore
from tests.unit.idtoken_fakes import TokenStore
from tests.unit.notice_fakes import NoticeStore
from tests.unit.offer_fakes import OfferStore
from tests.unit.push_fakes import PushStore
from tests.unit.reservation_fakes import ReservationStore
from voltbook.charging.ports import ChargingUowFactory
from voltbook.drivers.ports import DriversUowFactory, VehiclesUowFactory
from voltbook.idtokens.ports import AuthListUowFactory, IdTokenUowFactory
from voltbook.notices.ports import NoticesUowFactory, PushUowFactory
from voltbook.offers.ports import OffersUowFactory
from voltbook.reservations.ports import ReservationsUowFactory
from voltbook.stations.ports import StationsUowFactory
from voltbook.storage import migrate
from voltbook.storage.database import create_engine
from voltbook.storage.tables import drivers
from voltbook.storage.unit_of_work import SqlUnitOfWork

BACKENDS = ["memory", "sqlite", "postgresql"]


@pytest.fixture(scope="session")
async def contract_engines() -> AsyncIterator[dict[str, AsyncEngine]]:
    """One migrated engine per database, made when a case first needs it."""
    engines: dict[str, AsyncEngine] = {}
    yield engines
    for engine in engines.values():
        await engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    """(kind, database URL); the fake has no URL."""
    kind: str = request.param
    if kind == "memory":
        return kind, None
    url: str = request.getfixturevalue("sqlite_url" if kind == "sqlite" else "pg_url")
    return kind, url


@pytest.fixture
async def backend(
    backend_url: tuple[str, str | None], contract_engines: dict[str, AsyncEngine]
) -> AsyncEngine | None:
    """None for the fake; otherwise an emptied, migrated database."""
    kind, url = backend_url
    if url is None:
        return None
    if kind not in contract_engines:
        engine = create_engine(url)
        await migrate.upgrade(engine)
        contract_engines[kind] = engine
    await wipe(contract_engines[kind])
    return contract_engines[kind]


def _sql(engine: AsyncEngine) -> Callable[..., SqlUnitOfWork]:
    def make(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, FakeClock(), read_only=read_only)

    return make


@pytest.fixture
def stations_uow(backend: AsyncEngine | None) -> StationsUowFactory:
    return InMemoryStationsStore().uow if backend is None else _sql(backend)


@pytest.fixture
def drivers_uow(backend: AsyncEngine | None) -> DriversUowFactory:
    return InMemoryDriverStore().uow if backend is None else _sql(backend)


# The reservations cases book for these drivers at this station (SQL refers to both).
STATION = "ST"
DRIVERS = ("D1", "D2")


@pytest.fixture
async def reservations_uow(backend: AsyncEngine | None) -> ReservationsUowFactory:
    if backend is None:
        store = ReservationStore()
        store.add_station(STATION, "site-1", {1: ["IEC_62196_T2"], 2: ["IEC_62196_T2"]})
        return store.uow
    async with SqlUnitOfWork(backend, FakeClock()) as uow:
        await uow.stations.add(STATION, None, "hash")
        await uow.commit()
    await given_drivers(backend)
    return _sql(backend)


async def given_drivers(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        for driver_id in DRIVERS:
            await connection.execute(
                drivers.insert().values(
                    id=driver_id,
                    email=f"{driver_id.lower()}@example.org",
                    password_hash="x",
                    role="driver",
                    created_at=DEFAULT_START,
                )
            )


@pytest.fixture
async def push_uow(backend: AsyncEngine | None) -> PushUowFactory:
    if backend is None:
        return PushStore().uow
    await given_drivers(backend)
    return _sql(backend)


@pytest.fixture
async def charging_uow(backend: AsyncEngine | None) -> ChargingUowFactory:
    if backend is None:
        return SessionStore().uow
    async with SqlUnitOfWork(backend, FakeClock()) as uow:
        await uow.stations.add(STATION, None, "hash")
        await uow.commit()
    return _sql(backend)


@pytest.fixture
async def id_tokens_uow(backend: AsyncEngine | None) -> IdTokenUowFactory:
    if backend is None:
        store = TokenStore()
        store.drivers.update(DRIVERS)
        return store.uow
    await given_drivers(backend)
    return _sql(backend)


@pytest.fixture
async def auth_lists_uow(backend: AsyncEngine | None) -> AuthListUowFactory:
    """The station STATION exists (offline, at no site)."""
    if backend is None:
        store = TokenStore()
        store.stations[STATION] = (False, None)
        return store.uow
    async with SqlUnitOfWork(backend, FakeClock()) as uow:
        await uow.stations.add(STATION, None, "hash")
        await uow.commit()
    return _sql(backend)


@pytest.fixture
async def notices_uow(backend: AsyncEngine | None) -> NoticesUowFactory:
    if backend is None:
        return NoticeStore().uow
    await given_drivers(backend)
    return _sql(backend)


@pytest.fixture
async def vehicles_uow(backend: AsyncEngine | None) -> VehiclesUowFactory:
    if backend is None:
        return DriverDataStore().uow
    await given_drivers(backend)
    return _sql(backend)


@pytest.fixture
async def offers_uow(backend: AsyncEngine | None) -> OffersUowFactory:
    """Drivers D1 and D2 and the station STATION exist."""
    if backend is None:
        return OfferStore().uow
    async with SqlUnitOfWork(backend, FakeClock()) as uow:
        await uow.stations.add(STATION, None, "hash")
        await uow.commit()
    await given_drivers(backend)
    return _sql(backend)
