"""The in-memory site index finds exactly what a brute-force great-circle ordering finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from voltbook.core.geo import great_circle_m
from voltbook.stations.index import SiteIndex
from voltbook.stations.model import MAX_RADIUS_M

latitudes = st.one_of(
    st.floats(-90, 90), st.floats(89.9, 90), st.floats(-90, -89.9), st.sampled_from([-90.0, 90.0])
)
longitudes = st.one_of(
    st.floats(-180, 180), st.floats(179.9, 180), st.floats(-180, -179.9), st.just(-180.0)
)
points = st.tuples(latitudes, longitudes)
offsets = st.lists(st.tuples(st.floats(-0.02, 0.02), st.floats(-0.02, 0.02)), max_size=60)
radii = st.one_of(st.just(0.0), st.floats(0, 5_000), st.floats(0, 3_000_000), st.just(MAX_RADIUS_M))
limits = st.one_of(st.integers(1, 12), st.just(100))


def brute(
    positions: dict[int, tuple[float, float]],
    lat: float,
    lon: float,
    radius: float,
    limit: int,
    accept: set[int] | None = None,
) -> list[tuple[int, float]]:
    scored = [
        (site_id, great_circle_m(lat, lon, p_lat, p_lon))
        for site_id, (p_lat, p_lon) in positions.items()
        if accept is None or site_id in accept
    ]
    within = sorted((item for item in scored if item[1] <= radius), key=lambda i: (i[1], i[0]))
    return within[:limit]


def around(
    center: tuple[float, float], moves: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    lat, lon = center
    return [
        (max(-90.0, min(90.0, lat + dlat)), ((lon + dlon + 180.0) % 360.0) - 180.0)
        for dlat, dlon in moves
    ]


@settings(max_examples=300, deadline=None)
@given(
    center=points,
    far=st.lists(points, max_size=50),
    moves=offsets,
    duplicates=st.integers(0, 4),
    radius=radii,
    limit=limits,
    every=st.integers(1, 3),
)
def test_nearest_equals_brute_force_anywhere_on_earth(
    center: tuple[float, float],
    far: list[tuple[float, float]],
    moves: list[tuple[float, float]],
    duplicates: int,
    radius: float,
    limit: int,
    every: int,
) -> None:
    spots = far + around(center, moves)
    spots += spots[:duplicates]  # another site at the same spot: ties go by id
    positions = {n + 1: spot for n, spot in enumerate(spots)}
    index = SiteIndex((site_id, lat, lon) for site_id, (lat, lon) in positions.items())
    accepted = {site_id for site_id in positions if site_id % every == 0}

    found = index.nearest(*center, radius, limit, accept=lambda site_id: site_id in accepted)

    assert found == brute(positions, *center, radius, limit, accepted)


@settings(max_examples=100, deadline=None)
@given(
    center=points,
    first=st.lists(points, max_size=40),
    moved=st.lists(st.tuples(st.integers(1, 40), points), max_size=30),
    dropped=st.lists(st.integers(1, 40), max_size=20),
    limit=limits,
)
def test_sites_added_moved_and_removed_are_found_where_they_are_now(
    center: tuple[float, float],
    first: list[tuple[float, float]],
    moved: list[tuple[int, tuple[float, float]]],
    dropped: list[int],
    limit: int,
) -> None:
    positions = {n + 1: spot for n, spot in enumerate(first)}
    index = SiteIndex((site_id, lat, lon) for site_id, (lat, lon) in positions.items())
    for site_id, (lat, lon) in moved:
        index.put(site_id, lat, lon)
        positions[site_id] = (lat, lon)
    for site_id in dropped:
        index.discard(site_id)
        positions.pop(site_id, None)

    found = index.nearest(*center, MAX_RADIUS_M, limit)

    assert found == brute(positions, *center, MAX_RADIUS_M, limit)
    assert len(index) == len(positions)


def test_many_changes_rebuild_the_tree_and_keep_answers_exact() -> None:
    index = SiteIndex((n, 42.0 + n * 1e-4, -71.0) for n in range(1_000))
    positions = {n: (42.0 + n * 1e-4, -71.0) for n in range(1_000)}
    for n in range(0, 1_000, 2):  # far more than a rebuild waits for
        index.put(n, 42.05, -71.0 + n * 1e-4)
        positions[n] = (42.05, -71.0 + n * 1e-4)

    found = index.nearest(42.05, -70.97, 10_000.0, 25)

    assert found == brute(positions, 42.05, -70.97, 10_000.0, 25)


def test_a_thousand_sites_at_one_spot_all_tie_and_go_by_id() -> None:
    index = SiteIndex((n, 40.7, -74.0) for n in range(1_000, 0, -1))

    found = index.nearest(40.7, -74.0, 0.0, 5)

    assert found == [(n, 0.0) for n in range(1, 6)]
