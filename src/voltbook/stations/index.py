"""Where sites are, in memory: a k-d tree over points on the unit sphere.

A site at (lat, lon) is the point (cos lat cos lon, cos lat sin lon, sin lat). The straight
line (chord) between two such points grows with their great-circle distance, so the nearest
by chord are the nearest on the Earth, with no special case at the poles or the antimeridian.
The tree only narrows: every site whose chord is within a hair (`_EPS`) of the `limit`-th
accepted one is kept, and those few are ranked with the exact distance
(`core.geo.great_circle_m`) and the site id, exactly as the SQL search ranks (ADR 0001), so
both give the same answer as brute force (docs/adr/0022).

Pure Python on purpose: a search visits a few leaves of 16 points, which costs less than
calling into an array library for so few; no new runtime dependency.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable
from operator import itemgetter

from voltbook.core.geo import EARTH_RADIUS_M, HALF_CIRCUMFERENCE_M, great_circle_m

# Rounding of a chord computed from degrees is ~1e-16; this margin (about 6 mm on the Earth)
# keeps every site that the exact distance could rank differently from the chord.
_EPS = 1e-9
_LEAF = 16
# Sites added or moved since the tree was built are searched one by one until this many
# (or a sixteenth of the tree) have gathered; then the tree is built again.
_MIN_REBUILD = 256

# A point: (x, y, z, site_id, lat, lon). A leaf: a list of points. A node: (axis, split,
# below, above), where below holds the points whose coordinate on `axis` is < split.
Point = tuple[float, float, float, int, float, float]
_COORDINATE = (itemgetter(0), itemgetter(1), itemgetter(2))
Node = list[Point] | tuple[int, float, "Node", "Node"]


def unit_point(site_id: int, lat: float, lon: float) -> Point:
    phi, lmb = math.radians(lat), math.radians(lon)
    cos_phi = math.cos(phi)
    return (cos_phi * math.cos(lmb), cos_phi * math.sin(lmb), math.sin(phi), site_id, lat, lon)


def chord_of(distance_m: float) -> float:
    """The chord of the unit sphere that spans this great-circle distance."""
    return 2.0 * math.sin(min(distance_m, HALF_CIRCUMFERENCE_M) / (2.0 * EARTH_RADIUS_M))


def _build(points: list[Point]) -> Node:
    if len(points) <= _LEAF:
        return points
    sample = points[:: max(1, len(points) // 64)]  # the widest axis, judged from a sample
    spreads = [max(p[a] for p in sample) - min(p[a] for p in sample) for a in range(3)]
    axis = spreads.index(max(spreads))
    points.sort(key=_COORDINATE[axis])
    middle = len(points) // 2
    split = points[middle][axis]
    # Equal coordinates go above, so `below` holds only points strictly under the split.
    while middle > 0 and points[middle - 1][axis] == split:
        middle -= 1
    if middle == 0:  # every point shares the lowest coordinate on the widest axis: all equal
        return points
    return (axis, split, _build(points[:middle]), _build(points[middle:]))


class SiteIndex:
    """Site positions by id, searchable for the nearest sites that a predicate accepts."""

    def __init__(self, positions: Iterable[tuple[int, float, float]] = ()) -> None:
        self._where: dict[int, Point] = {}
        for site_id, lat, lon in positions:
            self._where[site_id] = unit_point(site_id, lat, lon)
        self._rebuild()

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, site_id: int) -> bool:
        return site_id in self._where

    def put(self, site_id: int, lat: float, lon: float) -> None:
        """Add a site, or move one."""
        old = self._where.get(site_id)
        if old is not None and old[4] == lat and old[5] == lon:
            return
        point = unit_point(site_id, lat, lon)
        self._where[site_id] = point
        if old is not None:
            self._stale.add(site_id)
        self._extra[site_id] = point
        self._maybe_rebuild()

    def discard(self, site_id: int) -> None:
        if self._where.pop(site_id, None) is not None:
            self._stale.add(site_id)
            self._extra.pop(site_id, None)
            self._maybe_rebuild()

    def _maybe_rebuild(self) -> None:
        if len(self._extra) + len(self._stale) > max(_MIN_REBUILD, len(self._where) // 16):
            self._rebuild()

    def _rebuild(self) -> None:
        self._root: Node = _build(list(self._where.values()))
        self._extra: dict[int, Point] = {}
        self._stale: set[int] = set()  # in the tree, but moved or gone

    def nearest(
        self,
        lat: float,
        lon: float,
        radius_m: float,
        limit: int,
        accept: Callable[[int], bool] | None = None,
    ) -> list[tuple[int, float]]:
        """The `limit` accepted sites within `radius_m`, nearest first by great-circle
        distance, ties broken by site id: (site id, distance in metres)."""
        qx, qy, qz, _, _, _ = unit_point(0, lat, lon)
        query = (qx, qy, qz)
        bound = (chord_of(radius_m) + _EPS) ** 2
        threshold = bound
        best: list[float] = []  # squared chords of the `limit` nearest accepted so far
        near: list[tuple[float, Point]] = []  # everything ever within the threshold
        stale = self._stale
        # The tree's leaves, then the sites added since it was built, as one more leaf.
        stack_extra = list(self._extra.values())
        stack: list[tuple[Node, float]] = [(stack_extra, 0.0), (self._root, 0.0)]
        while stack:
            node, plane = stack.pop()
            if plane > threshold:
                continue
            if not isinstance(node, list):
                axis, split, below, above = node
                diff = query[axis] - split
                if diff < 0.0:
                    stack.append((above, diff * diff))
                    stack.append((below, 0.0))
                else:
                    stack.append((below, diff * diff))
                    stack.append((above, 0.0))
                continue
            for point in node:  # the hot loop: keep it flat
                dx = point[0] - qx
                dy = point[1] - qy
                dz = point[2] - qz
                d2 = dx * dx + dy * dy + dz * dz
                if d2 > threshold:
                    continue
                if (stale and point[3] in stale and node is not stack_extra) or (
                    accept is not None and not accept(point[3])
                ):
                    continue
                near.append((d2, point))
                if len(best) < limit:
                    best.append(d2)
                    if len(best) < limit:
                        continue
                    best.sort()
                elif d2 < best[-1]:
                    best.pop()
                    bisect.insort(best, d2)
                else:
                    continue
                threshold = min(bound, (math.sqrt(best[-1]) + _EPS) ** 2)
        scored = [(p[3], great_circle_m(lat, lon, p[4], p[5])) for d2, p in near if d2 <= threshold]
        within = [item for item in scored if item[1] <= radius_m]
        within.sort(key=lambda item: (item[1], item[0]))
        return within[:limit]
