"""Every site's version, read in one statement, for the site catalog's reconciliation.

A site's version is the set of its rows' columns that any change to what a search shows of
it touches: the site's `updated_at` (every import that writes the site sets it; nothing else
writes sites), and for each of its stations and their connectors the columns the search
answer carries. Comparing it with the last one read tells which sites to read again
(docs/adr/0022).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from voltbook.storage.tables import connectors, sites, stations

_VERSIONS = sa.select(
    sites.c.id,
    sites.c.updated_at,
    stations.c.id,
    stations.c.online,
    stations.c.last_seen,
    connectors.c.evse_id,
    connectors.c.connector_id,
    connectors.c.standard,
    connectors.c.power_type,
    connectors.c.max_power_kw,
    connectors.c.status,
    connectors.c.status_since,
    connectors.c.error_code,
).select_from(
    sites.outerjoin(stations, stations.c.site_id == sites.c.id).outerjoin(
        connectors, connectors.c.station_id == stations.c.id
    )
)


class SqlSiteVersions:
    """`SiteVersions` on SQLite or PostgreSQL (on the reader engine when there is one)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def versions(self) -> dict[int, Hashable]:
        async with self._engine.connect() as connection:
            rows = (await connection.execute(_VERSIONS)).all()
        grouped: dict[int, list[tuple[Any, ...]]] = {}
        for row in rows:
            grouped.setdefault(row[0], []).append(tuple(row[1:]))
        # A site's rows come in no particular order: a frozenset compares them as a set.
        return {site_id: frozenset(group) for site_id, group in grouped.items()}
