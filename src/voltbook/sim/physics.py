"""Charging physics: vehicles, charging curves and energy integration.

Power is what the grid delivers (the meter reads it); the battery receives it less the
charger/onboard-charger losses. AC charging is flat until the battery management system
tapers near full; DC charging holds its peak up to about 80 % state of charge and then
tapers steeply, the way real fast-charging curves do.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

AC_CHARGER_KW = (7.2, 7.4, 9.6, 11.0)
DC_CHARGER_KW = (50.0, 62.5, 100.0, 120.0, 150.0)
AC_ONBOARD_KW = (7.2, 7.4, 11.0)
DC_VEHICLE_KW = (50.0, 75.0, 100.0, 150.0, 200.0)
AC_EFFICIENCY = 0.90
DC_EFFICIENCY = 0.95
AC_VOLTAGE = 230.0
DC_TAPER_FROM = 80.0  # SoC (%) above which DC power tapers
AC_TAPER_FROM = 95.0
MAX_STEP_S = 10.0  # integration sub-step, simulated seconds


def is_dc(power_type: str) -> bool:
    """The API's power types are "AC", "AC_1_PHASE", "AC_3_PHASE", "DC"."""
    return power_type.upper().startswith("DC")


def charger_power_kw(power_type: str, max_power_kw: float | None, rng: random.Random) -> float:
    """The rated power of a charger: the station's value, else a typical one for its type."""
    if max_power_kw is not None and max_power_kw > 0:
        return float(max_power_kw)
    return float(rng.choice(DC_CHARGER_KW if is_dc(power_type) else AC_CHARGER_KW))


@dataclass
class Vehicle:
    capacity_kwh: float
    soc: float  # percent
    target_soc: float  # percent; the car stops drawing power here
    max_ac_kw: float
    max_dc_kw: float

    @classmethod
    def random(cls, rng: random.Random) -> Vehicle:
        return cls(
            capacity_kwh=round(rng.uniform(40.0, 100.0), 1),
            soc=round(rng.uniform(10.0, 60.0), 1),
            target_soc=round(rng.uniform(80.0, 100.0), 1),
            max_ac_kw=rng.choice(AC_ONBOARD_KW),
            max_dc_kw=rng.choice(DC_VEHICLE_KW),
        )

    @property
    def full(self) -> bool:
        return self.soc >= self.target_soc - 1e-9


def power_at_kw(dc: bool, charger_kw: float, vehicle: Vehicle, soc: float) -> float:
    """Grid power drawn at a given state of charge (before the target cut-off)."""
    if soc >= 100.0:
        return 0.0
    if dc:
        peak = min(charger_kw, vehicle.max_dc_kw)
        if soc <= DC_TAPER_FROM:
            # Slight ramp-up below 10 % as the battery warms and the voltage rises.
            return peak * (0.85 + 0.015 * soc) if soc < 10.0 else peak
        remaining = (100.0 - soc) / (100.0 - DC_TAPER_FROM)
        return peak * (0.08 + 0.92 * math.pow(remaining, 1.6))
    peak = min(charger_kw, vehicle.max_ac_kw)
    if soc <= AC_TAPER_FROM:
        return peak
    return peak * max(0.25, (100.0 - soc) / (100.0 - AC_TAPER_FROM))


class Charge:
    """One vehicle on one charger: integrates energy over simulated time."""

    def __init__(self, vehicle: Vehicle, power_type: str, charger_kw: float) -> None:
        self.vehicle = vehicle
        self.dc = is_dc(power_type)
        self.charger_kw = charger_kw
        self.efficiency = DC_EFFICIENCY if self.dc else AC_EFFICIENCY
        self.energy_wh = 0.0  # delivered by the grid (what the meter counts)
        self.power_kw = self._power()

    def _power(self) -> float:
        if self.vehicle.full:
            return 0.0
        return power_at_kw(self.dc, self.charger_kw, self.vehicle, self.vehicle.soc)

    @property
    def voltage(self) -> float:
        """A plausible supply voltage for the Voltage / Current.Import measurands."""
        if not self.dc:
            return AC_VOLTAGE
        return 350.0 + 0.5 * self.vehicle.soc

    def advance(self, seconds: float) -> float:
        """Charge for `seconds` of simulated time; return the grid energy added (Wh)."""
        added = 0.0
        left = max(0.0, seconds)
        vehicle = self.vehicle
        while left > 1e-9 and not vehicle.full:
            step = min(left, MAX_STEP_S)
            # Midpoint rule: power at the state of charge half-way through the step.
            p0 = self._power()
            mid_soc = vehicle.soc + self._soc_gain(p0 * step / 3600.0) / 2
            p_mid = power_at_kw(self.dc, self.charger_kw, vehicle, min(mid_soc, 100.0))
            grid_kwh = p_mid * step / 3600.0
            gain = self._soc_gain(grid_kwh)
            if vehicle.soc + gain > vehicle.target_soc:
                # Stop exactly at the target: only the needed part of the step is charged.
                needed = vehicle.target_soc - vehicle.soc
                grid_kwh *= needed / gain if gain > 0 else 0.0
                gain = needed
            vehicle.soc = min(100.0, vehicle.soc + gain)
            added += grid_kwh * 1000.0
            left -= step
        self.energy_wh += added
        self.power_kw = self._power()
        return added

    def _soc_gain(self, grid_kwh: float) -> float:
        return grid_kwh * self.efficiency / self.vehicle.capacity_kwh * 100.0

    def seconds_to_target(self, limit_s: float = 24 * 3600.0) -> float:
        """Simulated seconds until the target SoC, computed on a copy of the vehicle."""
        copy = Charge(
            Vehicle(**vars(self.vehicle)),
            "DC" if self.dc else "AC",
            self.charger_kw,
        )
        elapsed = 0.0
        while not copy.vehicle.full and elapsed < limit_s:
            copy.advance(60.0)
            elapsed += 60.0
        return elapsed
