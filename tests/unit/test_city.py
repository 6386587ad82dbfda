"""The city simulation's own rules, on voltbook's rules in memory (the study itself runs on a
real server: tests/e2e/test_city_smoke.py)."""

from __future__ import annotations

import math

import pytest

from voltbook.city import choice, demand, metrics, network, params
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


def test_the_dense_network_is_the_urbanev_zones_nearest_its_centre_split_into_stations() -> None:
    city = network.dense(P)
    zones = {s.id.split("-")[0] for s in city.sites}
    wanted = int(P["network.dense_min_chargers"])
    assert len(city.chargers) >= wanted
    piles = {f"SZ{z['TAZID']}": int(z["charge_count"]) for z in network.urbanev_zones()}
    assert len(city.chargers) == sum(piles[z] for z in zones)  # every pile of each zone
    assert len(city.chargers) - max(piles[z] for z in zones) < wanted  # no zone beyond
    sizes = sorted(s.chargers for s in city.sites)
    assert 5 <= sizes[len(sizes) // 2] <= 12  # stations of about the assumed median, 9
    assert all(c.dc for c in city.chargers)
    assert city.dc_power_kw == P.num("network.dense_dc_power_kw")
    lat0, lon0 = city.centre
    assert max(network.distance_km(lat0, lon0, s.lat, s.lon) for s in city.sites) < 5
    # denser for a driver: at least twice the chargers within the choice radius of the centre
    reach = P.num("drivers.choice_radius_km")

    def within(c: network.Network) -> int:
        return sum(network.distance_km(*c.centre, s.lat, s.lon) <= reach for s in c.sites
                   for _ in range(s.chargers))  # fmt: skip

    assert within(city) >= 2 * within(network.boston(P))


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
    nearest = run_in_memory(P, city, Arm.B0, 2, seed=3, stress=stress)
    informed = run_in_memory(P, city, Arm.B1, 2, seed=3, stress=stress)
    assert nearest.started == informed.started  # the same drivers
    b0, b1 = metrics.figures(nearest), metrics.figures(informed)
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


def test_offer_acceptance_has_the_stated_price_elasticity_and_falls_with_detour() -> None:
    accept = choice.Acceptance(P)
    d = P.num("offers.discount_percent")
    p0 = accept.probability(d, 0.0, 0.0)
    # point elasticity of acceptance with respect to the price (1 - discount)
    step = 0.01
    p1 = accept.probability(d + step * 100 * (1 - d / 100), 0.0, 0.0)  # price 1 % lower
    elasticity = (p1 - p0) / p0 / step
    assert elasticity == pytest.approx(P.num("offers.elasticity"), rel=0.05)
    assert accept.probability(d, 2.0, 0.0) < p0 < accept.probability(d, 0.0, 10.0)
    assert accept.probability(0.0, 0.0, 0.0) == pytest.approx(choice.logistic(-1.0))
    steeper = choice.Acceptance(P.with_values(offers__elasticity=1.5))
    assert steeper.probability(d, 0.0, 0.0) > p0


def test_offers_send_drivers_to_idle_chargers_and_their_discount_is_counted() -> None:
    city = network.boston(P, 80)
    stress = demand.stress_factor(P)
    b1 = run_in_memory(P, city, Arm.B1, 2, seed=5, stress=stress)
    t2 = run_in_memory(P, city, Arm.T2, 2, seed=5, stress=stress)
    assert not any(o.offered for o in b1.outcomes)
    offered = [o for o in t2.outcomes if o.offered]
    accepted = [o for o in offered if o.accepted]
    assert offered
    assert accepted
    assert len(accepted) < len(offered)  # a logit, not a rule
    redeemed = [o for o in accepted if o.discount > 0]
    assert redeemed
    for o in redeemed:  # the discount is the offer's share of the price of what was charged
        assert o.discount == pytest.approx(
            P.num("offers.discount_percent") / 100 * o.kwh * P.num("offers.price_per_kwh")
        )
    figures = metrics.figures(t2)
    assert 0 < figures.accepted_share < 1
    assert figures.discount_per_charger_day > 0
    assert math.isnan(metrics.figures(b1).offered_share)


def test_t3_books_the_offered_charger_on_the_account_that_got_the_offer() -> None:
    city = network.boston(P, 80)
    ledger = run_in_memory(P, city, Arm.T3, 2, seed=6, stress=demand.stress_factor(P))
    # booked at the offered site, first site tried, and the booking honoured: redeemed
    taken = [o for o in ledger.outcomes if o.accepted and o.booked and o.honoured
             and o.charged and o.sites_tried == 1]  # fmt: skip
    assert taken
    assert all(o.discount > 0 for o in taken)
    assert any(o.moved for o in taken)  # some went where they would not have gone


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
