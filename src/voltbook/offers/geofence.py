"""Which live offers' areas contain a point, and which of them a driver just entered.

Everything here is in memory and synchronous: it sits on the path of every position a
driver's app reports, so it never touches storage.

The index is a grid of latitude/longitude cells (`cell_deg` degrees, about 5.6 km north to
south by default). Each offer is listed in every cell its circle's bounding box touches
(`core.geo.bounding_boxes`, which also handles circles across the antimeridian or around a
pole): as *covering* the cell when the whole cell lies inside its circle, else as
*touching* it. A lookup reads one cell: the covering offers hold the point without a
check (their set of ids is kept ready per cell), and the touching ones are checked all at
once by C loops (`map`, `itertools.compress`) over columns kept ready per cell: the
straight-line (chord) distance between the point and each centre as unit vectors
(`math.dist`, which grows with the great-circle distance) against the chord of each
radius. Within `_CHORD_BAND` of it (micrometres) rounding could disagree with
`core.geo.great_circle_m`, so such a point is checked with that function itself: the index
answers exactly what it answers. Contiguous columns matter as much as the C loops: with
100,000 offers the index spans hundreds of megabytes, and walking a cell's entries as
objects scattered over the heap costs cache misses more than arithmetic.

A cell is covered when its four corners lie at least `_COVER_MARGIN_M` inside the circle.
That suffices: every point of the cell lies on a parallel between its two meridian edges,
and along a parallel the distance to the centre only grows with the longitude difference,
so the farthest point of that stretch is on a meridian edge; a meridian edge is an arc of a
great circle, which a circle smaller than a hemisphere cuts in one arc, so an edge whose
ends are inside is inside. The margin keeps rounding from mattering: a point of a covered
cell is at least that far inside, where the exact distance cannot disagree.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import compress, repeat
from operator import le
from typing import TYPE_CHECKING

from voltbook.core.geo import EARTH_RADIUS_M, bounding_boxes, great_circle_m
from voltbook.offers.model import Offer

DEFAULT_CELL_DEG = 0.05
_NONE: frozenset[int] = frozenset()
_COVER_MARGIN_M = 1.0
# Of the chord between unit vectors (1e-12 of the Earth's radius: about 6 µm), a thousand
# times the rounding of the chord or of `great_circle_m`.
_CHORD_BAND = 1e-12

_Vector = tuple[float, float, float]
if TYPE_CHECKING:
    # ids; centres' x, y, z as unit vectors; the radius's chord, lowered and raised by
    # _CHORD_BAND
    _Columns = tuple[
        array[int], array[float], array[float], array[float], array[float], array[float]
    ]


def _chord(radius_m: float) -> float:
    """The straight-line distance between two unit vectors `radius_m` apart on the Earth."""
    return 2.0 * math.sin(radius_m / EARTH_RADIUS_M / 2.0)


def _unit(lat: float, lon: float) -> _Vector:
    phi, lmb = math.radians(lat), math.radians(lon)
    cos_phi = math.cos(phi)
    return (cos_phi * math.cos(lmb), cos_phi * math.sin(lmb), math.sin(phi))


class _Cell:
    """The offers listed in one cell: covering it (no check needed) or touching it."""

    __slots__ = ("_columns", "_ids", "_offers", "covering", "touching")

    def __init__(self) -> None:
        self.covering: dict[int, Offer] = {}
        # offer id -> (offer, centre as a unit vector, the radius's chord)
        self.touching: dict[int, tuple[Offer, _Vector, float]] = {}
        self._ids: frozenset[int] | None = None
        self._offers: list[Offer] | None = None
        self._columns: _Columns | None = None

    def __bool__(self) -> bool:
        return bool(self.covering) or bool(self.touching)

    def changed(self) -> None:
        self._ids = None
        self._offers = None
        self._columns = None

    def covering_ids(self) -> frozenset[int]:
        if self._ids is None:
            self._ids = frozenset(self.covering)
        return self._ids

    def covering_offers(self) -> list[Offer]:
        if self._offers is None:
            self._offers = list(self.covering.values())
        return self._offers

    def columns(self) -> _Columns:
        if self._columns is None:
            rows = self.touching.values()
            self._columns = (
                array("q", self.touching),
                array("d", [row[1][0] for row in rows]),
                array("d", [row[1][1] for row in rows]),
                array("d", [row[1][2] for row in rows]),
                array("d", [row[2] - _CHORD_BAND for row in rows]),
                array("d", [row[2] + _CHORD_BAND for row in rows]),
            )
        return self._columns

    def touched(self, lat: float, lon: float) -> tuple[int, ...]:
        """The ids of the touching offers whose circle holds the point (boundary included),
        in the cell's order (the same for the same offers while the cell is unchanged)."""
        if not self.touching:
            return ()
        ids, xs, ys, zs, sure, maybe = self.columns()
        chords = list(
            map(math.dist, repeat(_unit(lat, lon), len(ids)), zip(xs, ys, zs, strict=True))
        )
        found = tuple(compress(ids, map(le, chords, maybe)))
        if found and len(found) != sum(map(le, chords, sure)):
            # Within micrometres of a boundary: the exact distance decides.
            areas = {i: self.touching[i][0].area for i in found}
            found = tuple(i for i in found if areas[i].contains(lat, lon))
        return found


