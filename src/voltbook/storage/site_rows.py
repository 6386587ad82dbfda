"""Sites as rows: the statement that reads a site with its stations and connectors (through
SQLAlchemy and as the drivers' own SQL), and sites built from those rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from voltbook.core.memo import Memo
from voltbook.stations.model import Connector, Site, SiteDetails
from voltbook.storage.rows import connector_from_row, station_from_row
from voltbook.storage.tables import connectors, sites, stations

AnySelect = sa.Select[*tuple[Any, ...]]

GET_MANY_COLUMNS = (
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
GET_MANY: AnySelect = (
    sa.select(*GET_MANY_COLUMNS)
    .select_from(
        sites.outerjoin(stations, stations.c.site_id == sites.c.id).outerjoin(
            connectors, connectors.c.station_id == stations.c.id
        )
    )
    .where(sites.c.id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(sites.c.id, stations.c.id, connectors.c.evse_id, connectors.c.connector_id)
)


def _qualified(column: sa.ColumnElement[Any]) -> str:
    source = column.element if isinstance(column, sa.Label) else column
    assert isinstance(source, sa.Column)
    name = f"{source.table.name}.{source.name}"
    return f"{name} AS {column.name}" if isinstance(column, sa.Label) else name


GET_MANY_NAMES = tuple(column.name for column in GET_MANY_COLUMNS)
GET_MANY_SQL = (
    "SELECT "  # noqa: S608
    + ", ".join(_qualified(column) for column in GET_MANY_COLUMNS)
    + " FROM sites LEFT OUTER JOIN stations ON stations.site_id = sites.id"
    " LEFT OUTER JOIN connectors ON connectors.station_id = stations.id"
    " WHERE sites.id {ids}"
    " ORDER BY sites.id, stations.id, connectors.evse_id, connectors.connector_id"
)
PG_GET_MANY_SQL = GET_MANY_SQL.format(ids="= ANY($1::integer[])")


def row_mapping(row: sa.Row[Any]) -> Any:
    return row._mapping


def sqlite_row(values: Sequence[Any]) -> dict[str, Any]:
    row = dict(zip(GET_MANY_NAMES, values, strict=True))
    # SQLite hands back stored times as text (SQLAlchemy's format, UTC without a zone).
    for name in ("last_seen", "status_since"):
        if row[name] is not None:
            row[name] = datetime.fromisoformat(row[name])
    return row


def sqlite_get_many_sql(count: int) -> str:
    return GET_MANY_SQL.format(ids=f"IN ({', '.join('?' * count)})")


def site_values(details: SiteDetails, now: datetime) -> dict[str, Any]:
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


def assemble(rows: Sequence[Any], mapping: Callable[[Any], Any] | None = None) -> dict[int, Site]:
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
