"""What changed in the sites a search shows, for the site catalog's reconciliation.

Three statements read the columns of every row that a change to a search's answer touches:
each site's `updated_at` (every import that writes a site sets it to its time; nothing else
writes sites) and position; each station's site, online flag and `last_seen`; each
connector's kind, status, `status_since` and error code. Compared with the previous
reading, they tell which sites to read again (docs/adr/0022). The driver's own values are
compared, with no type conversion (on SQLite a time stays the text it is stored as): that
conversion cost more than the statements. Each statement reads one table without a join.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from voltbook.storage.tables import sites, stations

_since = sa.bindparam("since", type_=sa.DateTime(timezone=True))
# Rows this server's clock stamped lately: (site id, table, row id, stamp).
_STAMPED = sa.union_all(
    sa.select(sites.c.id, sa.literal("site"), sa.cast(sites.c.id, sa.String), sites.c.updated_at)
    .where(sites.c.updated_at >= _since),
    sa.select(stations.c.site_id, sa.literal("seen"), stations.c.id, stations.c.last_seen)
    .where(stations.c.site_id.is_not(None), stations.c.last_seen >= _since),
    sa.select(stations.c.site_id, sa.literal("made"), stations.c.id, stations.c.created_at)
    .where(stations.c.site_id.is_not(None), stations.c.created_at >= _since),
)  # fmt: skip
_COUNT = sa.select(sa.func.count()).select_from(sites)

_SITES_SQL = "SELECT id, updated_at, lat, lon FROM sites"
_STATIONS_SQL = "SELECT id, site_id, online, last_seen FROM stations"
_CONNECTORS_SQL = (
    "SELECT station_id, evse_id, connector_id, standard, power_type, max_power_kw, status,"
    " status_since, error_code FROM connectors"
)


@dataclass(frozen=True, slots=True)
class Reading:
    sites: dict[Any, tuple[Any, ...]]
    stations: dict[Any, tuple[Any, ...]]
    connectors: dict[Any, tuple[Any, ...]]


def _by_key(rows: Any, width: int) -> dict[Any, tuple[Any, ...]]:
    if width == 1:
        return {row[0]: tuple(row[1:]) for row in rows}
    return {tuple(row[:width]): tuple(row[width:]) for row in rows}


def _changed(old: dict[Any, tuple[Any, ...]], new: dict[Any, tuple[Any, ...]]) -> set[Any]:
    keys = {key for key, value in new.items() if old.get(key) != value}
    keys.update(old.keys() - new.keys())
    return keys


class SqlSiteVersions:
    """`SiteVersions` on SQLite or PostgreSQL (on the reader engine when there is one)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @contextlib.asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        # A read: on SQLite a deferred BEGIN, never the write lock (every write transaction
        # takes it at BEGIN, and this runs every 0.5 s).
        async with self._engine.connect() as connection:
            yield await connection.execution_options(sqlite_read_only=True)

    async def stamped_since(self, since: datetime) -> tuple[int, set[tuple[Any, ...]]]:
        async with self._reading() as connection:
            count = (await connection.execute(_COUNT)).scalar_one()
            rows = (await connection.execute(_STAMPED, {"since": since})).all()
        return int(count), {tuple(row) for row in rows}

    async def read(self, previous: Reading | None) -> tuple[Reading, set[int], set[int]]:
        async with self._reading() as connection:
            found = [
                (await connection.exec_driver_sql(sql)).all()
                for sql in (_SITES_SQL, _STATIONS_SQL, _CONNECTORS_SQL)
            ]
        reading = Reading(_by_key(found[0], 1), _by_key(found[1], 1), _by_key(found[2], 3))
        every = set(reading.sites)
        if previous is None:
            return reading, every, every
        changed = set(_changed(previous.sites, reading.sites))
        for station_id in _changed(previous.stations, reading.stations):
            for known in (previous.stations, reading.stations):
                if (row := known.get(station_id)) is not None and row[0] is not None:
                    changed.add(row[0])
        for station_id, _, _ in _changed(previous.connectors, reading.connectors):
            row = reading.stations.get(station_id) or previous.stations.get(station_id)
            if row is not None and row[0] is not None:
                changed.add(row[0])
        return reading, changed & every, every
