"""Nearest-site search on either database: the candidates from the spatial index (R*Tree
rings on SQLite, PostGIS KNN with a tie check on PostgreSQL), and, where they come in the same
trip, the rows of the sites the domain will rank first (docs/adr/0001, docs/adr/0012)."""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import Awaitable, Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from geoalchemy2 import Geography
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.core.geo import bounding_boxes, great_circle_m, next_search_radius
from voltbook.stations.model import ConnectorStatus, NearbyQuery, SitePoint, rank_scored
from voltbook.storage.site_rows import GET_MANY_SQL, AnySelect, sqlite_get_many_sql
from voltbook.storage.sqlite_thread import on_connection_thread
from voltbook.storage.tables import connectors, sites, sites_rtree, stations

# First ring of the SQLite search; dense cities fill `limit` inside it.
_FIRST_RING_M = 1_000.0
# PostGIS's sphere distance and ours differ by far less than this; it pads the index query.
_PAD_M = 1.0
# Two candidates closer than this in distance count as tied (PostgreSQL's KNN order is
# PostGIS's distance, which differs from ours by far less).
_TIE_M = 0.01
# PostGIS 3.3's KNN fails with this when a site lies within a fraction of a millimetre of the
# point (the index's estimate of the distance then exceeds the exact one); rings answer.
_KNN_FAILURE = "index returned tuples in wrong order"

_POINT = Geography(geometry_type="POINT", srid=4326)
_geog = sa.literal_column("sites.geog", type_=_POINT)

# --- statements, built once (the parameters are bound at execution) ------------------------

_lat = sa.bindparam("lat", type_=sa.Float)
_lon = sa.bindparam("lon", type_=sa.Float)
_pg_point = sa.cast(sa.func.ST_SetSRID(sa.func.ST_MakePoint(_lon, _lat), 4326), _POINT)
# Sites within `reach` metres on PostGIS's sphere.
_PG_RING: AnySelect = sa.select(sites.c.id, sites.c.lat, sites.c.lon).where(
    sa.func.ST_DWithin(_geog, _pg_point, sa.bindparam("reach", type_=sa.Float), False)
)
# The same, nearest first by PostGIS's distance, `k` of them.
_PG_KNN: AnySelect = _PG_RING.order_by(_geog.op("<->")(_pg_point)).limit(
    sa.bindparam("k", type_=sa.Integer)
)


def _in_box(n: int) -> sa.ColumnElement[bool]:
    return sa.and_(
        sites_rtree.c.min_lat <= sa.bindparam(f"max_lat{n}", type_=sa.Float),
        sites_rtree.c.max_lat >= sa.bindparam(f"min_lat{n}", type_=sa.Float),
        sites_rtree.c.min_lon <= sa.bindparam(f"max_lon{n}", type_=sa.Float),
        sites_rtree.c.max_lon >= sa.bindparam(f"min_lon{n}", type_=sa.Float),
    )


_sqlite_candidates = sa.select(sites.c.id, sites.c.lat, sites.c.lon).select_from(
    sites_rtree.join(sites, sites.c.id == sites_rtree.c.id)
)
# Sites in one or two latitude/longitude boxes (two where a circle crosses the antimeridian).
_SQLITE_BOXES: tuple[AnySelect, AnySelect] = (
    _sqlite_candidates.where(_in_box(0)),
    _sqlite_candidates.where(sa.or_(_in_box(0), _in_box(1))),
)

# The hot statements (no connector filter) again as the drivers' own SQL: asyncpg prepares
# each once per connection, and neither goes through SQLAlchemy's execution layers. They
# are made of constants only (hence the S608 exceptions); every value is a parameter.
_PG_POINT_SQL = "ST_SetSRID(ST_MakePoint($2, $1), 4326)::geography"
_PG_RING_SQL = f"SELECT id, lat, lon FROM sites WHERE ST_DWithin(geog, {_PG_POINT_SQL}, $3, false)"  # noqa: S608
_PG_KNN_SQL = f"{_PG_RING_SQL} ORDER BY geog <-> {_PG_POINT_SQL} LIMIT $4"
_BOX_SQL = "(r.min_lat <= ? AND r.max_lat >= ? AND r.min_lon <= ? AND r.max_lon >= ?)"
_IN_RTREE_SQL = "SELECT s.id, s.lat, s.lon FROM sites_rtree AS r JOIN sites AS s ON s.id = r.id"
_SQLITE_BOX_SQL = (
    f"{_IN_RTREE_SQL} WHERE {_BOX_SQL}",
    f"{_IN_RTREE_SQL} WHERE {_BOX_SQL} OR {_BOX_SQL}",
)


# The KNN candidates with their rows in one trip: `get_many` is asked for the ones the domain
# ranks first next, and reads them from what this brought (one site more than it needs).
_PG_KNN_ROWS_SQL = GET_MANY_SQL.format(ids=f"IN (SELECT id FROM ({_PG_KNN_SQL}) AS near)")  # noqa: S608


