"""Reservations, their history and jobs in SQL; the overlap guard is the database's."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.core.clock import Clock
from voltbook.core.errors import Conflict
from voltbook.core.memo import Memo
from voltbook.reservations.model import Alternative, Change, HistoryEntry, Reservation, Status
from voltbook.reservations.ports import Busy, Evse, Job, JobKind, NewJob, SiteHours, SlotTaken
from voltbook.stations.model import ConnectorStatus
from voltbook.storage.drivers import lock_drivers
from voltbook.storage.lists import among, bound_arrays, insert_many, per_database
from voltbook.storage.tables import (
    connectors,
    id_tokens,
    reservation_history,
    reservation_jobs,
    reservations,
    sites,
    stations,
    vehicles,
)
from voltbook.storage.timestamps import as_utc

_R = reservations
_J = reservation_jobs
_LIVE = [s.value for s in Status if s.live]
_UNUSABLE = (ConnectorStatus.FAULTED.value, ConnectorStatus.UNAVAILABLE.value)
_IN_USE = frozenset(
    s.value
    for s in (
        ConnectorStatus.PREPARING,
        ConnectorStatus.CHARGING,
        ConnectorStatus.SUSPENDED_EV,
        ConnectorStatus.SUSPENDED_EVSE,
        ConnectorStatus.FINISHING,
    )
)
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
_NEW_COLUMNS = tuple(_NEW_TYPES)
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


_PG_ADD_MANY = sa.text(
    "WITH new AS ("  # noqa: S608 (names, not data)
    f"INSERT INTO reservations ({', '.join(_NEW_COLUMNS)}) SELECT * FROM unnest("
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
_PG_BUSY_DURING = sa.text(
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
        self.evses_of = _EVSES.where(among(stations.c.id, "stations", sqlite=sqlite))


# Every connector of the stations that match a condition, by station and EVSE.
_EVSES = (
    sa.select(stations.c.id, connectors.c.evse_id, connectors.c.standard, connectors.c.status)
    .select_from(stations.outerjoin(connectors, connectors.c.station_id == stations.c.id))
    .order_by(stations.c.id, connectors.c.evse_id)
)
_queries = per_database(_Queries)
# PostgreSQL: each station's EVSEs and its site's opening hours in one row, its connectors
# as arrays in EVSE order; a batch reads a row per station, not one per connector.
_CONNECTOR_ORDER = "ORDER BY c.evse_id, c.connector_id) FILTER (WHERE c.evse_id IS NOT NULL)"
_PG_STATIONS = sa.text(
    f"SELECT st.id, array_agg(c.evse_id {_CONNECTOR_ORDER}, "  # noqa: S608 (names, not data)
    f"array_agg(c.standard {_CONNECTOR_ORDER}, array_agg(c.status {_CONNECTOR_ORDER}, "
    "si.id, si.opening_hours, si.timezone, si.region "
    "FROM stations st LEFT JOIN sites si ON si.id = st.site_id "
    "LEFT JOIN connectors c ON c.station_id = st.id "
    "WHERE st.id = ANY(CAST(:stations AS text[])) GROUP BY st.id, si.id"
)
# A station's EVSEs by its connectors' rows: a pure function of them, and immutable.
_STATION_EVSES: Memo[tuple[Any, ...], tuple[Evse, ...]] = Memo(4_096)


class SqlReservationRepository:
    def __init__(self, connection: AsyncConnection, clock: Clock, *, sqlite: bool) -> None:
        self._connection = connection
        self._clock = clock
        self._sqlite = sqlite
        self._q = _queries(sqlite)
        # The opening hours `evses_of` read (PostgreSQL): the stations asked, and theirs.
        self._hours: tuple[frozenset[str], dict[str, SiteHours]] | None = None

    async def add(self, reservation: Reservation) -> Reservation:
        new_id = await self._guarded(_R.insert().values(**_new(reservation)).returning(_R.c.id))
        saved = Reservation(**{**_fields(reservation), "id": new_id})
        await self._history([(saved.id, saved.history)])
        return saved

    async def add_many(
        self, reservations: list[Reservation], jobs: Sequence[Sequence[NewJob]] = ()
    ) -> list[Reservation | None]:
        jobs = jobs or [()] * len(reservations)
        if self._sqlite:  # writes are serialized: one savepoint per row is cheap there
            saved = [await self._add_or_none(r) for r in reservations]
            await self._add_jobs(
                [
                    (r.id, kind, due_at, None)
                    for r, theirs in zip(saved, jobs, strict=True)
                    if r is not None
                    for kind, due_at in theirs
                ]
            )
            return saved
        # One statement; the rows the exclusion constraint or the key refuses are skipped.
        # Rows go in one order for every batch (station, EVSE, start): a batch that meets
        # another's uncommitted row waits for it before it has taken any row the other
        # needs later, so two batches whose slots cross never wait for each other.
        rows = [_new(r) for r in sorted(reservations, key=_slot_order)]
        params = {column: [row[column] for row in rows] for column in _NEW_COLUMNS}
        entries = [(r, _history_row(0, e)) for r in reservations for e in r.history]
        params["h_station_id"] = [r.station_id for r, _ in entries]
        params["h_evse_id"] = [r.evse_id for r, _ in entries]
        params["h_starts_at"] = [r.starts_at for r, _ in entries]
        for name in ("at", "status", "change", "reason", "connector"):
            params[f"h_{name}"] = [row[name] for _, row in entries]
        due = [(r, job) for r, theirs in zip(reservations, jobs, strict=True) for job in theirs]
        params["j_station_id"] = [r.station_id for r, _ in due]
        params["j_evse_id"] = [r.evse_id for r, _ in due]
        params["j_starts_at"] = [r.starts_at for r, _ in due]
        params["j_kind"] = [kind.value for _, (kind, _) in due]
        params["j_due_at"] = [due_at for _, (_, due_at) in due]
        inserted = await self._connection.execute(_PG_ADD_MANY, params)
        ids = {(row[1], row[2], as_utc(row[3])): row[0] for row in inserted}
        return [
            Reservation(**{**_fields(r), "id": ids[key]})
            if (key := (r.station_id, r.evse_id, r.starts_at)) in ids
            else None
            for r in reservations
        ]

    async def _add_or_none(self, reservation: Reservation) -> Reservation | None:
        try:
            return await self.add(reservation)
        except (SlotTaken, Conflict):
            return None

    async def save(self, reservation: Reservation) -> None:
        await self._guarded(
            _R.update().where(_R.c.id == reservation.id).values(**_values(reservation))
        )
        stored = await self._connection.scalar(
            sa.select(sa.func.count())
            .select_from(reservation_history)
            .where(reservation_history.c.reservation_id == reservation.id)
        )
        await self._history([(reservation.id, reservation.history[int(stored or 0) :])])

    async def _guarded(self, statement: Any) -> int:
        try:
            async with self._connection.begin_nested():
                result = await self._connection.execute(statement)
        except IntegrityError as error:
            if "overlap" in str(error.orig):
                raise SlotTaken("this connector is booked for that time") from None
            if "uq_reservations_key" in str(error.orig) or "idempotency_key" in str(error.orig):
                raise Conflict("a request with this Idempotency-Key is being processed") from None
            raise
        return int(result.scalar_one()) if result.returns_rows else 0

    async def _history(self, entries: list[tuple[int, tuple[HistoryEntry, ...]]]) -> None:
        rows = [
            _history_row(reservation_id, e) for reservation_id, history in entries for e in history
        ]
        await insert_many(self._connection, reservation_history, rows)

    async def get(self, reservation_id: int, *, lock: bool = False) -> Reservation | None:
        found = await self._load(_R.c.id == reservation_id, lock=lock)
        return found[0] if found else None

    async def by_keys(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Reservation]:
        if not keys:
            return {}
        # Every driver's bookings with any of the keys, then the pairs asked for: two lists
        # where a list of pairs would need a statement per length.
        params = {"drivers": sorted({d for d, _ in keys}), "keys": sorted({k for _, k in keys})}
        wanted = set(keys)
        found = await self._read(self._q.by_keys, params)
        return {key: r for r in found if (key := (r.driver_id, r.idempotency_key or "")) in wanted}

    async def live_counts(self, driver_ids: list[str]) -> dict[str, int]:
        if not driver_ids:
            return {}
        # PostgreSQL: the lock, then the count, in a statement of its own: one that waited
        # for the lock counts with a snapshot taken after the other batch committed.
        if not self._sqlite:  # one driver's bookings queue up behind each other
            await self._connection.execute(lock_drivers(False), {"drivers": driver_ids})
        rows = await self._connection.execute(
            self._q.live_counts, {"drivers": driver_ids, "live": _LIVE}
        )
        return {row[0]: int(row[1]) for row in rows}

    async def busy(self, station_id: str, start: datetime, end: datetime) -> list[Busy]:
        return (await self.busy_during([(station_id, start, end)])).get(station_id, [])

    async def busy_during(
        self, windows: list[tuple[str, datetime, datetime]]
    ) -> dict[str, list[Busy]]:
        if self._sqlite:
            statement: Any = sa.select(
                _R.c.id, _R.c.station_id, _R.c.evse_id, _R.c.starts_at, _R.c.ends_at
            ).where(
                _R.c.status.in_(_LIVE),
                sa.or_(
                    *(
                        sa.and_(
                            _R.c.station_id == station, _R.c.starts_at < end, _R.c.ends_at > start
                        )
                        for station, start, end in windows
                    )
                ),
            )
            rows = await self._connection.execute(statement)
        else:  # one statement whatever the number of windows, planned once
            rows = await self._connection.execute(
                _PG_BUSY_DURING,
                {
                    "stations": [w[0] for w in windows],
                    "starts": [w[1] for w in windows],
                    "ends": [w[2] for w in windows],
                    "live": _LIVE,
                },
            )
        found: dict[str, dict[int, Busy]] = {}
        for r in rows:
            found.setdefault(r[1], {})[r[0]] = Busy(r[0], r[2], as_utc(r[3]), as_utc(r[4]))
        return {station: list(busy.values()) for station, busy in found.items()}

    async def page(self, driver_id: str | None, after: int | None, limit: int) -> list[Reservation]:
        condition = sa.true() if driver_id is None else _R.c.driver_id == driver_id
        if after is not None:
            condition = sa.and_(condition, _R.c.id < after)
        return await self._load(condition, limit=limit)

    async def live_at(self, station_id: str, at: datetime) -> list[Reservation]:
        return await self._load(
            sa.and_(
                _R.c.station_id == station_id,
                _R.c.status.in_(_LIVE),
                _R.c.ends_at > at,
                sa.or_(_R.c.status == Status.HELD.value, _R.c.starts_at <= at),
            )
        )

    async def id_tags_for(self, driver_ids: list[str]) -> dict[str, str]:
        if not driver_ids:
            return {}
        rows = await self._connection.execute(self._q.id_tags, {"drivers": driver_ids})
        tags = {row[0]: str(row[1]) for row in rows}
        new = {d: "VB" + secrets.token_hex(6).upper() for d in driver_ids if d not in tags}
        now = self._clock.now()
        await insert_many(
            self._connection,
            id_tokens,
            [
                {"token": t, "driver_id": d, "status": "Accepted", "created_at": now}
                for d, t in new.items()
            ],
        )
        return tags | new

    async def vehicle_standards(self, driver_id: str, vehicle_id: str) -> frozenset[str] | None:
        plugs = await self._connection.scalar(
            sa.select(vehicles.c.standards).where(
                vehicles.c.id == vehicle_id, vehicles.c.driver_id == driver_id
            )
        )
        return None if plugs is None else frozenset(p for p in str(plugs).split(";") if p)

    # --- jobs ---------------------------------------------------------------------------

    async def schedule(
        self, reservation_id: int, kind: JobKind, due_at: datetime, station_id: str | None = None
    ) -> None:
        await self._add_jobs([(reservation_id, kind, due_at, station_id)])

    async def _add_jobs(self, jobs: list[tuple[int, JobKind, datetime, str | None]]) -> None:
        await insert_many(
            self._connection,
            _J,
            [
                {
                    "reservation_id": r,
                    "kind": kind.value,
                    "due_at": at,
                    "attempts": 0,
                    "station_id": station_id,
                }
                for r, kind, at, station_id in jobs
            ],
        )

    async def any_due(self, now: datetime) -> bool:
        found = await self._connection.scalar(sa.select(_J.c.id).where(*_due(now)).limit(1))
        return found is not None

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[Job]:
        due = (
            sa.select(
                _J.c.id, _J.c.reservation_id, _J.c.kind, _J.c.due_at, _J.c.attempts, _J.c.station_id
            )
            .where(*_due(now))
            .order_by(_J.c.due_at)
            .limit(limit)
        )
        if not self._sqlite:
            due = due.with_for_update(skip_locked=True)
        rows = (await self._connection.execute(due)).all()
        if not rows:
            return []
        await self._connection.execute(
            _J.update()
            .where(_J.c.id.in_([r[0] for r in rows]))
            .values(locked_until=now + lease, attempts=_J.c.attempts + 1)
        )
        return [Job(r[0], r[1], JobKind(r[2]), as_utc(r[3]), r[4] + 1, r[5]) for r in rows]

    async def finish(self, job_id: int, at: datetime) -> None:
        await self._connection.execute(_J.update().where(_J.c.id == job_id).values(done_at=at))

    async def retry_at(self, job_id: int, at: datetime) -> None:
        await self._connection.execute(
            _J.update().where(_J.c.id == job_id).values(due_at=at, locked_until=None)
        )

    async def hand_offs_now(self, station_id: str, now: datetime) -> int:
        at_station = sa.select(_R.c.id).where(_R.c.station_id == station_id).scalar_subquery()
        done = await self._connection.execute(
            _J.update()
            .where(
                _J.c.kind == JobKind.HAND_OFF.value,
                _J.c.done_at.is_(None),
                _J.c.due_at > now,  # waiting for a retry; a leased one is being worked on
                _J.c.locked_until.is_(None),
                _J.c.attempts > 0,
                _J.c.reservation_id.in_(at_station),
            )
            .values(due_at=now)
        )
        return int(done.rowcount or 0)

    async def drop_jobs(self, reservation_id: int, kinds: tuple[JobKind, ...]) -> None:
        # Marked done, never deleted: a job being worked on right now must still be there
        # (and keep its id) when its worker marks it finished.
        await self._connection.execute(
            _J.update()
            .where(
                _J.c.reservation_id == reservation_id,
                _J.c.kind.in_([k.value for k in kinds]),
                _J.c.done_at.is_(None),
            )
            .values(done_at=sa.func.current_timestamp())
        )

    # --- what reservations need of stations --------------------------------------------

    async def sites_hours(self, station_ids: list[str]) -> dict[str, SiteHours]:
        if not station_ids:
            return {}
        if self._hours is not None and self._hours[0].issuperset(station_ids):
            return {s: hours for s in station_ids if (hours := self._hours[1].get(s))}
        rows = await self._connection.execute(self._q.sites_hours, {"stations": station_ids})
        return {row[0]: SiteHours(row[1], row[2], row[3]) for row in rows}

    async def evses_of(self, station_ids: list[str]) -> dict[str, list[Evse]]:
        if not station_ids:
            return {}
        if self._sqlite:
            return await self._evses(self._q.evses_of, {"stations": station_ids})
        # The stations' sites' hours come with them: `sites_hours` is asked for them next.
        rows = await self._connection.execute(_PG_STATIONS, {"stations": station_ids})
        found: dict[str, list[Evse]] = {}
        hours: dict[str, SiteHours] = {}
        for station_id, evse_ids, standards, statuses, site_id, *site in rows:
            connectors = zip(evse_ids or (), standards or (), statuses or (), strict=True)
            found[station_id] = _station_evses(station_id, tuple(connectors))
            if site_id is not None:
                hours[station_id] = SiteHours(*site)
        self._hours = (frozenset(station_ids), hours)
        return found

    async def site_evses(self, station_id: str) -> list[Evse]:
        site = sa.select(stations.c.site_id).where(stations.c.id == station_id).scalar_subquery()
        found = await self._evses(
            _EVSES.where(sa.or_(stations.c.id == station_id, stations.c.site_id == site)), {}
        )
        return [evse for evses in found.values() for evse in evses]

    async def _evses(self, statement: Any, params: dict[str, Any]) -> dict[str, list[Evse]]:
        """EVSEs by station, every station the statement reads (one without connectors has
        [])."""
        rows = await self._connection.execute(statement, params)
        grouped: dict[str, list[tuple[int, str | None, str | None]]] = {}
        for station_id, evse_id, standard, status in rows.all():
            connectors = grouped.setdefault(station_id, [])
            if evse_id is not None:
                connectors.append((evse_id, standard, status))
        return {
            station_id: _station_evses(station_id, tuple(connectors))
            for station_id, connectors in grouped.items()
        }

    async def _load(
        self, condition: Any, limit: int | None = None, *, lock: bool = False
    ) -> list[Reservation]:
        statement = sa.select(_R).where(condition).order_by(_R.c.id.desc())
        if lock and not self._sqlite:  # SQLite's write transactions take turns already
            statement = statement.with_for_update()
        if limit is not None:
            statement = statement.limit(limit)
        return await self._read(statement, {})

    async def _read(self, statement: Any, params: dict[str, Any]) -> list[Reservation]:
        """The reservations a statement selects, with their histories."""
        rows = [r._mapping for r in (await self._connection.execute(statement, params)).all()]
        if not rows:
            return []
        history: dict[int, list[HistoryEntry]] = {}
        entries = await self._connection.execute(self._q.history, {"ids": [r["id"] for r in rows]})
        for e in entries.all():
            history.setdefault(e.reservation_id, []).append(
                HistoryEntry(
                    as_utc(e.at),
                    Status(e.status),
                    Change(e.change) if e.change else None,
                    e.reason,
                    e.connector,
                )
            )
        return [_reservation(r, tuple(history.get(r["id"], []))) for r in rows]


def _due(now: datetime) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        _J.c.done_at.is_(None),
        _J.c.due_at <= now,
        sa.or_(_J.c.locked_until.is_(None), _J.c.locked_until < now),
    )


def _slot_order(reservation: Reservation) -> tuple[str, int, datetime]:
    return reservation.station_id, reservation.evse_id, reservation.starts_at


def _new(reservation: Reservation) -> dict[str, Any]:
    return _values(reservation) | {
        "driver_id": reservation.driver_id,
        "any_evse": reservation.any_evse,
        "grace_s": int(reservation.grace.total_seconds()),
        "id_tag": reservation.id_tag,
        "vehicle_id": reservation.vehicle_id,
        "idempotency_key": reservation.idempotency_key,
        "fingerprint": reservation.fingerprint,
        "created_at": reservation.created_at,
    }


def _station_evses(
    station_id: str, connectors: tuple[tuple[int, str | None, str | None], ...]
) -> list[Evse]:
    """A station's EVSEs from its connectors (EVSE, standard, status), in EVSE order."""
    key = (station_id, connectors)
    made = _STATION_EVSES.get(key)
    if made is None:
        evses: dict[int, tuple[set[str], bool, bool]] = {}
        for evse_id, standard, status in connectors:
            plugs, usable, in_use = evses.setdefault(evse_id, (set(), True, False))
            if standard:
                plugs.add(standard)
            usable = usable and status not in _UNUSABLE
            evses[evse_id] = (plugs, usable, in_use or status in _IN_USE)
        made = _STATION_EVSES.put(
            key,
            tuple(
                Evse(station_id, evse_id, frozenset(plugs), usable, in_use)
                for evse_id, (plugs, usable, in_use) in evses.items()
            ),
        )
    return list(made)


