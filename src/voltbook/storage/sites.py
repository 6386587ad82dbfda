"""Sites, stations and connectors in SQL, with nearest-site search on either database.

The database narrows the candidates with its spatial index (R*Tree on SQLite, a GiST
index on a PostGIS geography on PostgreSQL); the exact great-circle ranking is done by the
domain, so both databases give the same answer (docs/adr/0001).
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from geoalchemy2 import Geography
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.core.clock import Clock
from voltbook.core.geo import bounding_boxes, great_circle_m, next_search_radius
from voltbook.core.memo import Memo
from voltbook.stations.model import (
    Connector,
    ConnectorStatus,
    NearbyQuery,
    Site,
    SiteDetails,
    SitePoint,
    rank_scored,
)
from voltbook.stations.ports import SitePlan, UpsertCounts
from voltbook.storage.rows import connector_from_row, station_from_row
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

AnySelect = sa.Select[*tuple[Any, ...]]

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

_GET_MANY_COLUMNS = (
    sites.c.id,
    sites.c.source,
    sites.c.source_id,
    sites.c.name,
    sites.c.address,
    sites.c.city,
    sites.c.region,
    sites.c.postal_code,
    sites.c.country,
    sites.c.lat,
    sites.c.lon,
    sites.c.operator,
    sites.c.access,
    sites.c.opening_hours,
    sites.c.timezone,
    stations.c.id.label("station_id"),
    stations.c.online,
    stations.c.last_seen,
    stations.c.vendor,
    stations.c.model,
    stations.c.firmware,
    stations.c.ocpp_version,
    connectors.c.evse_id,
    connectors.c.connector_id,
    connectors.c.standard,
    connectors.c.power_type,
    connectors.c.max_power_kw,
    connectors.c.status,
    connectors.c.status_since,
    connectors.c.error_code,
)
_GET_MANY: AnySelect = (
    sa.select(*_GET_MANY_COLUMNS)
    .select_from(
        sites.outerjoin(stations, stations.c.site_id == sites.c.id).outerjoin(
            connectors, connectors.c.station_id == stations.c.id
        )
    )
    .where(sites.c.id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(sites.c.id, stations.c.id, connectors.c.evse_id, connectors.c.connector_id)
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


def _qualified(column: sa.ColumnElement[Any]) -> str:
    source = column.element if isinstance(column, sa.Label) else column
    assert isinstance(source, sa.Column)
    name = f"{source.table.name}.{source.name}"
    return f"{name} AS {column.name}" if isinstance(column, sa.Label) else name


_GET_MANY_NAMES = tuple(column.name for column in _GET_MANY_COLUMNS)
_GET_MANY_SQL = (
    "SELECT "  # noqa: S608
    + ", ".join(_qualified(column) for column in _GET_MANY_COLUMNS)
    + " FROM sites LEFT OUTER JOIN stations ON stations.site_id = sites.id"
    " LEFT OUTER JOIN connectors ON connectors.station_id = stations.id"
    " WHERE sites.id {ids}"
    " ORDER BY sites.id, stations.id, connectors.evse_id, connectors.connector_id"
)
_PG_GET_MANY_SQL = _GET_MANY_SQL.format(ids="= ANY($1::integer[])")
# The KNN candidates with their rows in one trip: `get_many` is asked for the ones the domain
# ranks first next, and reads them from what this brought (one site more than it needs).
_PG_KNN_ROWS_SQL = _GET_MANY_SQL.format(ids=f"IN (SELECT id FROM ({_PG_KNN_SQL}) AS near)")  # noqa: S608


class SqlSiteRepository:
    def __init__(
        self, connection: AsyncConnection, clock: Clock, *, sqlite: bool, read_only: bool = False
    ) -> None:
        """`read_only`: the unit of work only reads (PostgreSQL: in autocommit; SQLite: in a
        deferred transaction)."""
        self._connection = connection
        self._clock = clock
        self._sqlite = sqlite
        self._read_only = read_only
        self._raw: Any = None
        # The rows `get_many` will be asked for, read with the candidates: the sites' ids and
        # their rows (SQLite: those the domain ranks first; PostgreSQL: every KNN candidate).
        self._prefetched: tuple[list[int], list[Any]] | None = None

    # --- search -------------------------------------------------------------------------

    async def nearest_candidates(self, query: NearbyQuery) -> list[SitePoint]:
        self._prefetched = None
        if not self._sqlite:
            return await (self._pg_nearest(query) if _knn_safe(query) else self._rings(query))
        raw = None if query.filters_connectors else await self._driver()
        if raw is None or not self._read_only:
            return await self._rings(query)
        # One hand-off to the connection's thread for the whole search: every ring, and the
        # rows of the sites the domain will rank first, which `get_many` is asked for next
        # (a read-only unit of work, so they cannot change in between).
        # aiosqlite (pinned) has no public call for this; SQLAlchemy uses the same two names.
        found: tuple[list[SitePoint], list[int], list[Any]]
        async with _one_sqlite_search():
            found = await raw._execute(_sqlite_search, raw._conn, query)
        points, ids, rows = found
        self._prefetched = (ids, rows)
        return points

    async def _rings(self, query: NearbyQuery) -> list[SitePoint]:
        # Rings of growing radius until one holds `limit` matching sites: every site within
        # a ring's radius is then known, so the nearest `limit` among them are exact.
        cap = query.search_radius_m
        radius = min(cap, _FIRST_RING_M)
        while True:
            points = await self._within(query, radius)
            if len(points) >= query.limit or radius >= cap:
                return points
            radius = next_search_radius(radius, len(points), query.limit, cap)

    async def _pg_nearest(self, query: NearbyQuery) -> list[SitePoint]:
        # PostGIS's KNN order, then a tie check: the nearest `limit` by our distance are
        # among the `limit + 1` nearest by PostGIS's unless the one left out may tie.
        cap = query.search_radius_m
        try:
            points = await self._knn(query, cap + _PAD_M, query.limit + 1)
        except Exception as error:
            if _KNN_FAILURE not in str(error):
                raise
            return await self._rings(query)
        if len(points) <= query.limit:
            return points
        distances = sorted(great_circle_m(query.lat, query.lon, p.lat, p.lon) for p in points)
        if distances[-1] > distances[query.limit - 1] + _TIE_M:
            return points
        # The first left out may tie with the last kept: take every site up to that
        # distance, so the domain breaks the tie by id.
        reach = min(cap, distances[query.limit - 1] + _TIE_M)
        return await self._within(query, reach)

    async def _knn(self, query: NearbyQuery, reach: float, k: int) -> list[SitePoint]:
        # A failed statement aborts a transaction: outside autocommit, keep it in a savepoint.
        lat, lon = float(query.lat), float(query.lon)
        raw = None if query.filters_connectors else await self._driver()
        if raw is not None:
            if raw.is_in_transaction():
                async with raw.transaction():
                    return _to_points(await raw.fetch(_PG_KNN_SQL, lat, lon, reach, k))
            # Autocommit (a read-only unit of work): the rows come along, read in the same
            # snapshot as the candidates.
            rows = await raw.fetch(_PG_KNN_ROWS_SQL, lat, lon, reach, k)
            points: dict[int, SitePoint] = {}
            for row in rows:  # a row per connector: one point per site
                if row["id"] not in points:
                    points[row["id"]] = SitePoint(row["id"], row["lat"], row["lon"])
            self._prefetched = (list(points), rows)
            return list(points.values())
        statement = _with_connector_filter(_PG_KNN, query)
        params = {"lat": lat, "lon": lon, "reach": reach, "k": k}
        if self._autocommit:
            return await self._points(statement, params)
        async with self._connection.begin_nested():
            return await self._points(statement, params)

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

    async def _driver(self) -> Any:
        """The driver's own connection (asyncpg or aiosqlite) for the hot statements, when
        it reads in this unit of work's transaction; else None (SQLAlchemy runs them).

        On SQLite the unit of work has sent BEGIN on it already; on PostgreSQL a read-only
        unit of work is in autocommit, and in any other SQLAlchemy starts the transaction
        with its first statement."""
        if self._raw is None:
            self._raw = (await self._connection.get_raw_connection()).driver_connection
        if self._sqlite or self._autocommit or self._raw.is_in_transaction():
            return self._raw
        return None

    # --- reading ------------------------------------------------------------------------

    async def get_many(self, site_ids: Sequence[int]) -> dict[int, Site]:
        if not site_ids:
            return {}
        ids = [int(i) for i in site_ids]
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is not None and prefetched[0] == ids:  # SQLite's: just these sites
            return _assemble(prefetched[1], _sqlite_row)
        if prefetched is not None and (wanted := set(ids)) <= set(prefetched[0]):  # PostgreSQL's
            return _assemble([row for row in prefetched[1] if row["id"] in wanted])
        raw = await self._driver()
        if raw is None:
            rows = (await self._connection.execute(_GET_MANY, {"ids": ids})).all()
            return _assemble(rows, _row_mapping)
        if not self._sqlite:
            return _assemble(await raw.fetch(_PG_GET_MANY_SQL, ids))
        rows = await raw.execute_fetchall(_sqlite_get_many_sql(len(ids)), ids)
        return _assemble(rows, _sqlite_row)

    async def count(self) -> int:
        result = await self._connection.execute(sa.select(sa.func.count()).select_from(sites))
        return int(result.scalar_one())

    # --- import -------------------------------------------------------------------------

    async def upsert_imported(self, plans: Sequence[SitePlan]) -> UpsertCounts:
        if not plans:
            return UpsertCounts()
        now = self._clock.now()
        by_key = {(p.details.source, p.details.source_id): p for p in plans}
        sources = {source for source, _ in by_key}
        existing: dict[tuple[str, str], int] = {}
        for source in sources:
            ids = [sid for src, sid in by_key if src == source]
            rows = await self._connection.execute(
                sa.select(sites.c.source_id, sites.c.id).where(
                    sites.c.source == source, sites.c.source_id.in_(ids)
                )
            )
            existing.update({(source, sid): site_id for sid, site_id in rows.all()})
        new = [p for key, p in by_key.items() if key not in existing]
        old = [(existing[key], p) for key, p in by_key.items() if key in existing]
        if new:
            await self._connection.execute(
                sites.insert(), [_site_values(p.details, now) | {"created_at": now} for p in new]
            )
            for source in {p.details.source for p in new}:
                ids = [p.details.source_id for p in new if p.details.source == source]
                rows = await self._connection.execute(
                    sa.select(sites.c.source_id, sites.c.id).where(
                        sites.c.source == source, sites.c.source_id.in_(ids)
                    )
                )
                existing.update({(source, sid): site_id for sid, site_id in rows.all()})
        if old:
            await self._connection.execute(
                sites.update().where(sites.c.id == sa.bindparam("b_id")),
                [_site_values(p.details, now) | {"b_id": site_id} for site_id, p in old],
            )
        await self._upsert_stations(list(by_key.values()), existing, now)
        return UpsertCounts(created=len(new), updated=len(old))

    async def _upsert_stations(
        self, plans: list[SitePlan], site_ids: dict[tuple[str, str], int], now: datetime
    ) -> None:
        station_ids = [p.station_id for p in plans]
        rows = await self._connection.execute(
            sa.select(stations.c.id, stations.c.ocpp_version).where(stations.c.id.in_(station_ids))
        )
        known = dict(rows.all())
        fresh = [p for p in plans if p.station_id not in known]
        if fresh:
            await self._connection.execute(
                stations.insert(),
                [
                    {
                        "id": p.station_id,
                        "site_id": site_ids[(p.details.source, p.details.source_id)],
                        "online": False,
                        "created_at": now,
                    }
                    for p in fresh
                ],
            )
        # A station that has spoken OCPP reports its own connectors; the data set's
        # description only shapes stations that never connected.
        replace = [p for p in plans if known.get(p.station_id) is None]
        if replace:
            await self._connection.execute(
                connectors.delete().where(
                    connectors.c.station_id.in_([p.station_id for p in replace])
                )
            )
            values = [
                {
                    "station_id": p.station_id,
                    "evse_id": c.evse_id,
                    "connector_id": c.connector_id,
                    "standard": c.standard.value,
                    "power_type": c.power_type.value,
                    "max_power_kw": c.max_power_kw,
                    "status": ConnectorStatus.UNKNOWN.value,
                }
                for p in replace
                for c in p.connectors
            ]
            if values:
                await self._connection.execute(connectors.insert(), values)


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


def _row_mapping(row: sa.Row[Any]) -> Any:
    return row._mapping


def _sqlite_row(values: Sequence[Any]) -> dict[str, Any]:
    row = dict(zip(_GET_MANY_NAMES, values, strict=True))
    # SQLite hands back stored times as text (SQLAlchemy's format, UTC without a zone).
    for name in ("last_seen", "status_since"):
        if row[name] is not None:
            row[name] = datetime.fromisoformat(row[name])
    return row


def _sqlite_get_many_sql(count: int) -> str:
    return _GET_MANY_SQL.format(ids=f"IN ({', '.join('?' * count)})")


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
    """The ring search of `SqlSiteRepository`, then the rows of the sites the domain will
    rank first; runs on the connection's own thread."""
    lat, lon = float(query.lat), float(query.lon)
    cap = query.search_radius_m
    radius = min(cap, _FIRST_RING_M)
    while True:
        boxes = bounding_boxes(lat, lon, radius)
        args = [v for b in boxes for v in (b.max_lat, b.min_lat, b.max_lon, b.min_lon)]
        rows = connection.execute(_SQLITE_BOX_SQL[len(boxes) - 1], args).fetchall()
        scored = [(p, great_circle_m(lat, lon, p.lat, p.lon)) for p in _to_points(rows)]
        scored = [item for item in scored if item[1] <= radius]
        if len(scored) >= query.limit or radius >= cap:
            break
        radius = next_search_radius(radius, len(scored), query.limit, cap)
    points = [point for point, _ in scored]
    ids = [point.site_id for point, _ in rank_scored(query, scored)]  # distances known
    if not ids:
        return points, ids, []
    return points, ids, connection.execute(_sqlite_get_many_sql(len(ids)), ids).fetchall()


