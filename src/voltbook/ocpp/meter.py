"""Meter values of either version turned into domain samples."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from voltbook.charging.model import MeterSample
from voltbook.ocpp.protocol import ErrorKind, OcppError

_ENERGY = "Energy.Active.Import.Register"
_POWER = "Power.Active.Import"
_SOC = "SoC"
_SCALE = {"Wh": 1.0, "kWh": 1000.0, "W": 1.0, "kW": 1000.0, "Percent": 1.0}


def parse_time(text: str) -> datetime:
    """An RFC 3339 timestamp (the schema check has already required a time zone)."""
    try:
        return datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise OcppError(ErrorKind.PROPERTY, f"not an RFC 3339 timestamp: {text[:40]}") from None


def samples(meter_values: list[dict[str, Any]]) -> list[MeterSample]:
    """One sample per meterValue entry, keeping energy (Wh), power (W) and SoC (%)."""
    out: list[MeterSample] = []
    for entry in meter_values:
        readings: dict[str, float] = {}
        for sampled in entry.get("sampledValue", []):
            measurand = sampled.get("measurand", _ENERGY)
            if measurand not in (_ENERGY, _POWER, _SOC) or measurand in readings:
                continue
            if sampled.get("phase") or sampled.get("format") == "SignedData":
                continue  # per-phase and signed readings duplicate the totals
            unit_info = sampled.get("unitOfMeasure") or {}
            unit = sampled.get("unit") or unit_info.get("unit") or _default_unit(measurand)
            multiplier = 10.0 ** int(unit_info.get("multiplier", 0))
            readings[measurand] = _number(sampled.get("value")) * multiplier * _SCALE.get(unit, 1.0)
        out.append(
            MeterSample(
                at=parse_time(entry["timestamp"]),
                energy_wh=readings.get(_ENERGY),
                power_w=readings.get(_POWER),
                soc_percent=readings.get(_SOC),
            )
        )
    return out


def last_energy_wh(found: list[MeterSample]) -> float | None:
    readings = [s for s in found if s.energy_wh is not None]
    return max(readings, key=lambda s: s.at).energy_wh if readings else None


def _default_unit(measurand: str) -> str:
    return {"SoC": "Percent", _POWER: "W"}.get(measurand, "Wh")


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise OcppError(ErrorKind.PROPERTY, "a sampled value is not a number") from None
    if not math.isfinite(number):
        raise OcppError(ErrorKind.PROPERTY, "a sampled value is not a finite number")
    return number
