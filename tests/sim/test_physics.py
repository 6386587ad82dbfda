"""The charging physics: power curves, energy integration and vehicles."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voltbook.sim.physics import Charge, Vehicle, charger_power_kw, power_at_kw


def vehicle(soc: float = 20.0, target: float = 90.0, capacity: float = 60.0) -> Vehicle:
    return Vehicle(capacity, soc, target, max_ac_kw=11.0, max_dc_kw=150.0)


def test_ac_power_is_flat_at_the_lower_of_charger_and_onboard_charger() -> None:
    car = vehicle()
    assert power_at_kw(False, 7.2, car, 30.0) == pytest.approx(7.2)
    assert power_at_kw(False, 22.0, car, 30.0) == pytest.approx(11.0)
    assert power_at_kw(False, 7.2, car, 98.0) < 7.2


def test_dc_power_holds_its_peak_to_80_percent_then_tapers() -> None:
    car = vehicle()
    assert power_at_kw(True, 100.0, car, 50.0) == pytest.approx(100.0)
    assert power_at_kw(True, 100.0, car, 80.0) == pytest.approx(100.0)
    tapered = [power_at_kw(True, 100.0, car, soc) for soc in (85.0, 90.0, 95.0, 99.0)]
    assert tapered == sorted(tapered, reverse=True)
    assert tapered[0] < 100.0
    assert tapered[-1] < 20.0


def test_unknown_ratings_get_typical_values() -> None:
    rng = random.Random(1)
    assert all(7.2 <= charger_power_kw("AC", None, rng) <= 11.0 for _ in range(50))
    assert all(50.0 <= charger_power_kw("DC", None, rng) <= 150.0 for _ in range(50))
    assert charger_power_kw("AC_3_PHASE", 22.0, rng) == 22.0


def test_random_vehicles_are_in_the_documented_ranges() -> None:
    rng = random.Random(2)
    for _ in range(200):
        car = Vehicle.random(rng)
        assert 40.0 <= car.capacity_kwh <= 100.0
        assert 10.0 <= car.soc <= 60.0
        assert 80.0 <= car.target_soc <= 100.0


def test_an_hour_of_ac_charging_adds_about_its_power() -> None:
    charge = Charge(vehicle(soc=20.0, capacity=80.0), "AC", 7.2)
    added = charge.advance(3600.0)
    assert added == pytest.approx(7200.0, rel=1e-6)
    assert charge.vehicle.soc == pytest.approx(20.0 + 7.2 * 0.9 / 80.0 * 100.0)


def test_charging_stops_at_the_target() -> None:
    charge = Charge(vehicle(soc=70.0, target=80.0, capacity=50.0), "DC", 150.0)
    charge.advance(24 * 3600.0)
    assert charge.vehicle.soc == pytest.approx(80.0)
    assert charge.vehicle.full
    assert charge.power_kw == 0.0
    assert charge.energy_wh == pytest.approx(10.0 / 100.0 * 50_000.0 / 0.95)
    assert charge.advance(600.0) == 0.0


def test_seconds_to_target_leaves_the_vehicle_alone() -> None:
    charge = Charge(vehicle(soc=30.0, target=80.0), "DC", 50.0)
    seconds = charge.seconds_to_target()
    assert charge.vehicle.soc == 30.0
    assert 30 * 60 < seconds < 60 * 60  # 30 kWh / 0.95 at 50 kW is ~38 min


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    dc=st.booleans(),
    steps=st.lists(st.floats(0.0, 900.0), min_size=1, max_size=30),
)
def test_energy_never_decreases_and_the_soc_never_passes_the_target(
    seed: int, dc: bool, steps: list[float]
) -> None:
    rng = random.Random(seed)
    car = Vehicle.random(rng)
    start_soc = car.soc
    charge = Charge(car, "DC" if dc else "AC", charger_power_kw("DC" if dc else "AC", None, rng))
    energy = 0.0
    for step in steps:
        assert charge.advance(step) >= 0.0
        assert charge.energy_wh >= energy
        energy = charge.energy_wh
        assert start_soc <= car.soc <= car.target_soc + 1e-9
    # Battery energy gained matches grid energy times efficiency.
    gained_wh = (car.soc - start_soc) / 100.0 * car.capacity_kwh * 1000.0
    assert gained_wh == pytest.approx(charge.energy_wh * charge.efficiency, rel=1e-6, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), splits=st.integers(1, 40))
def test_the_result_does_not_depend_on_how_time_is_sliced(seed: int, splits: int) -> None:
    rng = random.Random(seed)
    template = Vehicle.random(rng)
    whole = Charge(Vehicle(**vars(template)), "DC", 100.0)
    sliced = Charge(Vehicle(**vars(template)), "DC", 100.0)
    whole.advance(1800.0)
    for _ in range(splits):
        sliced.advance(1800.0 / splits)
    assert sliced.energy_wh == pytest.approx(whole.energy_wh, rel=0.01)
