"""Charging from the app, on in-memory fakes: the charger's reports decide the state, a
repeated Idempotency-Key starts once, and a driver sees only their own charges."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

import pytest

from tests.unit.fakes import FakeClock, SequentialIds
from tests.unit.memory_uow import MemoryStore, MemoryUnitOfWork
from voltbook.charging.model import ChargingSession
from voltbook.charging.remote import AppChargingService
from voltbook.charging.remote_model import AppCharge, ChargeState
from voltbook.core.errors import Conflict, InvalidInput, NotFound, TimedOut, Unavailable


@dataclass
class Store:
    charges: dict[str, AppCharge] = field(default_factory=dict)
    evses: dict[tuple[str, int], tuple[str, bool]] = field(default_factory=dict)
    sessions: dict[int, ChargingSession] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


class Repo:
    def __init__(self, uow: Uow) -> None:
        self._uow = uow

    @property
    def s(self) -> Store:
        return self._uow.state

    async def add(self, charge: AppCharge) -> bool:
        self._uow.writable("add")
        if await self.by_key(charge.driver_id, charge.idempotency_key):
            return False
        self.s.charges[charge.id] = charge
        return True

    async def get(self, charge_id: str) -> AppCharge | None:
        return self.s.charges.get(charge_id)

    async def by_key(self, driver_id: str, idempotency_key: str) -> AppCharge | None:
        return next(
            (
                c
                for c in self.s.charges.values()
                if c.driver_id == driver_id and c.idempotency_key == idempotency_key
            ),
            None,
        )

    async def save(self, charge: AppCharge) -> None:
        self._uow.writable("save")
        self.s.charges[charge.id] = charge

    async def waiting_for(
        self, station_id: str, evse_id: int, id_tag: str | None
    ) -> AppCharge | None:
        found = [
            c
            for c in self.s.charges.values()
            if (c.station_id, c.evse_id) == (station_id, evse_id)
            and c.state.waiting
            and id_tag in (None, c.id_tag)
        ]
        return max(found, key=lambda c: c.created_at, default=None)

    async def of_session(self, session_id: int) -> AppCharge | None:
        return next((c for c in self.s.charges.values() if c.session_id == session_id), None)

    async def of_driver(
        self, driver_id: str, before: datetime | None, limit: int
    ) -> list[AppCharge]:
        mine = [c for c in self.s.charges.values() if c.driver_id == driver_id]
        mine = [c for c in mine if before is None or c.created_at < before]
        return sorted(mine, key=lambda c: c.created_at, reverse=True)[:limit]

    async def session(self, session_id: int) -> ChargingSession | None:
        return self.s.sessions.get(session_id)

    async def place(self, station_id: str) -> tuple[str | None, str | None]:
        return "Garage", "1 Main St"

    async def evse_status(self, station_id: str, evse_id: int) -> tuple[str, bool] | None:
        return self.s.evses.get((station_id, evse_id))

    async def app_token(self, driver_id: str) -> str:
        self._uow.writable("app_token")  # may make the driver's token
        return self.s.tokens.setdefault(driver_id, f"VB{len(self.s.tokens):012d}")


class Uow(MemoryUnitOfWork[Store]):
    def __init__(self, store: MemoryStore[Store], *, read_only: bool = False) -> None:
        super().__init__(store, read_only=read_only)
        self.app_charges = Repo(self)


@dataclass
class Control:
    answer: str | None = "Accepted"
    fails_with: Exception | None = None
    held: bool = False
    starts: list[tuple[str, int, str]] = field(default_factory=list)
    stops: list[str] = field(default_factory=list)

    async def remote_start(self, station_id: str, evse_id: int, id_tag: str) -> str | None:
        if self.fails_with is not None:
            raise self.fails_with
        self.starts.append((station_id, evse_id, id_tag))
        return self.answer

    async def remote_stop(self, station_id: str, reference: str) -> str | None:
        self.stops.append(reference)
        return "Accepted"

    async def held_for_others(self, station_id: str, evse_id: int, id_tag: str) -> bool:
        return self.held

    async def current(self, station_id: str, reference: str) -> ChargingSession | None:
        return None


@dataclass
class World:
    memory: MemoryStore[Store]
    control: Control
    clock: FakeClock
    service: AppChargingService

    @property
    def store(self) -> Store:
        return self.memory.state


@pytest.fixture
def world() -> World:
    memory, control, clock = MemoryStore(Store()), Control(), FakeClock()
    memory.state.evses[("CP-1", 1)] = ("Available", True)

    def uow(*, read_only: bool = False) -> Uow:
        return Uow(memory, read_only=read_only)

    service = AppChargingService(uow, control, clock, SequentialIds())
    return World(memory, control, clock, service)


def session_of(world: World, session_id: int, tag: str) -> ChargingSession:
    session = ChargingSession(session_id, "CP-1", 1, 1, tag, world.clock.now(), 1000.0)
    world.store.sessions[session_id] = session
    return session


async def test_a_start_on_a_free_connector_waits_for_the_cable_then_charges_on_the_chargers_report(
    world: World,
) -> None:
    view, created = await world.service.start("d1", "CP-1", 1, "k1")
    assert created
    assert view.charge.state is ChargeState.PLUG_IN  # Accepted alone is not charging
    token = world.store.tokens["d1"]
    assert world.control.starts == [("CP-1", 1, token)]
    assert len(token) <= 20

    await world.service.connector_status("CP-1", 1, "Preparing")
    assert (await world.service.view("d1", view.charge.id)).charge.state is ChargeState.STARTING
    session_of(world, 7, token)
    await world.service.session_started(7, "CP-1", 1, token)
    now = await world.service.view("d1", view.charge.id)
    assert now.charge.state is ChargeState.CHARGING
    assert now.session is not None
    assert now.session.id == 7


async def test_a_double_tap_starts_once_and_a_reused_key_for_another_charger_is_refused(
    world: World,
) -> None:
    first, _ = await world.service.start("d1", "CP-1", 1, "k1")
    again, created = await world.service.start("d1", "CP-1", 1, "k1")
    assert not created
    assert again.charge.id == first.charge.id
    assert len(world.control.starts) == 1
    with pytest.raises(InvalidInput):
        await world.service.start("d1", "CP-1", 2, "k1")
    other, created = await world.service.start("d2", "CP-1", 1, "k1")  # keys are per driver
    assert created
    assert other.charge.id != first.charge.id


@pytest.mark.parametrize(
    ("status", "online", "held", "error"),
    [
        ("Charging", True, False, Conflict),
        ("Faulted", True, False, Conflict),
        ("Available", False, False, Unavailable),
        ("Available", True, True, Conflict),
        ("Reserved", True, True, Conflict),
    ],
)
async def test_a_start_is_refused_where_the_driver_may_not_charge(
    world: World, status: str, online: bool, held: bool, error: type[Exception]
) -> None:
    world.store.evses[("CP-1", 1)] = (status, online)
    world.control.held = held
    with pytest.raises(error):
        await world.service.start("d1", "CP-1", 1, "k1")
    assert world.control.starts == []


@pytest.mark.parametrize("status", ["Preparing", "Reserved"])
async def test_a_start_is_allowed_with_the_cable_in_or_on_the_drivers_own_hold(
    world: World, status: str
) -> None:
    world.store.evses[("CP-1", 1)] = (status, True)
    view, _ = await world.service.start("d1", "CP-1", 1, "k1")
    expected = ChargeState.STARTING if status == "Preparing" else ChargeState.PLUG_IN
    assert view.charge.state is expected


async def test_an_unknown_connector_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        await world.service.start("d1", "CP-9", 1, "k1")


@pytest.mark.parametrize(
    ("answer", "error", "reason"),
    [
        ("Rejected", None, "the charger refused to start (Rejected)"),
        (None, TimedOut("no answer"), "the charger did not answer"),
        (None, Unavailable("offline"), "the charger went offline"),
    ],
)
async def test_a_start_the_charger_does_not_take_fails_saying_why(
    world: World, answer: str | None, error: Exception | None, reason: str
) -> None:
    world.control.answer, world.control.fails_with = answer, error
    view, _ = await world.service.start("d1", "CP-1", 1, "k1")
    assert view.charge.state is ChargeState.FAILED
    assert view.charge.reason == reason


async def test_a_charge_nobody_plugged_in_for_fails_after_the_wait(world: World) -> None:
    await world.service.start("d1", "CP-1", 1, "k1")
    world.clock.advance(3 * 60 + 1)
    [listed] = await world.service.of_driver("d1", None, 10)
    assert listed.charge.state is ChargeState.FAILED
    assert listed.charge.reason == "no cable was plugged in in time"


async def test_a_fault_while_waiting_fails_the_charge(world: World) -> None:
    view, _ = await world.service.start("d1", "CP-1", 1, "k1")
    await world.service.connector_status("CP-1", 1, "Faulted")
    assert (await world.service.view("d1", view.charge.id)).charge.state is ChargeState.FAILED


async def test_another_drivers_tag_or_session_leaves_the_charge_waiting(world: World) -> None:
    view, _ = await world.service.start("d1", "CP-1", 1, "k1")
    await world.service.session_started(8, "CP-1", 1, "SOMEONE-ELSE")
    assert (await world.service.view("d1", view.charge.id)).charge.state is ChargeState.PLUG_IN
    with pytest.raises(NotFound):
        await world.service.view("d2", view.charge.id)
    assert await world.service.of_driver("d2", None, 10) == []


async def test_stop_asks_the_charger_and_the_charge_finishes_on_its_report_once(
    world: World,
) -> None:
    view, _ = await world.service.start("d1", "CP-1", 1, "k1")
    with pytest.raises(Conflict):
        await world.service.stop("d1", view.charge.id)  # not charging yet
    token = world.store.tokens["d1"]
    session_of(world, 7, token)
    await world.service.session_started(7, "CP-1", 1, token)
    stopping = await world.service.stop("d1", view.charge.id)
    assert stopping.charge.state is ChargeState.STOPPING
    assert world.control.stops == ["7"]
    world.store.sessions[7] = replace(world.store.sessions[7], stopped_at=world.clock.now())
    finished = await world.service.session_stopped(7, "Remote")
    assert finished is not None
    assert finished.state is ChargeState.FINISHED
    assert await world.service.session_stopped(7, "Remote") is None  # told once