@dataclass(frozen=True, slots=True)
class Found:
    """What one search found: the candidates, and the rows of the sites `row_ids` (those the
    domain will ask for next) when they came along, read in the same snapshot."""

    points: list[SitePoint]
    row_ids: list[int] = field(default_factory=list)
    rows: list[Any] = field(default_factory=list)
    sqlite_rows: bool = False


def rings(query: NearbyQuery) -> Generator[float, int, None]:
    """The radii of the ring search: the first ring, then one grown from how many matching
    sites the last held (sent in), until one holds `limit` of them or the cap is reached.
    Every site within a ring's radius is then known, so the nearest `limit` are exact."""
    cap = query.search_radius_m
    radius = min(cap, _FIRST_RING_M)
    while True:
        held = yield radius
        if held >= query.limit or radius >= cap:
            return
        radius = next_search_radius(radius, held, query.limit, cap)


class SiteSearch:
    """One unit of work's search; it keeps nothing from one search to the next."""

    def __init__(
        self,
        connection: AsyncConnection,
        driver: Callable[[], Awaitable[Any]],
        *,
        sqlite: bool,
        read_only: bool,
    ) -> None:
        self._connection = connection
        self._driver = driver
        self._sqlite = sqlite
        self._read_only = read_only

    async def candidates(self, query: NearbyQuery) -> Found:
        if not self._sqlite:
            if _knn_safe(query):
                return await self._pg_nearest(query)
            return Found(await self._rings(query))
        raw = None if query.filters_connectors else await self._driver()
        if raw is None or not self._read_only:
            return Found(await self._rings(query))
        # One hand-off to the connection's thread for the whole search: every ring, and the
        # rows of the sites the domain will rank first, which are asked for next (a
        # read-only unit of work, so they cannot change in between).
        async with _one_sqlite_search():
            points, ids, rows = await on_connection_thread(raw, _sqlite_search, query)
        return Found(points, ids, rows, sqlite_rows=True)

    async def _rings(self, query: NearbyQuery) -> list[SitePoint]:
        radii = rings(query)
        radius = next(radii)
        while True:
            points = await self._within(query, radius)
            try:
                radius = radii.send(len(points))
            except StopIteration:
                return points

    async def _pg_nearest(self, query: NearbyQuery) -> Found:
        # PostGIS's KNN order, then a tie check: the nearest `limit` by our distance are
        # among the `limit + 1` nearest by PostGIS's unless the one left out may tie.
        cap = query.search_radius_m
        try:
            found = await self._knn(query, cap + _PAD_M, query.limit + 1)
        except Exception as error:
            if _KNN_FAILURE not in str(error):
                raise
            return Found(await self._rings(query))
        points = found.points
        if len(points) <= query.limit:
            return found
        distances = sorted(great_circle_m(query.lat, query.lon, p.lat, p.lon) for p in points)
        if distances[-1] > distances[query.limit - 1] + _TIE_M:
            return found
        # The first left out may tie with the last kept: take every site up to that
        # distance, so the domain breaks the tie by id.
        reach = min(cap, distances[query.limit - 1] + _TIE_M)
        return Found(await self._within(query, reach))

    async def _knn(self, query: NearbyQuery, reach: float, k: int) -> Found:
        # A failed statement aborts a transaction: outside autocommit, keep it in a savepoint.
        lat, lon = float(query.lat), float(query.lon)
        raw = None if query.filters_connectors else await self._driver()
        if raw is not None:
            if raw.is_in_transaction():
                async with raw.transaction():
                    return Found(_to_points(await raw.fetch(_PG_KNN_SQL, lat, lon, reach, k)))
            # Autocommit (a read-only unit of work): the rows come along, read in the same
            # snapshot as the candidates.
            rows = await raw.fetch(_PG_KNN_ROWS_SQL, lat, lon, reach, k)
            points: dict[int, SitePoint] = {}
            for row in rows:  # a row per connector: one point per site
                if row["id"] not in points:
                    points[row["id"]] = SitePoint(row["id"], row["lat"], row["lon"])
            return Found(list(points.values()), list(points), rows)
        statement = _with_connector_filter(_PG_KNN, query)
        params = {"lat": lat, "lon": lon, "reach": reach, "k": k}
        if self._autocommit:
            return Found(await self._points(statement, params))
        async with self._connection.begin_nested():
            return Found(await self._points(statement, params))

    async def _within(self, query: NearbyQuery, radius_m: float) -> list[SitePoint]:
        """Matching sites within `radius_m` of the query point, by the exact distance."""
        lat, lon = float(query.lat), float(query.lon)
        raw = None if query.filters_connectors else await self._driver()
        if self._sqlite:
            boxes = bounding_boxes(lat, lon, radius_m)
            if raw is not None:
                args = [v for b in boxes for v in (b.max_lat, b.min_lat, b.max_lon, b.min_lon)]
                rows = await raw.execute_fetchall(_SQLITE_BOX_SQL[len(boxes) - 1], args)
                points = _to_points(rows)
            else:
                params: dict[str, float] = {}
                for n, box in enumerate(boxes):
                    params[f"min_lat{n}"] = box.min_lat
                    params[f"max_lat{n}"] = box.max_lat
                    params[f"min_lon{n}"] = box.min_lon
                    params[f"max_lon{n}"] = box.max_lon
                statement = _with_connector_filter(_SQLITE_BOXES[len(boxes) - 1], query)
                points = await self._points(statement, params)
        elif raw is not None:
            points = _to_points(await raw.fetch(_PG_RING_SQL, lat, lon, radius_m + _PAD_M))
        else:
            params = {"lat": lat, "lon": lon, "reach": radius_m + _PAD_M}
            points = await self._points(_with_connector_filter(_PG_RING, query), params)
        return [p for p in points if great_circle_m(lat, lon, p.lat, p.lon) <= radius_m]

    async def _points(self, statement: AnySelect, params: dict[str, float]) -> list[SitePoint]:
        return _to_points((await self._connection.execute(statement, params)).all())

    @property
    def _autocommit(self) -> bool:
        return self._read_only and not self._sqlite


