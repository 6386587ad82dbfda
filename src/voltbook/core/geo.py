"""Great-circle geometry on a spherical Earth.

The radius is the one PostGIS uses for geography on a sphere, so distances computed here
and in the database agree to well under a millimetre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_M = (2.0 * 6_378_137.0 + 6_356_752.314245179) / 3.0
HALF_CIRCUMFERENCE_M = math.pi * EARTH_RADIUS_M
# Outward padding of bounding boxes, in degrees (about 1 mm): absorbs rounding, never loses a point.
_PAD_DEG = 1e-8


@dataclass(frozen=True, slots=True)
class Box:
    """A latitude/longitude rectangle, in degrees, that never crosses the antimeridian."""

    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float


def great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in metres between two points.

    Vincenty's formula on the sphere (atan2 of the cross and dot products): accurate for
    near, far and antipodal pairs alike, where haversine loses ~0.2 m near the antipode.
    """
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dlmb = math.radians(lon2 - lon1)
    sin1, cos1 = math.sin(phi1), math.cos(phi1)
    sin2, cos2 = math.sin(phi2), math.cos(phi2)
    cos_dl = math.cos(dlmb)
    y = math.hypot(cos2 * math.sin(dlmb), cos1 * sin2 - sin1 * cos2 * cos_dl)
    x = sin1 * sin2 + cos1 * cos2 * cos_dl
    return EARTH_RADIUS_M * math.atan2(y, x)


def bounding_boxes(lat: float, lon: float, radius_m: float) -> list[Box]:
    """Boxes that together contain every point within `radius_m` of (lat, lon).

    Handles circles that contain a pole (full longitude range) or cross the antimeridian
    (two boxes). Boxes are padded outward, so they may hold a few points just outside.
    """
    if radius_m >= HALF_CIRCUMFERENCE_M:
        return [Box(-90.0, 90.0, -180.0, 180.0)]
    ang = radius_m / EARTH_RADIUS_M
    lat_r = math.radians(lat)
    min_lat = math.degrees(lat_r - ang) - _PAD_DEG
    max_lat = math.degrees(lat_r + ang) + _PAD_DEG
    if min_lat <= -90.0 or max_lat >= 90.0:
        return [Box(max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0)]
    # The widest longitude is asin(sin(ang) / cos(lat)); spelled with atan2 of
    # cos²(lat) - sin²(ang) = cos(lat - ang)·cos(lat + ang), which keeps its precision when
    # the circle almost reaches a pole (asin near 1 loses half the digits).
    reach = math.cos(lat_r - ang) * math.cos(lat_r + ang)
    if reach <= 0.0:
        return [Box(min_lat, max_lat, -180.0, 180.0)]
    dlon = math.degrees(math.atan2(math.sin(ang), math.sqrt(reach))) + _PAD_DEG
    min_lon = lon - dlon
    max_lon = lon + dlon
    if min_lon < -180.0:
        return [
            Box(min_lat, max_lat, min_lon + 360.0, 180.0),
            Box(min_lat, max_lat, -180.0, max_lon),
        ]
    if max_lon > 180.0:
        return [
            Box(min_lat, max_lat, min_lon, 180.0),
            Box(min_lat, max_lat, -180.0, max_lon - 360.0),
        ]
    return [Box(min_lat, max_lat, min_lon, max_lon)]


def next_search_radius(current_m: float, found: int, wanted: int, cap_m: float) -> float:
    """Radius for the next ring of a k-nearest search that found `found` of `wanted` so far.

    Assumes locally uniform density (count grows with the area), overshoots a little so
    that one more ring is usually enough, and grows at least fourfold when nothing was found.
    """
    if found <= 0:
        grown = current_m * 8.0
    else:
        grown = current_m * max(2.0, 1.25 * math.sqrt(wanted / found))
    return min(cap_m, grown)
