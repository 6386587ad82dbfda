"""The city simulation's own rules, on voltbook's rules in memory (the study itself runs on a
real server: tests/e2e/test_city_smoke.py)."""

from __future__ import annotations

import math

import pytest

from voltbook.city import demand, metrics, network, params
from voltbook.city.ledger import Arm, Ledger, Outcome, Use
from voltbook.city.memory import run_in_memory

P = params.load()


def test_every_parameter_has_a_source_and_the_file_a_hash() -> None:
    assert P.values
    assert set(P.values) == set(P.sources)
    assert all(P.sources.values())
    assert len(P.sha256) == 64
    changed = P.with_values(offers__elasticity=0.5)
    assert changed["offers.elasticity"] == 0.5
    assert changed.sha256 != P.sha256
    with pytest.raises(KeyError):
        P.with_values(offers__nonsense=1)


def test_the_boston_city_has_at_least_300_chargers_of_one_metro() -> None:
    city = network.boston(P)
    assert len(city.chargers) >= 300
    lat0, lon0 = city.centre
    assert max(network.distance_km(lat0, lon0, s.lat, s.lon) for s in city.sites) < 15


def test_the_dense_network_follows_the_urbanev_statistics() -> None:
    city = network.dense(P)
    area = math.pi * P.num("network.dense_radius_km") ** 2
    assert len(city.sites) == round(P.num("network.dense_stations_per_km2") * area)
    piles = sorted(s.chargers for s in city.sites)
    assert 6 <= piles[len(piles) // 2] <= 12  # UrbanEV's median is 9
    assert all(c.dc for c in city.chargers)


def test_the_same_seed_draws_the_same_needs_and_faults_for_every_arm() -> None:
    city = network.boston(P, 60)
    assert demand.needs(P, city, 1, seed=5) == demand.needs(P, city, 1, seed=5)
    assert demand.needs(P, city, 1, seed=5) != demand.needs(P, city, 1, seed=6)
    assert demand.faults(P, city, 1, seed=5) == demand.faults(P, city, 1, seed=5)


def test_stress_lifts_arrivals_and_the_holiday_surges() -> None:
    city = network.boston(P, 60)
    plain = demand.needs(P, city, 7, seed=1)
    stressed = demand.needs(P, city, 7, seed=1, stress=demand.stress_factor(P))
    assert len(stressed) > 2 * len(plain)
    per_day = [sum(1 for n in plain if int(n.at_s // demand.DAY_S) == d) for d in range(7)]
    holiday = int(P["demand.holiday_day"])
    assert per_day[holiday] > sum(per_day) / 7


def test_a_week_in_memory_lands_near_the_mean_utilisation() -> None:
    ledger = run_in_memory(P, network.boston(P, 120), Arm.B1, 7, seed=2)
    figures = metrics.figures(ledger)
    assert 0.07 <= figures.utilisation_mean <= 0.25  # target 15 %
    assert 0.03 <= figures.share_faulted <= 0.15  # 10 % of chargers' time
    assert 0 <= figures.unresolved_share < 0.02  # only drivers still on their way at the end
    shares = (figures.share_charging, figures.share_plugged_not_charging,
              figures.share_reserved_empty, figures.share_faulted, figures.share_idle)  # fmt: skip
    assert sum(shares) == pytest.approx(1.0)


def test_live_availability_fails_fewer_arrivals_than_driving_to_the_nearest_at_stress() -> None:
    city = network.boston(P, 80)
    stress = demand.stress_factor(P)
    b0 = metrics.figures(run_in_memory(P, city, Arm.B0, 2, seed=3, stress=stress))
    b1 = metrics.figures(run_in_memory(P, city, Arm.B1, 2, seed=3, stress=stress))
    assert b0.arrivals == b1.arrivals  # the same drivers
    assert b1.failed_share < b0.failed_share
    assert b1.search_wait_mean_min < b0.search_wait_mean_min


def test_bookings_hold_chargers_and_no_shows_leave_them_reserved_and_empty() -> None:
    city = network.boston(P, 80)
    ledger = run_in_memory(P, city, Arm.T1, 2, seed=4, stress=2.0)
    figures = metrics.figures(ledger)
    booked = [o for o in ledger.outcomes if o.booked]
    assert booked
    assert figures.share_reserved_empty > 0
    no_shows = [o for o in ledger.outcomes if o.need_id < 0]
    assert no_shows
    assert not any(o.honoured for o in no_shows)


def test_figures_of_a_hand_made_ledger() -> None:
    ledger = Ledger(Arm.B1, 86_400.0, ["a/1", "a/2", "b/1", "b/2"])
    ledger.outcomes += [
        Outcome(0, True, 600.0, "a/1", kwh=10.0),
        Outcome(1, True, 1200.0, "a/1", kwh=20.0),
        Outcome(2, False, 1800.0),
    ]
    ledger.span("a/1", Use.CHARGING, 0, 21_600)
    ledger.span("a/1", Use.PLUGGED, 21_600, 43_200)
    ledger.span("b/1", Use.FAULTED, 0, 86_400)
    f = metrics.figures(ledger)
    assert f.arrivals == 3
    assert f.failed_share == pytest.approx(1 / 3)
    assert f.search_wait_mean_min == pytest.approx(20.0)
    assert f.sessions_per_charger_day == pytest.approx(0.5)
    assert f.kwh_per_charger_day == pytest.approx(7.5)
    assert f.least_quarter_sessions_per_charger_day == 0
    assert f.share_charging == pytest.approx(0.0625)
    assert f.share_faulted == pytest.approx(0.25)
    assert f.share_idle == pytest.approx(0.625)
    assert f.utilisation_cv == pytest.approx(math.sqrt(3))  # one charger used, three not


def test_a_paired_interval_is_the_t_interval_of_the_differences() -> None:
    interval = metrics.paired([2.0, 3.0, 4.0], [1.0, 1.0, 1.0])
    assert interval.mean == pytest.approx(2.0)
    assert interval.low == pytest.approx(2.0 - 4.303 * 1.0 / math.sqrt(3))
    assert metrics.paired([1.0], [0.0]).runs == 1
    assert math.isnan(metrics.mean_interval([]).mean)