def _site_values(details: SiteDetails, now: datetime) -> dict[str, Any]:
    return {
        "source": details.source,
        "source_id": details.source_id,
        "name": details.name[:255],
        "address": details.address[:255],
        "city": details.city[:128],
        "region": details.region[:64],
        "postal_code": details.postal_code[:16],
        "country": details.country[:2],
        "lat": details.lat,
        "lon": details.lon,
        "operator": details.operator[:128] if details.operator else None,
        "access": details.access[:16],
        "opening_hours": details.opening_hours,
        "timezone": details.timezone,
        "updated_at": now,
    }


# Sites as their rows make them, by those rows: reading a site is a pure function of its
# rows, and its parts are immutable, so a site whose rows have not changed since it was
# last read is taken from here instead of being built again (that cost more than the
# search itself). Bounded: 4,096 sites, about 30 MB with their JSON (docs/adr/0012).
_SITES: Memo[tuple[Any, ...], Site] = Memo(4_096)


def _assemble(rows: Sequence[Any], mapping: Callable[[Any], Any] | None = None) -> dict[int, Site]:
    """The sites of these rows (the site id first in each; ordered by site), each built by
    `_site` from its rows, seen through `mapping` where a row cannot be read by name."""
    groups: dict[int, list[Any]] = {}
    for row in rows:
        groups.setdefault(row[0], []).append(row)
    found: dict[int, Site] = {}
    for site_id, group in groups.items():
        key = tuple(group)
        site = _SITES.get(key)
        if site is None:
            site = _SITES.put(key, _site(group if mapping is None else list(map(mapping, group))))
        found[site_id] = site
    return found


def _site(rows: list[Any]) -> Site:
    """One site from its rows (one per connector; one with no station when it has none)."""
    first = rows[0]
    details = SiteDetails(
        source=first["source"],
        source_id=first["source_id"],
        name=first["name"],
        address=first["address"],
        city=first["city"],
        region=first["region"],
        postal_code=first["postal_code"],
        country=first["country"],
        lat=first["lat"],
        lon=first["lon"],
        operator=first["operator"],
        access=first["access"],
        opening_hours=first["opening_hours"],
        timezone=first["timezone"],
    )
    station_rows: dict[str, Any] = {}
    plugs: dict[str, list[Connector]] = {}
    for row in rows:
        station_id = row["station_id"]
        if station_id is None:
            continue
        station_rows.setdefault(station_id, row)
        plugs.setdefault(station_id, [])
        if row["evse_id"] is not None:
            plugs[station_id].append(connector_from_row(station_id, row))
    return Site(
        id=first["id"],
        details=details,
        stations=tuple(
            station_from_row(station_id, first["id"], row, plugs[station_id])
            for station_id, row in station_rows.items()
        ),
    )
