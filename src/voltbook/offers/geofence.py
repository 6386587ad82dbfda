"""Which live offers' areas contain a point, and which of them a driver just entered.

Everything here is in memory and synchronous: it sits on the path of every position a
driver's app reports, so it never touches storage.

The index is a grid of latitude/longitude cells (`cell_deg` degrees, about 11 km north to
south by default). Each offer is listed in every cell its circle's bounding box touches
(`core.geo.bounding_boxes`, which also handles circles across the antimeridian or around a
pole); a lookup reads one cell, drops candidates by a padded bounding-box test and checks
the rest with the exact great-circle distance: `core.geo.great_circle_m`'s formula, step
for step, with the centre's sine and cosine worked out once when the offer is indexed
(the same operations in the same order, so the same result to the last bit).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from voltbook.core.geo import EARTH_RADIUS_M, bounding_boxes, great_circle_m
from voltbook.offers.model import Offer

DEFAULT_CELL_DEG = 0.1
_NONE: frozenset[int] = frozenset()

# (offer, centre lat, centre lon, radius m, min lat, max lat, min lon, max lon,
#  sine and cosine of the centre's latitude)
_Entry = tuple[Offer, float, float, float, float, float, float, float, float, float]


class OfferIndex:
    """A spatial index of offers' circles."""

    def __init__(self, offers: Iterable[Offer] = (), cell_deg: float = DEFAULT_CELL_DEG) -> None:
        self._cell = cell_deg
        self._cells: dict[tuple[int, int], dict[int, _Entry]] = {}
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
        phi = math.radians(area.lat)
        sin_lat, cos_lat = math.sin(phi), math.cos(phi)
        for box in bounding_boxes(area.lat, area.lon, area.radius_m):
            entry: _Entry = (
                offer,
                area.lat,
                area.lon,
                area.radius_m,
                box.min_lat,
                box.max_lat,
                box.min_lon,
                box.max_lon,
                sin_lat,
                cos_lat,
            )
            for row in range(math.floor(box.min_lat / cell), math.floor(box.max_lat / cell) + 1):
                for col in range(
                    math.floor(box.min_lon / cell), math.floor(box.max_lon / cell) + 1
                ):
                    key = (row, col)
                    self._cells.setdefault(key, {})[offer.id] = entry
                    keys.append(key)
        self._keys[offer.id] = keys
        self._offers[offer.id] = offer
        self.version += 1
        self._version[offer.id] = self.version

    def remove(self, offer_id: int) -> None:
        for key in self._keys.pop(offer_id, ()):
            members = self._cells.get(key)
            if members is not None:
                members.pop(offer_id, None)
                if not members:
                    del self._cells[key]
        self._offers.pop(offer_id, None)
        self._version.pop(offer_id, None)

    def containing(self, lat: float, lon: float) -> list[Offer]:
        """The offers whose circle contains (lat, lon), boundary included."""
        members = self._cells.get((math.floor(lat / self._cell), math.floor(lon / self._cell)))
        if not members:
            return []
        phi = math.radians(lat)
        sin2, cos2 = math.sin(phi), math.cos(phi)
        found: list[Offer] = []
        for entry in members.values():
            if entry[4] <= lat <= entry[5] and entry[6] <= lon <= entry[7]:
                # core.geo.great_circle_m(entry[1], entry[2], lat, lon), centre terms cached
                sin1, cos1 = entry[8], entry[9]
                dlmb = math.radians(lon - entry[2])
                cos_dl = math.cos(dlmb)
                y = math.hypot(cos2 * math.sin(dlmb), cos1 * sin2 - sin1 * cos2 * cos_dl)
                x = sin1 * sin2 + cos1 * cos2 * cos_dl
                if EARTH_RADIUS_M * math.atan2(y, x) <= entry[3]:
                    found.append(entry[0])
        return found


@dataclass(frozen=True, slots=True)
class _Last:
    lat: float
    lon: float
    at: datetime
    inside: frozenset[int]  # ids of the offers whose areas held this position
    version: int  # the index's version then


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
        inside: list[Offer],
        index: OfferIndex,
    ) -> list[Offer]:
        """Record the new position (`inside`: the offers of `index` whose areas hold it);
        returns those of `inside` whose area was just entered."""
        previous = self._last.get(driver_id)
        ids = frozenset([o.id for o in inside if o.id is not None]) if inside else _NONE
        self._last[driver_id] = _Last(lat, lon, at, ids, index.version)
        if not inside or previous is None or at - previous.at > self._forget:
            return []
        entered: list[Offer] = []
        for offer in inside:
            if offer.id in previous.inside or offer.id is None:
                continue
            if index.version_of(offer.id) > previous.version:
                # Added or changed since: was the previous position outside its area?
                area = offer.area
                if great_circle_m(area.lat, area.lon, previous.lat, previous.lon) <= area.radius_m:
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
            if last.at < cutoff or not last.inside:
                continue
            for offer_id in last.inside & offer_ids:
                found.setdefault(offer_id, []).append((driver_id, last.lat, last.lon))
        return found

    def forget_before(self, cutoff: datetime) -> int:
        """Drop positions reported before `cutoff` (no history is kept); returns how many."""
        stale = [driver for driver, last in self._last.items() if last.at < cutoff]
        for driver in stale:
            del self._last[driver]
        return len(stale)
