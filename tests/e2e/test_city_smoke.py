"""`voltbook simulate` on a small city: a real server of its own with accelerated time,
voltbook's own chargers over OCPP, drivers over HTTP and the live channel, arm T3 (bookings
and the operator's idle-charger offer); the figures are computed and sane (their values are
the study's business, not this test's). About 90 s on a loaded two-core machine."""

from __future__ import annotations

import math

import pytest

from voltbook.city import network, params
from voltbook.city.demand import stress_factor
from voltbook.city.ledger import Arm
from voltbook.city.runs import run_on_server


async def test_a_small_city_runs_on_a_real_server_and_its_figures_are_computed() -> None:
    p = params.load()
    city = network.boston(p, 20)
    run = await run_on_server(
        p, city, Arm.T3, days=0.4, seed=7, stress=stress_factor(p), scale=3600, drivers=4
    )
    f = run.figures
    assert f.arrivals > 0
    assert run.requests > f.arrivals  # every driver asked the server something
    assert run.errors == 0
    assert 0.0 <= f.failed_share <= 1.0
    assert any(o.charged for o in run.ledger.outcomes)  # a real charger started a session
    assert any(o.booked for o in run.ledger.outcomes)  # and the server took bookings
    assert f.search_wait_mean_min >= 0
    assert f.search_wait_p95_min >= f.search_wait_mean_min * 0.5
    assert f.sessions_per_charger_day > 0
    assert f.kwh_per_charger_day > 0
    shares = (f.share_charging, f.share_plugged_not_charging, f.share_reserved_empty,
              f.share_faulted, f.share_idle)  # fmt: skip
    assert sum(shares) == pytest.approx(1.0)
    assert all(0.0 <= s <= 1.0 for s in shares)
    assert not math.isnan(f.utilisation_cv)
    assert 0.0 <= f.offered_share <= 1.0  # drivers who share their position heard offers
    assert f.discount_per_charger_day >= 0.0
    assert run.redeemed >= 0  # the server's own count of redeeming sessions was read
    assert run.real_s < 60
