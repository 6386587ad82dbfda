"""Nearby-search rules: query validation, connector filters, ranking (stations/model.py)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.builders import connector
from voltbook.core.errors import InvalidInput
from voltbook.core.geo import EARTH_RADIUS_M, HALF_CIRCUMFERENCE_M, great_circle_m
from voltbook.stations.model import (
    MAX_NEARBY_LIMIT,
    MAX_RADIUS_M,
    ConnectorStatus,
    NearbyQuery,
    PowerType,
    SitePoint,
    rank_nearest,
)
from voltbook.stations.standards import Standard


def query(**overrides: Any) -> NearbyQuery:
    values: dict[str, Any] = {"lat": 42.3555, "lon": -71.0605, "radius_m": 5_000.0, "limit": 10}
    values.update(overrides)
    return NearbyQuery(**values)


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lat", 91.0, "lat must be between -90 and 90"),
        ("lat", -90.000001, "lat must be between -90 and 90"),
        ("lat", math.nan, "lat must be between -90 and 90"),
        ("lat", math.inf, "lat must be between -90 and 90"),
        ("lon", -181.0, "lon must be between -180 and 180"),
        ("lon", 180.5, "lon must be between -180 and 180"),
        ("lon", math.nan, "lon must be between -180 and 180"),
        ("radius_m", -1.0, "radius_m must be between 0 and"),
        ("radius_m", math.nan, "radius_m must be between 0 and"),
        ("radius_m", math.inf, "radius_m must be between 0 and"),
        ("radius_m", MAX_RADIUS_M + 1.0, "radius_m must be between 0 and"),
        ("limit", 0, "limit must be between 1 and 100"),
        ("limit", 101, "limit must be between 1 and 100"),
        ("limit", -5, "limit must be between 1 and 100"),
        ("min_power_kw", -0.1, "min_power_kw must be a non-negative number"),
        ("min_power_kw", math.nan, "min_power_kw must be a non-negative number"),
    ],
)
def test_a_query_outside_the_rules_is_refused(field: str, value: float, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        query(**{field: value})


@pytest.mark.parametrize(
    "overrides",
    [
        {"limit": MAX_NEARBY_LIMIT},
        {"limit": 1},
        {"radius_m": 0.0},
        {"radius_m": MAX_RADIUS_M},
        {"lat": 90.0, "lon": 180.0},
        {"lat": -90.0, "lon": -180.0},
        {"min_power_kw": 0.0},
    ],
)
def test_a_query_at_the_edge_of_the_rules_is_accepted(overrides: dict[str, Any]) -> None:
    made = query(**overrides)
    for field, value in overrides.items():
        assert getattr(made, field) == value


def test_the_search_radius_is_capped_at_half_the_circumference() -> None:
    assert query(radius_m=MAX_RADIUS_M).search_radius_m == HALF_CIRCUMFERENCE_M
    assert query(radius_m=1_234.0).search_radius_m == 1_234.0


def test_a_query_without_filters_does_not_filter_connectors() -> None:
    assert not query().filters_connectors


@pytest.mark.parametrize(
    "overrides",
    [
        {"standards": frozenset({Standard.CHADEMO})},
        {"power_type": PowerType.DC},
        {"min_power_kw": 50.0},
        {"available_only": True},
    ],
)
def test_any_connector_filter_makes_the_query_filter_connectors(
    overrides: dict[str, Any],
) -> None:
    assert query(**overrides).filters_connectors


# --- connector_matches --------------------------------------------------------------------

J1772 = connector(standard=Standard.IEC_62196_T1, power_type=PowerType.AC, max_power_kw=7.2)
CCS1_150 = connector(
    standard=Standard.IEC_62196_T1_COMBO, power_type=PowerType.DC, max_power_kw=150.0
)
UNKNOWN_POWER = connector(standard=Standard.CHADEMO, power_type=PowerType.DC, max_power_kw=None)
AVAILABLE = connector(status=ConnectorStatus.AVAILABLE)
CHARGING = connector(status=ConnectorStatus.CHARGING)


def test_without_filters_every_connector_matches() -> None:
    for plug in (J1772, CCS1_150, UNKNOWN_POWER, CHARGING):
        assert query().connector_matches(plug, station_online=False)


def test_the_standard_filter_keeps_only_the_listed_standards() -> None:
    wanted = query(standards=frozenset({Standard.IEC_62196_T1_COMBO, Standard.CHADEMO}))
    assert wanted.connector_matches(CCS1_150, station_online=False)
    assert wanted.connector_matches(UNKNOWN_POWER, station_online=False)
    assert not wanted.connector_matches(J1772, station_online=False)


def test_the_power_type_filter_keeps_only_that_current() -> None:
    dc = query(power_type=PowerType.DC)
    ac = query(power_type=PowerType.AC)
    assert dc.connector_matches(CCS1_150, station_online=False)
    assert not dc.connector_matches(J1772, station_online=False)
    assert ac.connector_matches(J1772, station_online=False)
    assert not ac.connector_matches(CCS1_150, station_online=False)


def test_the_minimum_power_filter_is_inclusive() -> None:
    assert query(min_power_kw=150.0).connector_matches(CCS1_150, station_online=False)
    assert not query(min_power_kw=150.1).connector_matches(CCS1_150, station_online=False)
    assert not query(min_power_kw=50.0).connector_matches(J1772, station_online=False)


def test_the_minimum_power_filter_refuses_connectors_of_unknown_power() -> None:
    assert not query(min_power_kw=0.0).connector_matches(UNKNOWN_POWER, station_online=False)


def test_available_only_needs_an_available_connector_on_an_online_station() -> None:
    available_only = query(available_only=True)
    assert available_only.connector_matches(AVAILABLE, station_online=True)
    assert not available_only.connector_matches(AVAILABLE, station_online=False)
    assert not available_only.connector_matches(CHARGING, station_online=True)
    assert not available_only.connector_matches(connector(), station_online=True)  # Unknown


def test_every_filter_must_hold_for_the_same_connector() -> None:
    fast_dc_ccs = query(
        standards=frozenset({Standard.IEC_62196_T1_COMBO}),
        power_type=PowerType.DC,
        min_power_kw=100.0,
    )
    assert fast_dc_ccs.connector_matches(CCS1_150, station_online=False)
    slow_ccs = connector(
        standard=Standard.IEC_62196_T1_COMBO, power_type=PowerType.DC, max_power_kw=50.0
    )
    assert not fast_dc_ccs.connector_matches(slow_ccs, station_online=False)


# --- rank_nearest -------------------------------------------------------------------------


def north_of(lat: float, lon: float, metres: float) -> tuple[float, float]:
    return lat + math.degrees(metres / EARTH_RADIUS_M), lon


def test_candidates_are_ranked_nearest_first() -> None:
    centre = query(lat=0.0, lon=0.0, radius_m=10_000.0)
    far = SitePoint(1, *north_of(0.0, 0.0, 3_000.0))
    near = SitePoint(2, *north_of(0.0, 0.0, 1_000.0))
    middle = SitePoint(3, *north_of(0.0, 0.0, 2_000.0))
    ranked = rank_nearest(centre, [far, near, middle])
    assert [point.site_id for point, _ in ranked] == [2, 3, 1]
    assert [round(distance) for _, distance in ranked] == [1_000, 2_000, 3_000]


def test_sites_at_the_same_distance_are_ordered_by_id() -> None:
    centre = query(lat=10.0, lon=10.0)
    same_place = [SitePoint(site_id, 10.01, 10.0) for site_id in (9, 3, 7, 5)]
    ranked = rank_nearest(centre, same_place)
    assert [point.site_id for point, _ in ranked] == [3, 5, 7, 9]


def test_a_site_exactly_on_the_radius_is_included_and_one_beyond_is_not() -> None:
    inside = SitePoint(1, 0.0, 0.0)
    edge = SitePoint(2, 0.0, 0.01)
    beyond = SitePoint(3, 0.0, 0.010001)
    radius = great_circle_m(0.0, 0.0, edge.lat, edge.lon)
    ranked = rank_nearest(query(lat=0.0, lon=0.0, radius_m=radius), [beyond, edge, inside])
    assert [point.site_id for point, _ in ranked] == [1, 2]


def test_radius_zero_finds_only_sites_at_the_very_point() -> None:
    here = SitePoint(4, 42.0, -71.0)
    next_door = SitePoint(5, 42.00001, -71.0)
    ranked = rank_nearest(query(lat=42.0, lon=-71.0, radius_m=0.0), [next_door, here])
    assert ranked == [(here, 0.0)]


def test_only_the_limit_nearest_are_returned() -> None:
    points = [SitePoint(i, *north_of(0.0, 0.0, 100.0 * i)) for i in range(1, 21)]
    ranked = rank_nearest(query(lat=0.0, lon=0.0, radius_m=1e6, limit=5), points[::-1])
    assert [point.site_id for point, _ in ranked] == [1, 2, 3, 4, 5]


def test_no_candidates_rank_to_nothing() -> None:
    assert rank_nearest(query(), []) == []


def reference_distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Vincenty's formula on the sphere: independent of the haversine in core.geo."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.hypot(
        math.cos(p2) * math.sin(dl),
        math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl),
    )
    x = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return EARTH_RADIUS_M * math.atan2(y, x)


lats = st.one_of(st.floats(-90.0, 90.0), st.sampled_from([90.0, -90.0, 0.0]))
lons = st.one_of(st.floats(-180.0, 180.0), st.sampled_from([180.0, -180.0, 0.0]))
# Points spread over the globe, or bunched around the query, with duplicate coordinates.
coordinates = st.tuples(lats, lons)


@st.composite
def scenes(draw: st.DrawFn) -> tuple[NearbyQuery, list[SitePoint]]:
    lat, lon = draw(coordinates)
    local = st.tuples(
        st.floats(max(-90.0, lat - 0.05), min(90.0, lat + 0.05)),
        st.floats(max(-180.0, lon - 0.05), min(180.0, lon + 0.05)),
    )
    places = draw(st.lists(st.one_of(coordinates, local), min_size=0, max_size=30))
    # Some sites share a place (AFDC lists some places twice).
    places += draw(st.lists(st.sampled_from(places), max_size=5)) if places else []
    ids = draw(
        st.lists(st.integers(1, 10_000), min_size=len(places), max_size=len(places), unique=True)
    )
    radius = draw(
        st.one_of(
            st.floats(0.0, MAX_RADIUS_M),
            st.floats(0.0, 20_000.0),
            st.sampled_from([0.0, MAX_RADIUS_M]),
        )
    )
    made = NearbyQuery(lat, lon, radius, draw(st.integers(1, MAX_NEARBY_LIMIT)))
    return made, [SitePoint(i, p_lat, p_lon) for i, (p_lat, p_lon) in zip(ids, places, strict=True)]


@settings(max_examples=300, deadline=None)
@given(scenes())
def test_ranking_equals_a_brute_force_sort(scene: tuple[NearbyQuery, list[SitePoint]]) -> None:
    made, points = scene

    # Brute force: measure every point, keep those within the radius, order by
    # (distance, site id), take the first `limit`.
    measured = [(great_circle_m(made.lat, made.lon, p.lat, p.lon), p.site_id, p) for p in points]
    kept = [item for item in measured if item[0] <= made.radius_m]
    kept.sort()
    expected = [(point, distance) for distance, _, point in kept[: made.limit]]

    assert rank_nearest(made, points) == expected


@given(scenes())
def test_ranking_distances_agree_with_an_independent_formula(
    scene: tuple[NearbyQuery, list[SitePoint]],
) -> None:
    made, points = scene
    for point, distance in rank_nearest(made, points):
        assert distance == pytest.approx(
            reference_distance_m(made.lat, made.lon, point.lat, point.lon), abs=1.0
        )
