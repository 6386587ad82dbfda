"""Vehicles as plain data: what a vehicle is (battery, plugs, charging limits) and what is
last known of its state (state of charge, range).

Connector standards are OCPI 2.2.1 ConnectorType names (IEC_62196_T1_COMBO, …); entry points
translate the names people use before they reach this area.

State rules:

- A report (from the app, or from a charger's meter values) never replaces a newer one.
- A report that gives a range sets it. One that gives only the state of charge keeps the
  range in step with it: the last known range is scaled by new SoC / last SoC when both were
  known (km per percent stays the same), and is dropped (unknown) otherwise.
- When the range is unknown but the SoC is known, the range is estimated as
  SoC x battery_kwh / consumption (`estimated_range_km`, consumption in kWh per km).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import datetime

from voltbook.core.connectors import EvseRef
from voltbook.core.errors import InvalidInput

MAX_NAME = 100
MIN_BATTERY_KWH = 1.0
MAX_BATTERY_KWH = 300.0
MAX_AC_KW = 50.0
MAX_DC_KW = 1_000.0  # megawatt charging of trucks reaches this
MAX_RANGE_KM = 2_000.0
MAX_STANDARDS = 10
STANDARD_PATTERN = r"^[A-Za-z0-9_]{1,32}$"
# No control characters; no spaces at either end. Spelled out so that JSON Schema (ECMA) and
# Python regex engines, which disagree on what \s covers, accept the same names.
_NAME_CHAR = r"[^\x00-\x1f\x7f-\x9f]"
_NAME_EDGE = r"[^\s\x00-\x1f\x7f-\x9f]"
NAME_PATTERN = rf"^{_NAME_EDGE}({_NAME_CHAR}*{_NAME_EDGE})?$"
_NAME = re.compile(NAME_PATTERN)
_STANDARD = re.compile(STANDARD_PATTERN)


@dataclass(frozen=True, slots=True)
class VehicleSpec:
    """What a driver says a vehicle is."""

    name: str
    battery_kwh: float
    standards: tuple[str, ...]
    max_ac_kw: float | None = None
    max_dc_kw: float | None = None

    def validated(self) -> VehicleSpec:
        """The spec with a trimmed name and each plug listed once, or InvalidInput."""
        name = self.name.strip()
        if not 1 <= len(name) <= MAX_NAME or not _NAME.match(name):
            raise InvalidInput(f"name must have 1 to {MAX_NAME} characters, none a control one")
        if not _within(self.battery_kwh, MIN_BATTERY_KWH, MAX_BATTERY_KWH):
            raise InvalidInput(
                f"battery_kwh must be between {MIN_BATTERY_KWH:g} and {MAX_BATTERY_KWH:g}"
            )
        standards = tuple(dict.fromkeys(self.standards))
        if not 1 <= len(standards) <= MAX_STANDARDS:
            raise InvalidInput(f"a vehicle takes 1 to {MAX_STANDARDS} connector standards")
        if not all(_STANDARD.match(s) for s in standards):
            raise InvalidInput("connector standards must be OCPI ConnectorType names")
        for field, value, top in (
            ("max_ac_kw", self.max_ac_kw, MAX_AC_KW),
            ("max_dc_kw", self.max_dc_kw, MAX_DC_KW),
        ):
            if value is not None and not (_within(value, 0.0, top) and value > 0):
                raise InvalidInput(f"{field} must be more than 0 and at most {top:g}")
        return replace(self, name=name, standards=standards)


@dataclass(frozen=True, slots=True)
class Vehicle:
    id: str
    driver_id: str
    name: str
    battery_kwh: float
    standards: tuple[str, ...]
    max_ac_kw: float | None
    max_dc_kw: float | None
    created_at: datetime
    soc_percent: float | None = None
    range_km: float | None = None
    reported_at: datetime | None = None

    @classmethod
    def new(cls, vehicle_id: str, driver_id: str, spec: VehicleSpec, at: datetime) -> Vehicle:
        spec = spec.validated()
        return cls(
            id=vehicle_id,
            driver_id=driver_id,
            name=spec.name,
            battery_kwh=spec.battery_kwh,
            standards=spec.standards,
            max_ac_kw=spec.max_ac_kw,
            max_dc_kw=spec.max_dc_kw,
            created_at=at,
        )

    @property
    def spec(self) -> VehicleSpec:
        return VehicleSpec(
            self.name, self.battery_kwh, self.standards, self.max_ac_kw, self.max_dc_kw
        )

    def described(self, spec: VehicleSpec) -> Vehicle:
        """The vehicle with a new description; its last known state stays."""
        spec = spec.validated()
        return replace(
            self,
            name=spec.name,
            battery_kwh=spec.battery_kwh,
            standards=spec.standards,
            max_ac_kw=spec.max_ac_kw,
            max_dc_kw=spec.max_dc_kw,
        )

    def reported(self, soc_percent: float | None, range_km: float | None, at: datetime) -> Vehicle:
        """The vehicle after a state report; an older report than the stored one changes
        nothing (see the module's rules)."""
        check_state(soc_percent, range_km)
        if self.reported_at is not None and at <= self.reported_at:
            return self
        if range_km is None and soc_percent is not None:
            range_km = self._range_at(soc_percent)
        return replace(self, soc_percent=soc_percent, range_km=range_km, reported_at=at)

    def estimated_range_km(self, kwh_per_km: float) -> float | None:
        """The reported range, else one estimated from the SoC; None when neither is known."""
        if self.range_km is not None:
            return self.range_km
        if self.soc_percent is None or kwh_per_km <= 0:
            return None
        return self.soc_percent / 100.0 * self.battery_kwh / kwh_per_km

    def _range_at(self, soc_percent: float) -> float | None:
        if self.range_km is None or not self.soc_percent:
            return None
        return min(MAX_RANGE_KM, self.range_km * soc_percent / self.soc_percent)


def check_state(soc_percent: float | None, range_km: float | None) -> None:
    if soc_percent is None and range_km is None:
        raise InvalidInput("a report needs soc_percent, range_km or both")
    if soc_percent is not None and not _within(soc_percent, 0.0, 100.0):
        raise InvalidInput("soc_percent must be between 0 and 100")
    if range_km is not None and not _within(range_km, 0.0, MAX_RANGE_KM):
        raise InvalidInput(f"range_km must be between 0 and {MAX_RANGE_KM:g}")


@dataclass(frozen=True, slots=True)
class ChargingSessionRef:
    """A running charging session, as far as finding the vehicle it charges goes.

    The vehicle is, in this order: the vehicle named by the booking the session started
    with (its reservation id); else the vehicle of a fulfilled booking of the same id tag at
    the same station and EVSE whose window contains the session's start (a booking fulfilled
    by the holder's id tag); else the one vehicle of the driver who owns the id tag, when
    that driver has exactly one. Otherwise the SoC stays on the session only.
    """

    evse: EvseRef
    session_id: int
    id_tag: str | None
    reservation_id: int | None
    started_at: datetime

    @property
    def station_id(self) -> str:
        return self.evse.station_id

    @property
    def evse_id(self) -> int:
        return self.evse.evse_id


def _within(value: float, low: float, high: float) -> bool:
    return math.isfinite(value) and low <= value <= high