def _knn_safe(query: NearbyQuery) -> bool:
    """Whether PostGIS's KNN order can be used: the search circle neither crosses the
    antimeridian nor reaches a pole, where PostGIS 3.3 fails with "index returned tuples
    in wrong order" (docs/adr/0001)."""
    boxes = bounding_boxes(query.lat, query.lon, query.search_radius_m)
    return len(boxes) == 1 and boxes[0].max_lon - boxes[0].min_lon < 360.0


def _with_connector_filter(statement: AnySelect, query: NearbyQuery) -> AnySelect:
    """Keep sites with at least one connector that satisfies every connector filter at once."""
    if not query.filters_connectors:
        return statement
    conditions: list[sa.ColumnElement[bool]] = [stations.c.site_id == sites.c.id]
    if query.standards:
        conditions.append(connectors.c.standard.in_(sorted(s.value for s in query.standards)))
    if query.power_type is not None:
        conditions.append(connectors.c.power_type == query.power_type.value)
    if query.min_power_kw is not None:
        conditions.append(connectors.c.max_power_kw >= query.min_power_kw)
    if query.available_only:
        conditions.append(connectors.c.status == ConnectorStatus.AVAILABLE.value)
        conditions.append(stations.c.online.is_(True))
    match = (
        sa.select(sa.literal(1))
        .select_from(connectors.join(stations, stations.c.id == connectors.c.station_id))
        .where(*conditions)
    )
    return statement.where(match.exists())


def _to_points(rows: Iterable[Any]) -> list[SitePoint]:
    return [SitePoint(int(row[0]), float(row[1]), float(row[2])) for row in rows]


# SQLite searches run one at a time in a process (per event loop): their Python work runs on
# aiosqlite's threads and competes with the event loop for the interpreter, so that several
# at once answer slower than one after another (8 clients: 277 searches/s with p99 116 ms
# at once, 404/s with p99 37 ms one at a time; docs/benchmarks.md). Nothing else is awaited
# while the lock is held.
_SQLITE_SEARCHES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _one_sqlite_search() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _SQLITE_SEARCHES.get(loop)
    if lock is None:
        lock = _SQLITE_SEARCHES[loop] = asyncio.Lock()
    return lock


def _sqlite_search(
    connection: sqlite3.Connection, query: NearbyQuery
) -> tuple[list[SitePoint], list[int], list[Any]]:
    """The ring search of `SiteSearch`, then the rows of the sites the domain will
    rank first; runs on the connection's own thread."""
    lat, lon = float(query.lat), float(query.lon)
    radii = rings(query)
    radius = next(radii)
    while True:
        boxes = bounding_boxes(lat, lon, radius)
        args = [v for b in boxes for v in (b.max_lat, b.min_lat, b.max_lon, b.min_lon)]
        rows = connection.execute(_SQLITE_BOX_SQL[len(boxes) - 1], args).fetchall()
        scored = [(p, great_circle_m(lat, lon, p.lat, p.lon)) for p in _to_points(rows)]
        scored = [item for item in scored if item[1] <= radius]
        try:
            radius = radii.send(len(scored))
        except StopIteration:
            break
    points = [point for point, _ in scored]
    ids = [point.site_id for point, _ in rank_scored(query, scored)]  # distances known
    if not ids:
        return points, ids, []
    return points, ids, connection.execute(sqlite_get_many_sql(len(ids)), ids).fetchall()
