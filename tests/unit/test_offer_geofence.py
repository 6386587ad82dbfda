"""The offer rules, quiet hours, and the geofence that finds the offers around a point."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from voltbook.core.errors import InvalidInput
from voltbook.core.geo import EARTH_RADIUS_M, great_circle_m
from voltbook.offers.geofence import OfferIndex, Presence
from voltbook.offers.model import Area, DriverProfile, Offer, OfferKind, Trigger

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def make(offer_id: int = 1, **fields: object) -> Offer:
    values: dict[str, object] = {
        "title": "Evening deal",
        "kind": OfferKind.PERCENT_OFF,
        "value": 20.0,
        "area": Area(42.36, -71.06, 5_000.0),
        "trigger": Trigger.AREA_ENTRY,
        "starts_at": T0,
        "ends_at": T0 + timedelta(hours=4),
        "id": offer_id,
    }
    values.update(fields)
    return Offer(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"value": 0.0}, "percent_off"),
        ({"value": 100.5}, "percent_off"),
        ({"kind": OfferKind.PRICE_PER_KWH, "value": -0.01}, "price_per_kwh"),
        ({"area": Area(42.36, -71.06, 999.0)}, "radius_m"),
        ({"area": Area(42.36, -71.06, 50_001.0)}, "radius_m"),
        ({"area": Area(91.0, -71.06, 5_000.0)}, "centre"),
        ({"ends_at": T0}, "before ends_at"),
        ({"trigger": Trigger.IDLE_STATION}, "idle_minutes"),
        ({"trigger": Trigger.LOW_SOC}, "soc_below"),
        ({"trigger": Trigger.LOW_SOC, "soc_below": 0.0}, "soc_below"),
        ({"idle_minutes": 10}, "idle_station offers only"),
        ({"soc_below": 20.0}, "low_soc offers only"),
        ({"max_per_driver": 0}, "max_per_driver"),
        ({"max_redemptions": 0}, "max_redemptions"),
        ({"title": "  "}, "title"),
    ],
)
def test_an_offer_that_breaks_a_rule_is_refused_with_the_rule_named(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        make(**fields).check()


def test_offers_within_the_rules_pass() -> None:
    make().check()
    make(kind=OfferKind.PRICE_PER_KWH, value=0.0).check()
    make(value=100.0, area=Area(0.0, 180.0, 50_000.0)).check()
    make(trigger=Trigger.IDLE_STATION, idle_minutes=15, max_redemptions=10).check()
    make(trigger=Trigger.LOW_SOC, soc_below=25.0, max_per_driver=3).check()


@pytest.mark.parametrize(
    ("quiet", "zone", "utc_time", "quiet_now"),
    [
        ("22:00-07:00", "America/New_York", "03:30", True),  # 22:30 the day before
        ("22:00-07:00", "America/New_York", "11:59", True),  # 06:59
        ("22:00-07:00", "America/New_York", "12:00", False),  # 07:00: the span has ended
        ("22:00-07:00", None, "23:00", True),  # no zone: UTC
        ("12:00-13:00", "Asia/Kolkata", "06:45", True),  # 12:15 in India
        ("08:00-08:00", None, "08:00", False),  # an empty span is no quiet hours
        ("not hours", None, "03:00", False),
        (None, None, "03:00", False),
    ],
)
def test_quiet_hours_are_read_in_the_drivers_time_zone(
    quiet: str | None, zone: str | None, utc_time: str, quiet_now: bool
) -> None:
    hour, minute = (int(x) for x in utc_time.split(":"))
    at = datetime(2026, 3, 2, hour, minute, tzinfo=UTC)
    assert DriverProfile("ann", True, quiet, zone).quiet_at(at) is quiet_now


def test_the_index_finds_the_offers_whose_circle_holds_the_point() -> None:
    near = make(1, area=Area(42.36, -71.06, 1_000.0))
    wide = make(2, area=Area(42.40, -71.10, 20_000.0))
    index = OfferIndex([near, wide])

    assert {o.id for o in index.containing(42.36, -71.06)} == {1, 2}
    assert {o.id for o in index.containing(42.372, -71.06)} == {2}  # 1.3 km from near's centre
    assert index.containing(43.5, -71.06) == []

    index.remove(2)
    assert {o.id for o in index.containing(42.36, -71.06)} == {1}
    assert len(index) == 1


def test_circles_across_the_antimeridian_are_found_on_both_sides() -> None:
    index = OfferIndex([make(1, area=Area(0.0, 179.99, 10_000.0))])

    assert [o.id for o in index.containing(0.0, -179.98)] == [1]
    assert [o.id for o in index.containing(0.0, 179.95)] == [1]
    assert index.containing(0.0, -179.0) == []


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cell=st.sampled_from([0.05, 0.1, 0.5]))
def test_the_index_answers_exactly_what_checking_every_offer_answers(
    seed: int, cell: float
) -> None:
    rng = random.Random(seed)
    offers = [
        make(
            i,
            area=Area(
                rng.uniform(-60, 60) if i % 3 == 0 else rng.uniform(42.0, 42.6),
                rng.uniform(-180, 180) if i % 3 == 0 else rng.uniform(-71.5, -70.9),
                rng.uniform(1_000.0, 50_000.0),
            ),
        )
        for i in range(1, 80)
    ]
    index = OfferIndex(offers, cell_deg=cell)
    for _ in range(200):
        lat = rng.uniform(41.8, 42.8) if rng.random() < 0.8 else rng.uniform(-61, 61)
        lon = rng.uniform(-71.8, -70.6) if rng.random() < 0.8 else rng.uniform(-180, 180)
        expected = {
            o.id
            for o in offers
            if great_circle_m(o.area.lat, o.area.lon, lat, lon) <= o.area.radius_m
        }
        assert {o.id for o in index.containing(lat, lon)} == expected
        assert index.containing_ids(lat, lon) == expected


@settings(max_examples=60, deadline=None)
@given(
    lat=st.floats(-80.0, 80.0),
    lon=st.floats(-180.0, 180.0),
    bearing=st.floats(0.0, 6.28),
    metres=st.floats(1_000.0, 50_000.0),
)
def test_a_point_on_the_boundary_is_inside_as_the_exact_distance_says(
    lat: float, lon: float, bearing: float, metres: float
) -> None:
    # A point about `metres` away; the circle's radius is its distance to the last bit.
    plat = max(-89.0, min(89.0, lat + math.degrees(metres / EARTH_RADIUS_M) * math.cos(bearing)))
    plon = lon + math.degrees(metres / EARTH_RADIUS_M) * math.sin(bearing)
    plon = (plon + 180.0) % 360.0 - 180.0
    radius = great_circle_m(lat, lon, plat, plon)
    assume(1_000.0 <= radius <= 50_000.0)
    on = make(1, area=Area(lat, lon, radius))
    short = make(2, area=Area(lat, lon, math.nextafter(radius, 0.0)))
    index = OfferIndex([on, short])

    assert index.containing_ids(plat, plon) == {1}
    assert [o.id for o in index.containing(plat, plon)] == [1]


def test_presence_reports_an_area_as_entered_only_when_the_last_position_was_outside() -> None:
    offer = make(1, area=Area(42.36, -71.06, 1_000.0))
    index = OfferIndex([offer])
    presence = Presence(timedelta(minutes=30))

    def move(lat: float, minutes: int) -> list[Offer]:
        at = T0 + timedelta(minutes=minutes)
        return presence.move("ann", lat, -71.06, at, index.locate(lat, -71.06), index)

    assert move(42.40, 0) == []
    assert move(42.36, 1) == [offer]
    assert move(42.361, 2) == []
    assert move(42.40, 3) == []
    # Silent for longer than a position lives: where they were is unknown, nothing entered.
    assert move(42.362, 40) == []


def test_an_offer_added_or_moved_over_a_driver_is_not_entered_by_them() -> None:
    index = OfferIndex()
    presence = Presence(timedelta(minutes=30))
    presence.move("ann", 42.36, -71.06, T0, index.locate(42.36, -71.06), index)
    index.put(make(1, area=Area(42.36, -71.06, 1_000.0)))
    index.put(make(2, area=Area(42.37, -71.06, 1_000.0)))  # ann was 1.1 km away: outside

    at = T0 + timedelta(minutes=1)
    entered = presence.move("ann", 42.365, -71.06, at, index.locate(42.365, -71.06), index)

    assert [o.id for o in entered] == [2]
    index.put(make(3, area=Area(42.30, -71.06, 1_000.0)))
    index.put(make(3, area=Area(42.366, -71.06, 5_000.0)))  # moved over where ann was
    at = T0 + timedelta(minutes=2)
    again = presence.move("ann", 42.366, -71.06, at, index.locate(42.366, -71.06), index)
    assert again == []


def test_a_first_report_enters_nothing() -> None:
    offer = make(1, area=Area(42.36, -71.06, 1_000.0))
    index = OfferIndex([offer])
    here = index.locate(42.36, -71.06)
    assert Presence(timedelta(minutes=30)).move("ann", 42.36, -71.06, T0, here, index) == []


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cell=st.sampled_from([0.02, 0.05, 0.1]))
def test_an_area_is_entered_when_the_last_position_was_outside_it_as_checking_every_offer_says(
    seed: int, cell: float
) -> None:
    # Drivers walk among offers that are added, moved and ended meanwhile. An offer is
    # entered when it holds the new position and did not hold the last one: as it was then
    # (the offers found there), or, for an offer added or moved since, as it is now.
    rng = random.Random(seed)

    def offer(offer_id: int) -> Offer:
        spot = Area(rng.uniform(42.2, 42.5), rng.uniform(-71.3, -70.9), rng.uniform(1e3, 2e4))
        return make(offer_id, area=spot)

    index = OfferIndex([offer(i) for i in range(1, 40)], cell_deg=cell)
    presence = Presence(timedelta(minutes=30))
    last: dict[str, tuple[float, float, set[int], int]] = {}  # where, what held it, when
    put_at: dict[int, int] = {}
    for step in range(300):
        draw = rng.random()
        if draw < 0.05:
            moved = offer(rng.randrange(1, 60))  # new, or moved
            index.put(moved)
            put_at[moved.id or 0] = step
        elif draw < 0.08:
            index.remove(rng.randrange(1, 60))
        driver = rng.choice("abc")
        lat, lon, held, when = last.get(driver, (42.35, -71.1, set(), -1))
        lat += rng.uniform(-0.01, 0.01)
        lon += rng.uniform(-0.01, 0.01)
        entered = presence.move(driver, lat, lon, T0, index.locate(lat, lon), index)
        areas = {o.id or 0: o.area for o in index.offers()}
        holding = {i for i, area in areas.items() if area.contains(lat, lon)}
        was = last.get(driver, (0.0, 0.0))[:2]
        expected = sorted(
            i
            for i in holding - held
            if when >= 0 and (put_at.get(i, -1) < when or not areas[i].contains(*was))
        )
        assert [o.id for o in entered] == expected, step
        assert index.containing_ids(lat, lon) == holding
        last[driver] = (lat, lon, holding, step)


def test_presence_forgets_old_positions() -> None:
    presence = Presence(timedelta(minutes=30))
    index = OfferIndex()
    presence.move("ann", 42.36, -71.06, T0, index.locate(42.36, -71.06), index)
    presence.move(
        "ben", 42.36, -71.06, T0 + timedelta(minutes=20), index.locate(42.36, -71.06), index
    )

    assert presence.forget_before(T0 + timedelta(minutes=10)) == 1
    assert presence.last("ann", T0 + timedelta(minutes=21)) is None
    assert presence.last("ben", T0 + timedelta(minutes=21)) == (42.36, -71.06)
    assert len(presence) == 1