class OfferIndex:
    """A spatial index of offers' circles."""

    def __init__(self, offers: Iterable[Offer] = (), cell_deg: float = DEFAULT_CELL_DEG) -> None:
        self._cell = cell_deg
        self._cells: dict[tuple[int, int], _Cell] = {}
        self._keys: dict[int, list[tuple[int, int]]] = {}
        self._offers: dict[int, Offer] = {}
        self._version: dict[int, int] = {}
        self.version = 0  # grows with every put: tells offers added or changed since a moment
        for offer in offers:
            self.put(offer)

    def __len__(self) -> int:
        return len(self._offers)

    def __contains__(self, offer_id: object) -> bool:
        return offer_id in self._offers

    def get(self, offer_id: int) -> Offer | None:
        return self._offers.get(offer_id)

    def offers(self) -> list[Offer]:
        return list(self._offers.values())

    def version_of(self, offer_id: int) -> int:
        """The `version` the offer was put at (0 when it is not indexed)."""
        return self._version.get(offer_id, 0)

    def put(self, offer: Offer) -> None:
        """Add the offer, or replace the one with its id."""
        assert offer.id is not None
        self.remove(offer.id)
        area = offer.area
        cell = self._cell
        keys: list[tuple[int, int]] = []
        inner = area.radius_m - _COVER_MARGIN_M
        touching = (
            offer,
            _unit(area.lat, area.lon),
            _chord(area.radius_m),
        )
        for box in bounding_boxes(area.lat, area.lon, area.radius_m):
            rows = range(math.floor(box.min_lat / cell), math.floor(box.max_lat / cell) + 1)
            cols = range(math.floor(box.min_lon / cell), math.floor(box.max_lon / cell) + 1)
            # Which grid corners lie inside, each worked out once for the cells around it.
            corner = {
                (row, col): great_circle_m(area.lat, area.lon, row * cell, col * cell) <= inner
                for row in range(rows.start, rows.stop + 1)
                for col in range(cols.start, cols.stop + 1)
            }
            for row in rows:
                for col in cols:
                    key = (row, col)
                    target = self._cells.get(key)
                    if target is None:
                        target = self._cells[key] = _Cell()
                    if (
                        corner[row, col]
                        and corner[row + 1, col]
                        and corner[row, col + 1]
                        and corner[row + 1, col + 1]
                    ):
                        target.covering[offer.id] = offer
                    else:
                        target.touching[offer.id] = touching
                    target.changed()
                    keys.append(key)
        self._keys[offer.id] = keys
        self._offers[offer.id] = offer
        self.version += 1
        self._version[offer.id] = self.version

    def remove(self, offer_id: int) -> None:
        for key in self._keys.pop(offer_id, ()):
            target = self._cells.get(key)
            if target is not None:
                target.covering.pop(offer_id, None)
                target.touching.pop(offer_id, None)
                target.changed()
                if not target:
                    del self._cells[key]
        self._offers.pop(offer_id, None)
        self._version.pop(offer_id, None)

    def prepare(self) -> None:
        """Make every cell's lookup data now (after many changes, such as a load) rather
        than on the first lookup in each cell."""
        for target in self._cells.values():
            target.columns()
            target.covering_ids()

    def containing(self, lat: float, lon: float) -> list[Offer]:
        """The offers whose circle contains (lat, lon), boundary included."""
        target = self._cells.get((math.floor(lat / self._cell), math.floor(lon / self._cell)))
        if target is None:
            return []
        found = target.covering_offers().copy()
        found += [self._offers[i] for i in target.touched(lat, lon)]
        return found

    def containing_ids(self, lat: float, lon: float) -> frozenset[int]:
        """The ids of `containing(lat, lon)`."""
        covering, touched = self.locate(lat, lon)
        return covering.union(touched) if touched else covering

    def locate(self, lat: float, lon: float) -> tuple[frozenset[int], tuple[int, ...]]:
        """`containing_ids(lat, lon)` in two parts, what a position report needs at least
        cost: the ids of the offers covering the point's cell (the cell's own frozenset,
        the same object while the cell is unchanged) and of the touching offers holding the
        point (none of them among the first)."""
        target = self._cells.get((math.floor(lat / self._cell), math.floor(lon / self._cell)))
        if target is None:
            return _NONE, ()
        return target.covering_ids(), target.touched(lat, lon)