def _history_row(reservation_id: int, entry: HistoryEntry) -> dict[str, Any]:
    return {
        "reservation_id": reservation_id,
        "at": entry.at,
        "status": entry.status.value,
        "change": entry.change.value if entry.change else None,
        "reason": entry.reason[:255],
        "connector": entry.connector,
    }


def _values(reservation: Reservation) -> dict[str, Any]:
    return {
        "station_id": reservation.station_id,
        "evse_id": reservation.evse_id,
        "starts_at": reservation.starts_at,
        "ends_at": reservation.ends_at,
        "status": reservation.status.value,
        "alternatives": [asdict(a) for a in reservation.alternatives] or None,
    }


def _fields(reservation: Reservation) -> dict[str, Any]:
    return {name: getattr(reservation, name) for name in Reservation.__dataclass_fields__}


def _reservation(row: Any, history: tuple[HistoryEntry, ...]) -> Reservation:
    return Reservation(
        id=row["id"],
        driver_id=row["driver_id"],
        station_id=row["station_id"],
        evse_id=row["evse_id"],
        any_evse=bool(row["any_evse"]),
        starts_at=as_utc(row["starts_at"]),
        ends_at=as_utc(row["ends_at"]),
        grace=timedelta(seconds=row["grace_s"]),
        status=Status(row["status"]),
        id_tag=row["id_tag"],
        created_at=as_utc(row["created_at"]),
        vehicle_id=row["vehicle_id"],
        idempotency_key=row["idempotency_key"],
        fingerprint=row["fingerprint"],
        history=history,
        alternatives=tuple(Alternative(**a) for a in row.get("alternatives") or ()),
    )
