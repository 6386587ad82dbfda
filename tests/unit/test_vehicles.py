"""Vehicles: what a driver may describe, who sees them, and how their state is kept
(drivers/vehicle_model.py, drivers/vehicles.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.driver_fakes import Booking, DriverDataStore
from tests.unit.fakes import FakeClock, SequentialIds
from voltbook.core.connectors import EvseRef
from voltbook.core.errors import InvalidInput, NotFound
from voltbook.drivers.vehicle_model import ChargingSessionRef, Vehicle, VehicleSpec
from voltbook.drivers.vehicles import VehicleService

ALICE = "driver-alice"
BOB = "driver-bob"
CCS1 = "IEC_62196_T1_COMBO"
J1772 = "IEC_62196_T1"
SPEC = VehicleSpec("Bolt", 65.0, (CCS1, J1772), max_ac_kw=11.0, max_dc_kw=55.0)
START = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def store() -> DriverDataStore:
    return DriverDataStore()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def vehicles(store: DriverDataStore, clock: FakeClock) -> VehicleService:
    return VehicleService(store.uow, clock, SequentialIds("vehicle"))


# --- description rules ----------------------------------------------------------------------


def test_a_vehicle_spec_is_trimmed_and_lists_each_plug_once() -> None:
    spec = VehicleSpec("  Bolt  ", 65, (CCS1, J1772, CCS1)).validated()
    assert spec.name == "Bolt"
    assert spec.standards == (CCS1, J1772)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (VehicleSpec("", 65, (CCS1,)), "name"),
        (VehicleSpec("   ", 65, (CCS1,)), "name"),
        (VehicleSpec("x" * 101, 65, (CCS1,)), "name"),
        (VehicleSpec("Bad\x00name", 65, (CCS1,)), "name"),
        (VehicleSpec("Bolt", 0.5, (CCS1,)), "battery_kwh"),
        (VehicleSpec("Bolt", 301, (CCS1,)), "battery_kwh"),
        (VehicleSpec("Bolt", float("nan"), (CCS1,)), "battery_kwh"),
        (VehicleSpec("Bolt", 65, ()), "connector standards"),
        (VehicleSpec("Bolt", 65, ("CCS 1",)), "OCPI"),
        (VehicleSpec("Bolt", 65, (CCS1,), max_ac_kw=0), "max_ac_kw"),
        (VehicleSpec("Bolt", 65, (CCS1,), max_dc_kw=1001), "max_dc_kw"),
    ],
)
def test_a_vehicle_spec_outside_the_rules_is_refused(spec: VehicleSpec, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        spec.validated()


def test_battery_sizes_of_one_and_three_hundred_kwh_are_allowed() -> None:
    VehicleSpec("Scooter", 1, (J1772,)).validated()
    VehicleSpec("Truck", 300, (CCS1,)).validated()


# --- ownership --------------------------------------------------------------------------------


async def test_a_driver_creates_lists_changes_and_deletes_a_vehicle(
    vehicles: VehicleService,
) -> None:
    made = await vehicles.create(ALICE, SPEC)
    assert made.driver_id == ALICE
    assert made.soc_percent is None
    assert [v.id for v in await vehicles.list(ALICE)] == [made.id]

    changed = await vehicles.update(ALICE, made.id, VehicleSpec("Bolt EUV", 65, (CCS1,)))
    assert (await vehicles.get(ALICE, made.id)) == changed
    assert changed.name == "Bolt EUV"
    assert changed.standards == (CCS1,)
    assert changed.max_dc_kw is None

    await vehicles.delete(ALICE, made.id)
    assert await vehicles.list(ALICE) == []
    with pytest.raises(NotFound):
        await vehicles.get(ALICE, made.id)


async def test_another_drivers_vehicle_does_not_exist_for_you(vehicles: VehicleService) -> None:
    alices = await vehicles.create(ALICE, SPEC)
    assert await vehicles.list(BOB) == []
    with pytest.raises(NotFound):
        await vehicles.get(BOB, alices.id)
    with pytest.raises(NotFound):
        await vehicles.update(BOB, alices.id, SPEC)
    with pytest.raises(NotFound):
        await vehicles.delete(BOB, alices.id)
    with pytest.raises(NotFound):
        await vehicles.report(BOB, alices.id, 50, None)
    assert await vehicles.get(ALICE, alices.id) == alices


async def test_changing_the_description_keeps_the_last_known_state(
    vehicles: VehicleService,
) -> None:
    made = await vehicles.create(ALICE, SPEC)
    await vehicles.report(ALICE, made.id, 40, 120)
    changed = await vehicles.update(ALICE, made.id, VehicleSpec("Bolt", 66, (CCS1,)))
    assert (changed.soc_percent, changed.range_km) == (40, 120)
    assert (await vehicles.get(ALICE, made.id)).battery_kwh == 66


# --- state from the app ----------------------------------------------------------------------


async def test_a_report_sets_soc_range_and_time(vehicles: VehicleService, clock: FakeClock) -> None:
    made = await vehicles.create(ALICE, SPEC)
    reported = await vehicles.report(ALICE, made.id, 55.5, 180)
    assert (reported.soc_percent, reported.range_km, reported.reported_at) == (55.5, 180, START)
    assert await vehicles.get(ALICE, made.id) == reported


async def test_an_older_report_does_not_replace_a_newer_one(
    vehicles: VehicleService, clock: FakeClock
) -> None:
    made = await vehicles.create(ALICE, SPEC)
    await vehicles.report(ALICE, made.id, 60, 200)
    late = await vehicles.report(ALICE, made.id, 30, 90, at=START - timedelta(minutes=5))
    assert (late.soc_percent, late.range_km) == (60, 200)
    assert (await vehicles.get(ALICE, made.id)).soc_percent == 60


async def test_a_soc_only_report_keeps_the_range_in_step_with_the_charge(
    vehicles: VehicleService, clock: FakeClock
) -> None:
    made = await vehicles.create(ALICE, SPEC)
    await vehicles.report(ALICE, made.id, 50, 200)
    clock.advance(60)
    lower = await vehicles.report(ALICE, made.id, 25, None)
    assert lower.range_km == pytest.approx(100)


async def test_without_a_known_pair_a_soc_only_report_leaves_the_range_unknown(
    vehicles: VehicleService,
) -> None:
    made = await vehicles.create(ALICE, SPEC)
    reported = await vehicles.report(ALICE, made.id, 80, None)
    assert reported.range_km is None
    # ... and the estimate comes from the battery: 80 % of 65 kWh at 0.2 kWh/km
    assert reported.estimated_range_km(0.2) == pytest.approx(260)


def test_a_reported_range_wins_over_the_estimate() -> None:
    vehicle = Vehicle("v", ALICE, "Bolt", 65, (CCS1,), None, None, START, 80, 150, START)
    assert vehicle.estimated_range_km(0.2) == 150


def test_nothing_known_means_no_range() -> None:
    vehicle = Vehicle("v", ALICE, "Bolt", 65, (CCS1,), None, None, START)
    assert vehicle.estimated_range_km(0.2) is None


@pytest.mark.parametrize(
    ("soc", "range_km", "message"),
    [
        (None, None, "needs soc_percent, range_km or both"),
        (-1, None, "soc_percent"),
        (100.5, None, "soc_percent"),
        (None, -3, "range_km"),
        (None, 2001, "range_km"),
        (float("inf"), None, "soc_percent"),
    ],
)
async def test_a_report_outside_the_rules_is_refused(
    vehicles: VehicleService, soc: float | None, range_km: float | None, message: str
) -> None:
    made = await vehicles.create(ALICE, SPEC)
    with pytest.raises(InvalidInput, match=message):
        await vehicles.report(ALICE, made.id, soc, range_km)


async def test_a_report_from_the_future_is_refused(vehicles: VehicleService) -> None:
    made = await vehicles.create(ALICE, SPEC)
    with pytest.raises(InvalidInput, match="future"):
        await vehicles.report(ALICE, made.id, 50, None, at=START + timedelta(hours=1))


# --- state from the charger -----------------------------------------------------------------


def session(**overrides: object) -> ChargingSessionRef:
    values: dict[str, object] = {
        "evse": EvseRef("CP-1", 1),
        "session_id": 7,
        "id_tag": "TAG-ALICE",
        "reservation_id": None,
        "started_at": START,
    }
    values.update(overrides)
    return ChargingSessionRef(**values)  # type: ignore[arg-type]


async def test_a_chargers_soc_reaches_the_vehicle_of_the_booking_at_the_next_flush(
    vehicles: VehicleService, store: DriverDataStore
) -> None:
    first = await vehicles.create(ALICE, SPEC)
    booked = await vehicles.create(ALICE, VehicleSpec("Leaf", 40, ("CHADEMO",)))
    store.state.bookings[3] = Booking(
        3, "CP-1", 1, "TAG-ALICE", booked.id, "fulfilled", START, START + timedelta(hours=1)
    )
    await vehicles.charger_soc(session(reservation_id=3), 42, START + timedelta(seconds=10))
    assert (await vehicles.get(ALICE, booked.id)).soc_percent is None  # not yet written

    assert await vehicles.flush() == 1
    charged = await vehicles.get(ALICE, booked.id)
    assert (charged.soc_percent, charged.reported_at) == (42, START + timedelta(seconds=10))
    assert (await vehicles.get(ALICE, first.id)).soc_percent is None


async def test_a_session_started_by_id_tag_charges_the_vehicle_of_the_booking_it_fulfilled(
    vehicles: VehicleService, store: DriverDataStore
) -> None:
    await vehicles.create(ALICE, SPEC)
    booked = await vehicles.create(ALICE, VehicleSpec("Leaf", 40, ("CHADEMO",)))
    store.state.bookings[3] = Booking(
        3, "CP-1", 1, "TAG-ALICE", booked.id, "fulfilled", START, START + timedelta(hours=1)
    )
    await vehicles.charger_soc(session(), 42, START + timedelta(seconds=10))
    await vehicles.flush()
    assert (await vehicles.get(ALICE, booked.id)).soc_percent == 42


async def test_without_a_booking_the_soc_goes_to_the_tag_owners_only_vehicle(
    vehicles: VehicleService, store: DriverDataStore
) -> None:
    only = await vehicles.create(ALICE, SPEC)
    store.state.id_tags["TAG-ALICE"] = ALICE
    await vehicles.charger_soc(session(), 64, START + timedelta(seconds=10))
    await vehicles.flush()
    assert (await vehicles.get(ALICE, only.id)).soc_percent == 64


async def test_with_two_vehicles_and_no_booking_the_soc_goes_nowhere(
    vehicles: VehicleService, store: DriverDataStore
) -> None:
    one = await vehicles.create(ALICE, SPEC)
    two = await vehicles.create(ALICE, VehicleSpec("Leaf", 40, ("CHADEMO",)))
    store.state.id_tags["TAG-ALICE"] = ALICE
    await vehicles.charger_soc(session(), 64, START + timedelta(seconds=10))
    assert await vehicles.flush() == 0
    assert (await vehicles.get(ALICE, one.id)).soc_percent is None
    assert (await vehicles.get(ALICE, two.id)).soc_percent is None


async def test_readings_of_one_session_are_coalesced_and_the_vehicle_looked_up_once(
    vehicles: VehicleService, store: DriverDataStore
) -> None:
    only = await vehicles.create(ALICE, SPEC)
    await vehicles.report(ALICE, only.id, 20, 60)  # at START
    store.state.id_tags["TAG-ALICE"] = ALICE
    for second, soc in ((10, 21), (30, 23), (20, 22)):
        await vehicles.charger_soc(session(), soc, START + timedelta(seconds=second))
    assert store.lookups == 1
    assert await vehicles.flush() == 1
    charged = await vehicles.get(ALICE, only.id)
    assert charged.soc_percent == 23
    assert charged.reported_at == START + timedelta(seconds=30)
    assert charged.range_km == pytest.approx(69)  # 60 km at 20 % → 3 km per percent


async def test_a_charger_reading_older_than_the_apps_report_changes_nothing(
    vehicles: VehicleService, store: DriverDataStore, clock: FakeClock
) -> None:
    only = await vehicles.create(ALICE, SPEC)
    store.state.id_tags["TAG-ALICE"] = ALICE
    clock.advance(120)
    await vehicles.report(ALICE, only.id, 70, 230)
    await vehicles.charger_soc(session(), 50, START + timedelta(seconds=10))
    assert await vehicles.flush() == 0
    assert (await vehicles.get(ALICE, only.id)).soc_percent == 70


async def test_a_booking_that_starts_long_after_the_session_is_not_the_one_it_charges_for(
    vehicles: VehicleService, store: DriverDataStore
) -> None:
    only = await vehicles.create(ALICE, SPEC)
    later = await vehicles.create(ALICE, VehicleSpec("Leaf", 40, ("CHADEMO",)))
    store.state.bookings[4] = Booking(
        4,
        "CP-1",
        1,
        "TAG-ALICE",
        later.id,
        "fulfilled",
        START + timedelta(hours=2),
        START + timedelta(hours=3),
    )
    store.state.id_tags["TAG-ALICE"] = ALICE
    await vehicles.charger_soc(session(), 50, START + timedelta(seconds=10))
    assert await vehicles.flush() == 0  # two vehicles, and the booking is not this session's
    assert (await vehicles.get(ALICE, only.id)).soc_percent is None
