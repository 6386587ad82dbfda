"""Reach, fit and ranking of recommended chargers, as plain data.

Reach: the vehicle's range less a safety margin, reach_km = range_km x (1 - margin / 100).

Score of a charger within reach (higher is better, between 0 and 1):

    score = 0.5 x (1 - distance / reach)            nearer is better
          + 0.35 x min(power_kw, 150) / 150          faster is better (150 kW and more: full)
          + 0.15 x (1 if an offer is active there)   an offer fills an idle charger

where power_kw = min(the connector's rated power, the vehicle's AC or DC limit for that
connector's power type). A connector whose power is unknown counts as 0 kW. Ties go to the
nearer charger, then to the station id.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

W_DISTANCE = 0.5
W_POWER = 0.35
W_OFFER = 0.15
FULL_POWER_KW = 150.0


@dataclass(frozen=True, slots=True)
class VehicleFacts:
    """What a recommendation needs to know of a vehicle."""

    id: str
    standards: frozenset[str]  # OCPI ConnectorType names
    max_ac_kw: float | None
    max_dc_kw: float | None
    range_km: float | None  # reported, or estimated from the SoC; None when unknown


@dataclass(frozen=True, slots=True)
class ChargePoint:
    """One available connector of a fitting standard, with the distance to it."""

    site_id: int
    site_name: str
    address: str
    city: str
    lat: float
    lon: float
    station_id: str
    evse_id: int
    connector_id: int
    standard: str
    power_type: str | None  # "AC", "DC" or unknown
    max_power_kw: float | None
    distance_m: float


@dataclass(frozen=True, slots=True)
class OfferSummary:
    id: int
    title: str
    kind: str  # percent_off, price_per_kwh
    value: float
    ends_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Recommendation:
    point: ChargePoint
    power_kw: float | None
    offers: tuple[OfferSummary, ...]
    score: float


def reach_m(range_km: float, margin_percent: float) -> float:
    """How far the vehicle may go to a charger, in metres, keeping the margin in reserve."""
    margin = min(max(margin_percent, 0.0), 100.0)
    return max(0.0, range_km * (1.0 - margin / 100.0) * 1000.0)


def power_kw(point: ChargePoint, vehicle: VehicleFacts) -> float | None:
    """The power this vehicle can draw from this connector, None when unknown."""
    if point.max_power_kw is None:
        return None
    limit = {"AC": vehicle.max_ac_kw, "DC": vehicle.max_dc_kw}.get(point.power_type or "")
    return point.max_power_kw if limit is None else min(point.max_power_kw, limit)


def score(distance_m: float, reach: float, power: float | None, has_offer: bool) -> float:
    nearness = 1.0 - distance_m / reach if reach > 0 else 0.0
    speed = min(power or 0.0, FULL_POWER_KW) / FULL_POWER_KW
    value = W_DISTANCE * max(0.0, nearness) + W_POWER * speed + (W_OFFER if has_offer else 0.0)
    return round(value, 6) if math.isfinite(value) else 0.0


def rank(
    points: list[ChargePoint],
    vehicle: VehicleFacts,
    reach: float,
    offers: dict[str, list[OfferSummary]],
    limit: int,
) -> list[Recommendation]:
    """The best connector of each EVSE within reach, best score first."""
    best: dict[tuple[str, int], Recommendation] = {}
    for point in points:
        if point.distance_m > reach or point.standard not in vehicle.standards:
            continue
        power = power_kw(point, vehicle)
        there = tuple(offers.get(point.station_id, ()))
        item = Recommendation(
            point, power, there, score(point.distance_m, reach, power, bool(there))
        )
        key = (point.station_id, point.evse_id)
        if key not in best or _order(item) < _order(best[key]):
            best[key] = item
    return sorted(best.values(), key=_order)[:limit]


def _order(item: Recommendation) -> tuple[float, float, str, int, int]:
    p = item.point
    return (-item.score, p.distance_m, p.station_id, p.evse_id, p.connector_id)
