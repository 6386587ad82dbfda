"""Sites, stations and connectors in SQL, with nearest-site search on either database.

The database narrows the candidates with its spatial index (R*Tree on SQLite, a GiST
index on a PostGIS geography on PostgreSQL; see `site_search`); the exact great-circle
ranking is done by the domain, so both databases give the same answer (docs/adr/0001).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.core.clock import Clock
from voltbook.stations.model import (
    ConnectorStatus,
    NearbyQuery,
    NearbySite,
    Site,
    SitePoint,
    rank_nearest,
)
from voltbook.stations.ports import SitePlan, UpsertCounts
from voltbook.storage.site_rows import (
    GET_MANY,
    PG_GET_MANY_SQL,
    assemble,
    row_mapping,
    site_values,
    sqlite_get_many_sql,
    sqlite_row,
)
from voltbook.storage.site_search import Found, SiteSearch
from voltbook.storage.tables import connectors, sites, stations


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
        self._raw: Any = None  # the driver's connection, once asked for (it does not change)
        self._search = SiteSearch(connection, self._driver, sqlite=sqlite, read_only=read_only)

    # --- search -------------------------------------------------------------------------

    async def nearby(self, query: NearbyQuery) -> list[NearbySite]:
        found = await self._search.candidates(query)
        ranked = rank_nearest(query, found.points)
        read = await self._read([point.site_id for point, _ in ranked], found)
        return [
            NearbySite(site=read[point.site_id], distance_m=distance)
            for point, distance in ranked
            if point.site_id in read
        ]

    async def nearest_candidates(self, query: NearbyQuery) -> list[SitePoint]:
        return (await self._search.candidates(query)).points

    async def _driver(self) -> Any:
        """The driver's own connection (asyncpg or aiosqlite) for the hot statements, when
        it reads in this unit of work's transaction; else None (SQLAlchemy runs them).

        On SQLite the unit of work has sent BEGIN on it already; on PostgreSQL a read-only
        unit of work is in autocommit, and in any other SQLAlchemy starts the transaction
        with its first statement."""
        if self._raw is None:
            self._raw = (await self._connection.get_raw_connection()).driver_connection
        if self._sqlite or self._read_only or self._raw.is_in_transaction():
            return self._raw
        return None

    # --- reading ------------------------------------------------------------------------

    async def get_many(self, site_ids: Sequence[int]) -> dict[int, Site]:
        if not site_ids:
            return {}
        return await self._read([int(i) for i in site_ids])

    async def _read(self, ids: list[int], found: Found | None = None) -> dict[int, Site]:
        """The sites `ids`, from the rows a search brought along when it has them."""
        if found is not None and found.sqlite_rows and found.row_ids == ids:  # just these
            return assemble(found.rows, sqlite_row)
        if (
            found is not None
            and not found.sqlite_rows
            and (wanted := set(ids)) <= set(found.row_ids)
        ):  # every KNN candidate's rows (PostgreSQL)
            return assemble([row for row in found.rows if row["id"] in wanted])
        raw = await self._driver()
        if raw is None:
            rows = (await self._connection.execute(GET_MANY, {"ids": ids})).all()
            return assemble(rows, row_mapping)
        if not self._sqlite:
            return assemble(await raw.fetch(PG_GET_MANY_SQL, ids))
        rows = await raw.execute_fetchall(sqlite_get_many_sql(len(ids)), ids)
        return assemble(rows, sqlite_row)

    async def sites_of(self, station_ids: list[str]) -> dict[str, int | None]:
        return await sites_of(self._connection, station_ids)

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
                sites.insert(), [site_values(p.details, now) | {"created_at": now} for p in new]
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
                [site_values(p.details, now) | {"b_id": site_id} for site_id, p in old],
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


async def sites_of(connection: AsyncConnection, station_ids: list[str]) -> dict[str, int | None]:
    """Each station's site (None: none); unknown stations are left out."""
    if not station_ids:
        return {}
    rows = await connection.execute(
        sa.select(stations.c.id, stations.c.site_id).where(stations.c.id.in_(station_ids))
    )
    return {str(r.id): r.site_id for r in rows}
