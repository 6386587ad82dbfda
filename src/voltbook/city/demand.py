"""Who needs a charge, where and when, and which chargers break: drawn once per run from
the parameters, the same for every arm (common random numbers)."""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass

from voltbook.city.network import Charger, Network, distance_km
from voltbook.city.params import Parameters

DAY_S = 86_400.0
HOUR_S = 3_600.0


@dataclass(frozen=True)
class Need:
    """A driver who needs a charge: where, when, what for, and how they behave."""

    id: int
    at_s: float  # simulated seconds from the run's start
    lat: float
    lon: float
    dc: bool
    standards: tuple[str, ...]
    energy_kwh: float
    connect_s: float  # how long the car stays plugged once charging starts
    tolerance_km: float  # the farthest a driver goes for a charge
    patience_s: float  # how long they wait in a queue before leaving
    no_show: bool  # books and then does not come (reservation arms)
    draw: float  # a uniform number for choices (offer acceptance), the same in every arm
    consents: bool = False  # shares position and takes offers (offer arms)


@dataclass(frozen=True)
class Fault:
    charger: str  # Charger.key
    start_s: float
    end_s: float


def _rng(seed: int, stream: str) -> random.Random:
    return random.Random(f"{seed}:{stream}")  # noqa: S311 - simulation draws, not secrets


def lognormal_mean(median: float, sigma: float) -> float:
    return median * math.exp(sigma**2 / 2)


def stress_factor(params: Parameters) -> float:
    """Arrivals multiplier that lifts the busiest hour from the mean level to the stress level
    (approximate: occupancy lags arrivals by the session length)."""
    peak = float(max(params["demand.hourly_shape"])) / _shape_mean(params)
    return params.num("demand.stress_peak_utilisation") / (
        params.num("demand.mean_utilisation") * peak
    )


def _shape_mean(params: Parameters) -> float:
    shape = params["demand.hourly_shape"]
    return float(sum(shape)) / len(shape)


def needs(
    params: Parameters, network: Network, days: float, seed: int, *, stress: float = 1.0
) -> list[Need]:
    """Arrivals by zone and hour at the mean utilisation (times `stress`), holiday surge on
    the holiday, for AC and DC chargers separately (each at its own session length)."""
    rng = _rng(seed, "needs")
    chargers = network.chargers
    lat0, lon0 = network.centre
    core = params.num("demand.core_radius_km")

    def weight(c: Charger) -> float:
        inner = distance_km(lat0, lon0, c.site.lat, c.site.lon) <= core
        return params.num("demand.core_weight") if inner else 1.0

    ac_hours = lognormal_mean(params.num("sessions.ac_connect_median_h"),
                              params.num("sessions.ac_connect_sigma"))  # fmt: skip
    dc_hours = lognormal_mean(params.num("sessions.dc_connect_median_min") / 60,
                              params.num("sessions.dc_connect_sigma"))  # fmt: skip
    shape = [v / _shape_mean(params) for v in params["demand.hourly_shape"]]
    out: list[Need] = []
    for dc, hours in ((False, ac_hours), (True, dc_hours)):
        pool = [c for c in chargers if c.dc == dc]
        if not pool:
            continue
        weights = [weight(c) for c in pool]
        per_hour = params.num("demand.mean_utilisation") * len(pool) / hours * stress
        t = 0.0
        for hour in range(math.ceil(days * 24)):
            surge = params.num("demand.holiday_surge") if hour // 24 == int(
                params["demand.holiday_day"]) else 1.0  # fmt: skip
            rate = per_hour * shape[hour % 24] * surge / HOUR_S
            t = hour * HOUR_S + rng.expovariate(rate)
            while t < min((hour + 1) * HOUR_S, days * DAY_S):
                near = rng.choices(pool, weights)[0]
                out.append(_need(params, rng, t, near, dc))
                t += rng.expovariate(rate)
    out.sort(key=lambda n: n.at_s)
    return [dataclasses.replace(n, id=i) for i, n in enumerate(out)]


def _need(params: Parameters, rng: random.Random, t: float, near: Charger, dc: bool) -> Need:
    spread = params.num("demand.origin_spread_km")
    lat = near.site.lat + rng.gauss(0, spread) / 111.2
    lon = near.site.lon + rng.gauss(0, spread) / (111.2 * math.cos(math.radians(lat)))
    soc = min(0.8, max(0.05, rng.gauss(params.num("sessions.soc_at_need_mean"),
                                       params.num("sessions.soc_at_need_sd"))))  # fmt: skip
    energy = max(
        1.0, (params.num("sessions.target_soc") - soc) * params.num("sessions.battery_kwh")
    )
    if dc:
        connect = 60 * rng.lognormvariate(math.log(params.num("sessions.dc_connect_median_min")),
                                          params.num("sessions.dc_connect_sigma"))  # fmt: skip
        standards = tuple(s for s in near.site.standards if s in ("CCS1", "GBT", "NACS", "CHADEMO"))
    else:
        connect = HOUR_S * rng.lognormvariate(math.log(params.num("sessions.ac_connect_median_h")),
                                              params.num("sessions.ac_connect_sigma"))  # fmt: skip
        standards = ("J1772",)
    return Need(
        id=0, at_s=t, lat=lat, lon=lon, dc=dc, standards=standards[:1] or ("CCS1",),
        energy_kwh=energy, connect_s=connect,
        tolerance_km=rng.lognormvariate(math.log(params.num("drivers.detour_tolerance_median_km")),
                                        params.num("drivers.detour_tolerance_sigma")),
        patience_s=60 * rng.expovariate(1 / params.num("drivers.patience_mean_min")),
        no_show=rng.random() < params.num("reservations.no_show_share"),
        draw=rng.random(),
        consents=rng.random() < params.num("offers.consent_share"),
    )  # fmt: skip


def faults(params: Parameters, network: Network, days: float, seed: int) -> list[Fault]:
    """Each charger alternates working and faulted so that `faulty_share` of the time is
    faulted; a fault lasts `fault_mean_h` on average (exponential)."""
    rng = _rng(seed, "faults")
    share = params.num("drivers.faulty_share")
    down_s = params.num("drivers.fault_mean_h") * HOUR_S
    up_s = down_s * (1 - share) / share if share > 0 else math.inf
    horizon = days * DAY_S
    out: list[Fault] = []
    for charger in network.chargers:
        t = 0.0 if rng.random() < share else rng.expovariate(1 / up_s)
        while t < horizon:
            end = t + rng.expovariate(1 / down_s)
            out.append(Fault(charger.key, t, min(end, horizon)))
            t = end + rng.expovariate(1 / up_s)
    return out
