"""Fixtures for unit tests: services wired to the in-memory fakes."""

from __future__ import annotations

import pytest

from tests.unit.account_fakes import InMemoryDriverStore
from tests.unit.fakes import (
    EventRecorder,
    FakeClock,
    InMemoryStationsStore,
    PlainHasher,
    SequentialIds,
)
from voltbook.core.bus import Event, InProcessBus
from voltbook.drivers.service import AccountService
from voltbook.drivers.throttle import SlidingWindowThrottle
from voltbook.security.tokens import JwtTokens
from voltbook.stations.service import StationService

SECRET = "unit-test-secret-that-is-long-enough-0123456789"
TOKEN_LIFETIME_S = 3600


@pytest.fixture
def clock() -> FakeClock:
    # Real time as the start: PyJWT also checks `exp` against the system clock.
    return FakeClock.at_real_time()


@pytest.fixture
def bus() -> InProcessBus:
    return InProcessBus()


@pytest.fixture
def events(bus: InProcessBus) -> EventRecorder:
    recorder = EventRecorder()
    bus.subscribe(Event, recorder)
    return recorder


@pytest.fixture
def stations_store() -> InMemoryStationsStore:
    return InMemoryStationsStore()


@pytest.fixture
def stations(stations_store: InMemoryStationsStore, bus: InProcessBus) -> StationService:
    return StationService(stations_store.uow, bus)


@pytest.fixture
def driver_store() -> InMemoryDriverStore:
    return InMemoryDriverStore()


@pytest.fixture
def hasher() -> PlainHasher:
    return PlainHasher()


@pytest.fixture
def tokens(clock: FakeClock) -> JwtTokens:
    return JwtTokens(SECRET, TOKEN_LIFETIME_S, clock)


@pytest.fixture
def throttle(clock: FakeClock) -> SlidingWindowThrottle:
    return SlidingWindowThrottle(clock, max_failures=10, window_s=60.0)


@pytest.fixture
def accounts(
    driver_store: InMemoryDriverStore,
    hasher: PlainHasher,
    tokens: JwtTokens,
    throttle: SlidingWindowThrottle,
    clock: FakeClock,
    bus: InProcessBus,
) -> AccountService:
    return AccountService(
        uow=driver_store.uow,
        hasher=hasher,
        tokens=tokens,
        throttle=throttle,
        clock=clock,
        ids=SequentialIds("driver"),
        bus=bus,
    )
