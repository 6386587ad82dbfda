"""The statements the reservation repository runs, built once (per kind of database)."""

from __future__ import annotations

import sqlalchemy as sa

from voltbook.storage.lists import among, bound_arrays, per_database
from voltbook.storage.tables import (
    connectors,
    id_tokens,
    reservation_history,
    reservations,
    sites,
    stations,
)

_R = reservations


# Bookings of a batch in one INSERT on PostgreSQL: one array per column, so the statement is
# the same text for any number of rows; a row the exclusion constraint (or the key) refuses
# is skipped, the others are stored.
_NEW_TYPES = {
    "driver_id": "text",
    "station_id": "text",
    "evse_id": "integer",
    "any_evse": "boolean",
    "starts_at": "timestamptz",
    "ends_at": "timestamptz",
    "grace_s": "integer",
    "status": "text",
    "id_tag": "text",
    "vehicle_id": "text",
    "idempotency_key": "text",
    "fingerprint": "text",
    "created_at": "timestamptz",
}
NEW_COLUMNS = tuple(_NEW_TYPES)
# Their history and jobs in the same statement: each names its booking by (station, EVSE,
# start), which no two bookings of a batch share, and goes in only if the booking did.
_HISTORY_TYPES = {
    "h_station_id": "text",
    "h_evse_id": "integer",
    "h_starts_at": "timestamptz",
    "h_at": "timestamptz",
    "h_status": "text",
    "h_change": "text",
    "h_reason": "text",
    "h_connector": "text",
}

# And their jobs, the same way.
_JOB_TYPES = {
    "j_station_id": "text",
    "j_evse_id": "integer",
    "j_starts_at": "timestamptz",
    "j_kind": "text",
    "j_due_at": "timestamptz",
}


PG_ADD_MANY = sa.text(
    "WITH new AS ("  # noqa: S608 (names, not data)
    f"INSERT INTO reservations ({', '.join(NEW_COLUMNS)}) SELECT * FROM unnest("
    f"{bound_arrays(_NEW_TYPES)}) ON CONFLICT DO NOTHING "
    "RETURNING id, station_id, evse_id, starts_at), "
    "history AS (INSERT INTO reservation_history "
    "(reservation_id, at, status, change, reason, connector) "
    "SELECT new.id, h.at, h.status, h.change, h.reason, h.connector "
    f"FROM unnest({bound_arrays(_HISTORY_TYPES)}) WITH ORDINALITY "
    "AS h(station_id, evse_id, starts_at, at, status, change, reason, connector, n) "
    "JOIN new ON new.station_id = h.station_id AND new.evse_id = h.evse_id "
    "AND new.starts_at = h.starts_at ORDER BY h.n), "
    "jobs AS (INSERT INTO reservation_jobs (reservation_id, kind, due_at, attempts) "
    "SELECT new.id, j.kind, j.due_at, 0 "
    f"FROM unnest({bound_arrays(_JOB_TYPES)}) AS j(station_id, evse_id, starts_at, kind, due_at) "
    "JOIN new ON new.station_id = j.station_id AND new.evse_id = j.evse_id "
    "AND new.starts_at = j.starts_at) "
    "SELECT id, station_id, evse_id, starts_at FROM new"
)
_WINDOW_TYPES = {"stations": "text", "starts": "timestamptz", "ends": "timestamptz"}
PG_BUSY_DURING = sa.text(
    "SELECT DISTINCT r.id, r.station_id, r.evse_id, r.starts_at, r.ends_at "  # noqa: S608 (names, not data)
    f"FROM unnest({bound_arrays(_WINDOW_TYPES)}) AS w(station_id, s, e) "
    "JOIN reservations r ON r.station_id = w.station_id AND r.starts_at < w.e "
    "AND r.ends_at > w.s WHERE r.status = ANY(CAST(:live AS text[]))"
)


class _Queries:
    """The statements a booking batch runs, built once per kind of database."""

    def __init__(self, sqlite: bool) -> None:
        self.by_keys = (
            sa.select(_R)
            .where(
                among(_R.c.driver_id, "drivers", sqlite=sqlite),
                among(_R.c.idempotency_key, "keys", sqlite=sqlite),
            )
            .order_by(_R.c.id.desc())
        )
        self.history = (
            sa.select(reservation_history)
            .where(among(reservation_history.c.reservation_id, "ids", sqlite=sqlite))
            .order_by(reservation_history.c.id)
        )
        self.live_counts = (
            sa.select(_R.c.driver_id, sa.func.count())
            .where(
                among(_R.c.driver_id, "drivers", sqlite=sqlite),
                among(_R.c.status, "live", sqlite=sqlite),
            )
            .group_by(_R.c.driver_id)
        )
        self.id_tags = (
            sa.select(id_tokens.c.driver_id, sa.func.min(id_tokens.c.token))
            .where(among(id_tokens.c.driver_id, "drivers", sqlite=sqlite))
            .group_by(id_tokens.c.driver_id)
        )
        self.sites_hours = (
            sa.select(stations.c.id, sites.c.opening_hours, sites.c.timezone, sites.c.region)
            .select_from(stations.join(sites, sites.c.id == stations.c.site_id))
            .where(among(stations.c.id, "stations", sqlite=sqlite))
        )
        self.evses_of = EVSES.where(among(stations.c.id, "stations", sqlite=sqlite))


# Every connector of the stations that match a condition, by station and EVSE.
EVSES = (
    sa.select(stations.c.id, connectors.c.evse_id, connectors.c.standard, connectors.c.status)
    .select_from(stations.outerjoin(connectors, connectors.c.station_id == stations.c.id))
    .order_by(stations.c.id, connectors.c.evse_id)
)
queries = per_database(_Queries)
# PostgreSQL: each station's EVSEs and its site's opening hours in one row, its connectors
# as arrays in EVSE order; a batch reads a row per station, not one per connector.
_CONNECTOR_ORDER = "ORDER BY c.evse_id, c.connector_id) FILTER (WHERE c.evse_id IS NOT NULL)"
PG_STATIONS = sa.text(
    f"SELECT st.id, array_agg(c.evse_id {_CONNECTOR_ORDER}, "  # noqa: S608 (names, not data)
    f"array_agg(c.standard {_CONNECTOR_ORDER}, array_agg(c.status {_CONNECTOR_ORDER}, "
    "si.id, si.opening_hours, si.timezone, si.region "
    "FROM stations st LEFT JOIN sites si ON si.id = st.site_id "
    "LEFT JOIN connectors c ON c.station_id = st.id "
    "WHERE st.id = ANY(CAST(:stations AS text[])) GROUP BY st.id, si.id"
)