class _Last:
    """A driver's last position and where it lay, as `OfferIndex.locate` told: kept per
    driver and updated in place on every report."""

    __slots__ = ("at", "covering", "lat", "lon", "touched", "version")

    def __init__(
        self,
        lat: float,
        lon: float,
        at: datetime,
        located: tuple[frozenset[int], tuple[int, ...]],
        version: int,
    ) -> None:
        self.lat = lat
        self.lon = lon
        self.at = at
        self.covering, self.touched = located  # the ids of the offers whose areas held it
        self.version = version  # the index's version then


class Presence:
    """The last position of each driver who reported one, to tell entering from staying.

    A driver enters an offer's area when the new position lies inside its circle and the
    previous one did not. The previous position is compared with the circle itself (not with
    the offers known then), so an offer created over a driver who is already in its area
    does not count as entered. A driver without a previous position (first report since this
    node started, or the last one older than `forget_after`) has entered nothing: nobody
    knows they were outside, and a restart must not look like everyone arriving at once.
    """

    def __init__(self, forget_after: timedelta) -> None:
        self._last: dict[str, _Last] = {}
        self._forget = forget_after

    def __len__(self) -> int:
        return len(self._last)

    def move(
        self,
        driver_id: str,
        lat: float,
        lon: float,
        at: datetime,
        located: tuple[frozenset[int], tuple[int, ...]],
        index: OfferIndex,
    ) -> list[Offer]:
        """Record the new position (`located`: where it lies in `index`, as `index.locate`
        tells); returns the offers whose area was just entered."""
        previous = self._last.get(driver_id)
        if previous is None:
            self._last[driver_id] = _Last(lat, lon, at, located, index.version)
            return []
        covering, touched = located
        before = previous.covering
        before_touched = previous.touched
        before_lat, before_lon, before_version = previous.lat, previous.lon, previous.version
        stale = at - previous.at > self._forget
        previous.lat, previous.lon, previous.at = lat, lon, at
        previous.covering, previous.touched = located
        previous.version = index.version
        if stale:
            return []
        if covering is before:
            # The same cell, unchanged (or two cells covered by no offer): only the touching
            # offers can differ, and none of them is among the covering ones.
            if touched == before_touched:
                return []
            new: set[int] | frozenset[int] = set(touched).difference(before_touched)
        else:
            new = covering.union(touched).difference(before, before_touched)
        entered: list[Offer] = []
        for offer_id in sorted(new):
            offer = index.get(offer_id)
            if offer is None:
                continue
            if index.version_of(offer_id) > before_version:
                # Added or changed since: was the previous position outside its area?
                area = offer.area
                if great_circle_m(area.lat, area.lon, before_lat, before_lon) <= area.radius_m:
                    continue
            entered.append(offer)
        return entered

    def last(self, driver_id: str, now: datetime) -> tuple[float, float] | None:
        """The driver's last position unless it is older than `forget_after`."""
        last = self._last.get(driver_id)
        if last is None or now - last.at > self._forget:
            return None
        return last.lat, last.lon

    def inside_of(
        self, offer_ids: set[int], now: datetime
    ) -> dict[int, list[tuple[str, float, float]]]:
        """For each of these offers, the drivers whose last position (not older than
        `forget_after`) lay in its area: (driver id, lat, lon)."""
        found: dict[int, list[tuple[str, float, float]]] = {}
        if not offer_ids:
            return found
        cutoff = now - self._forget
        for driver_id, last in self._last.items():
            if last.at < cutoff:
                continue
            for offer_id in last.covering & offer_ids:
                found.setdefault(offer_id, []).append((driver_id, last.lat, last.lon))
            for offer_id in last.touched:
                if offer_id in offer_ids:
                    found.setdefault(offer_id, []).append((driver_id, last.lat, last.lon))
        return found

    def forget_before(self, cutoff: datetime) -> int:
        """Drop positions reported before `cutoff` (no history is kept); returns how many."""
        stale = [driver for driver, last in self._last.items() if last.at < cutoff]
        for driver in stale:
            del self._last[driver]
        return len(stale)
