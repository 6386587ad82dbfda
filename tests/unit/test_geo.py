"""Great-circle distance, search bounding boxes and ring growth (core/geo.py)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voltbook.core.geo import (
    EARTH_RADIUS_M,
    HALF_CIRCUMFERENCE_M,
    Box,
    bounding_boxes,
    great_circle_m,
    next_search_radius,
)
from voltbook.stations.model import MAX_RADIUS_M

BOSTON = (42.3601, -71.0589)
NEW_YORK = (40.7128, -74.0060)


def destination(
    lat: float, lon: float, bearing_deg: float, distance_m: float
) -> tuple[float, float]:
    """The point `distance_m` from (lat, lon) along `bearing_deg` (spherical direct problem)."""
    phi1 = math.radians(lat)
    lambda1 = math.radians(lon)
    theta = math.radians(bearing_deg)
    delta = distance_m / EARTH_RADIUS_M
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * math.sin(phi2),
    )
    lon2 = (math.degrees(lambda2) + 540.0) % 360.0 - 180.0
    return max(-90.0, min(90.0, math.degrees(phi2))), lon2


def in_any_box(boxes: list[Box], lat: float, lon: float) -> bool:
    return any(
        box.min_lat <= lat <= box.max_lat and box.min_lon <= lon <= box.max_lon for box in boxes
    )


# --- great_circle_m -----------------------------------------------------------------------


def test_boston_to_new_york_is_about_306_km() -> None:
    assert great_circle_m(*BOSTON, *NEW_YORK) == pytest.approx(306_000, abs=1_000)


def test_distance_from_a_point_to_itself_is_zero() -> None:
    assert great_circle_m(*BOSTON, *BOSTON) == 0.0


def test_antipodes_are_half_a_circumference_apart() -> None:
    assert great_circle_m(0.0, 0.0, 0.0, 180.0) == pytest.approx(HALF_CIRCUMFERENCE_M, abs=1e-3)
    assert great_circle_m(90.0, 0.0, -90.0, 0.0) == pytest.approx(HALF_CIRCUMFERENCE_M, abs=1e-3)


def test_antipodes_off_the_equator_are_half_a_circumference_apart_to_the_millimetre() -> None:
    assert great_circle_m(40.0, -74.0, -40.0, 106.0) == pytest.approx(
        HALF_CIRCUMFERENCE_M, abs=1e-3
    )


def test_one_degree_of_latitude_is_the_radius_times_pi_over_180() -> None:
    assert great_circle_m(10.0, 20.0, 11.0, 20.0) == pytest.approx(
        EARTH_RADIUS_M * math.pi / 180.0, rel=1e-12
    )


def test_meridians_minus_180_and_180_are_the_same_line() -> None:
    assert great_circle_m(12.0, -180.0, 12.0, 180.0) == pytest.approx(0.0, abs=1e-6)
    assert great_circle_m(0.0, 179.5, 0.0, -179.5) == pytest.approx(
        EARTH_RADIUS_M * math.radians(1.0), rel=1e-9
    )


def test_every_longitude_at_a_pole_is_the_same_point() -> None:
    assert great_circle_m(90.0, 0.0, 90.0, 137.0) == pytest.approx(0.0, abs=1e-6)


lat_any = st.floats(-90.0, 90.0)
lon_any = st.floats(-180.0, 180.0)


@given(lat_any, lon_any, lat_any, lon_any)
def test_distance_is_symmetric_and_within_half_a_circumference(
    lat1: float, lon1: float, lat2: float, lon2: float
) -> None:
    there = great_circle_m(lat1, lon1, lat2, lon2)
    back = great_circle_m(lat2, lon2, lat1, lon1)
    assert there == pytest.approx(back, abs=1e-6)
    assert 0.0 <= there <= HALF_CIRCUMFERENCE_M + 1e-6


@given(lat_any, lon_any, st.floats(0.0, 360.0), st.floats(0.0, HALF_CIRCUMFERENCE_M * 0.99))
def test_distance_to_a_destination_point_is_the_distance_travelled(
    lat: float, lon: float, bearing: float, distance: float
) -> None:
    # The destination formula is independent of the haversine; they must agree.
    to_lat, to_lon = destination(lat, lon, bearing, distance)
    assert great_circle_m(lat, lon, to_lat, to_lon) == pytest.approx(distance, abs=0.01)


# --- bounding_boxes -----------------------------------------------------------------------

centre_lats = st.one_of(
    st.floats(-90.0, 90.0),
    st.floats(89.0, 90.0),
    st.floats(-90.0, -89.0),
    st.sampled_from([90.0, -90.0, 0.0, 89.999999, -89.999999]),
)
centre_lons = st.one_of(
    st.floats(-180.0, 180.0),
    st.floats(179.0, 180.0),
    st.floats(-180.0, -179.0),
    st.sampled_from([180.0, -180.0, 0.0]),
)
radii = st.one_of(
    st.floats(0.0, MAX_RADIUS_M),
    st.floats(0.0, 5_000.0),
    st.floats(HALF_CIRCUMFERENCE_M - 1_000.0, MAX_RADIUS_M),
    st.sampled_from([0.0, 1.0, HALF_CIRCUMFERENCE_M, MAX_RADIUS_M]),
)
# Fractions of the radius, biased towards the edge of the circle.
fractions = st.one_of(st.just(1.0), st.floats(0.999_999, 1.0), st.floats(0.0, 1.0))
edge_points = st.lists(st.tuples(st.floats(0.0, 360.0), fractions), min_size=1, max_size=12)
anywhere = st.lists(st.tuples(lat_any, lon_any), max_size=12)


def representations(lat: float, lon: float) -> list[tuple[float, float]]:
    """A point on the antimeridian can be stored with longitude -180 or 180."""
    if abs(lon) == 180.0:
        return [(lat, 180.0), (lat, -180.0)]
    return [(lat, lon)]


@settings(max_examples=400, deadline=None)
@given(centre_lats, centre_lons, radii, edge_points, anywhere)
def test_bounding_boxes_hold_every_point_within_the_radius(
    lat: float,
    lon: float,
    radius: float,
    edge: list[tuple[float, float]],
    others: list[tuple[float, float]],
) -> None:
    boxes = bounding_boxes(lat, lon, radius)
    candidates = [destination(lat, lon, bearing, radius * share) for bearing, share in edge]
    candidates += others
    for point in candidates:
        for p_lat, p_lon in representations(*point):
            if great_circle_m(lat, lon, p_lat, p_lon) <= radius:
                assert in_any_box(boxes, p_lat, p_lon), (p_lat, p_lon, boxes)


@st.composite
def circles_touching_a_pole(draw: st.DrawFn) -> tuple[float, float, float]:
    """Circles whose edge passes within a few metres of a pole: the hardest case for boxes."""
    lat = draw(st.floats(-89.99, 89.99))
    lon = draw(lon_any)
    to_pole = (90.0 - abs(lat)) * math.pi / 180.0 * EARTH_RADIUS_M
    return lat, lon, max(0.0, to_pole + draw(st.floats(-5.0, 5.0)))


@settings(max_examples=300, deadline=None)
@given(circles_touching_a_pole(), edge_points)
def test_bounding_boxes_hold_the_circle_when_it_nearly_touches_a_pole(
    circle: tuple[float, float, float], edge: list[tuple[float, float]]
) -> None:
    lat, lon, radius = circle
    boxes = bounding_boxes(lat, lon, radius)
    for bearing, share in edge:
        for p_lat, p_lon in representations(*destination(lat, lon, bearing, radius * share)):
            if great_circle_m(lat, lon, p_lat, p_lon) <= radius:
                assert in_any_box(boxes, p_lat, p_lon), (p_lat, p_lon, boxes)


@given(centre_lats, centre_lons, radii)
def test_bounding_boxes_never_cross_the_antimeridian_and_stay_on_the_globe(
    lat: float, lon: float, radius: float
) -> None:
    boxes = bounding_boxes(lat, lon, radius)
    assert 1 <= len(boxes) <= 2
    for box in boxes:
        assert -90.0 <= box.min_lat <= box.max_lat <= 90.0
        assert -180.0 <= box.min_lon <= box.max_lon <= 180.0


@given(st.floats(-80.0, 80.0), lon_any, st.floats(1.0, 2_000_000.0))
def test_a_single_box_is_no_bigger_than_the_circle_needs(
    lat: float, lon: float, radius: float
) -> None:
    boxes = bounding_boxes(lat, lon, radius)
    if len(boxes) != 1 or boxes[0].max_lon - boxes[0].min_lon >= 360.0:
        return  # split at the antimeridian or spanning every longitude
    (box,) = boxes
    ang = radius / EARTH_RADIUS_M
    # The circle touches the box's northern and southern edges on the centre's meridian...
    assert great_circle_m(lat, lon, box.max_lat, lon) <= radius + 0.01
    assert great_circle_m(lat, lon, box.min_lat, lon) <= radius + 0.01
    # ...and its eastern and western edges at the latitude where it runs north-south.
    tangent_lat = math.degrees(math.asin(math.sin(math.radians(lat)) / math.cos(ang)))
    assert great_circle_m(lat, lon, tangent_lat, box.max_lon) <= radius + 0.01
    assert great_circle_m(lat, lon, tangent_lat, box.min_lon) <= radius + 0.01


def test_a_small_circle_gets_one_tight_box() -> None:
    (box,) = bounding_boxes(*BOSTON, 1_000.0)
    one_km_in_lat_deg = math.degrees(1_000.0 / EARTH_RADIUS_M)
    assert box.max_lat - box.min_lat == pytest.approx(2 * one_km_in_lat_deg, abs=1e-7)
    assert box.min_lon < BOSTON[1] < box.max_lon
    assert box.max_lon - box.min_lon < 0.03  # about 2 km at 42 degrees north


def test_a_circle_across_the_antimeridian_is_split_into_two_boxes() -> None:
    boxes = bounding_boxes(0.0, 179.99, 10_000.0)
    assert len(boxes) == 2
    east, west = boxes
    assert east.max_lon == 180.0
    assert west.min_lon == -180.0
    assert in_any_box(boxes, 0.0, -179.95)
    assert in_any_box(boxes, 0.0, 179.95)


def test_a_circle_holding_a_pole_spans_every_longitude() -> None:
    (box,) = bounding_boxes(89.5, 10.0, 100_000.0)
    assert (box.min_lon, box.max_lon, box.max_lat) == (-180.0, 180.0, 90.0)


def test_a_radius_of_half_the_circumference_covers_the_globe() -> None:
    assert bounding_boxes(*BOSTON, HALF_CIRCUMFERENCE_M) == [Box(-90.0, 90.0, -180.0, 180.0)]
    assert bounding_boxes(*BOSTON, MAX_RADIUS_M) == [Box(-90.0, 90.0, -180.0, 180.0)]


def test_a_zero_radius_box_still_holds_its_centre() -> None:
    boxes = bounding_boxes(*BOSTON, 0.0)
    assert in_any_box(boxes, *BOSTON)


# --- next_search_radius -------------------------------------------------------------------


def test_an_empty_ring_grows_eightfold() -> None:
    assert next_search_radius(1_000.0, 0, 10, 1e9) == 8_000.0


def test_a_ring_that_found_most_of_what_it_wanted_still_at_least_doubles() -> None:
    assert next_search_radius(1_000.0, 9, 10, 1e9) == 2_000.0


def test_a_sparse_ring_grows_with_the_square_root_of_the_shortfall() -> None:
    # 1 of 100 found: the area must grow ~100x, the radius ~10x, plus 25 % overshoot.
    assert next_search_radius(1_000.0, 1, 100, 1e9) == pytest.approx(12_500.0)


def test_the_next_radius_never_exceeds_the_cap() -> None:
    assert next_search_radius(1_000.0, 0, 10, 5_000.0) == 5_000.0
    assert next_search_radius(5_000.0, 3, 10, 5_000.0) == 5_000.0


@given(
    st.floats(1.0, 1e7),
    st.integers(0, 100),
    st.integers(1, 100),
    st.floats(1.0, HALF_CIRCUMFERENCE_M),
)
def test_the_next_radius_grows_until_the_cap(
    current: float, found: int, wanted: int, cap: float
) -> None:
    nxt = next_search_radius(current, found, wanted, cap)
    assert nxt <= cap
    assert nxt == cap or nxt >= 2.0 * current
