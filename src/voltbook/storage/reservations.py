"""Reservations, their history and jobs in SQL; the overlap guard is the database's."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.core.clock import Clock
from voltbook.core.connectors import EvseRef
from voltbook.core.errors import Conflict
from voltbook.core.memo import Memo
from voltbook.reservations.model import Change, HistoryEntry, Reservation, Status
from voltbook.reservations.ports import Busy, Evse, NewJob, SiteHours, SlotTaken
from voltbook.stations.model import ConnectorStatus
from voltbook.storage.drivers import lock_drivers
from voltbook.storage.lists import insert_many
from voltbook.storage.reservation_jobs import SqlJobQueue
from voltbook.storage.reservation_queries import (
    EVSES,
    NEW_COLUMNS,
    PG_ADD_MANY,
    PG_BUSY_DURING,
    PG_STATIONS,
    queries,
)
from voltbook.storage.reservation_rows import (
    field_values,
    from_row,
    history_row,
    new_row,
    row_values,
)
from voltbook.storage.tables import (
    id_tokens,
    reservation_history,
    reservation_jobs,
    reservations,
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
# A station's EVSEs by its connectors' rows: a pure function of them, and immutable.
_STATION_EVSES: Memo[tuple[Any, ...], tuple[Evse, ...]] = Memo(4_096)


class SqlReservationRepository(SqlJobQueue):
    def __init__(self, connection: AsyncConnection, clock: Clock, *, sqlite: bool) -> None:
        self._connection = connection
        self._clock = clock
        self._sqlite = sqlite
        self._q = queries(sqlite)
        # The opening hours `evses_of` read (PostgreSQL): the stations asked, and theirs.
        self._hours: tuple[frozenset[str], dict[str, SiteHours]] | None = None

    async def add(self, reservation: Reservation) -> Reservation:
        new_id = await self._guarded(_R.insert().values(**new_row(reservation)).returning(_R.c.id))
        saved = Reservation(**{**field_values(reservation), "id": new_id})
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
        rows = [new_row(r) for r in sorted(reservations, key=_slot_order)]
        params = {column: [row[column] for row in rows] for column in NEW_COLUMNS}
        entries = [(r, history_row(0, e)) for r in reservations for e in r.history]
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
        inserted = await self._connection.execute(PG_ADD_MANY, params)
        ids = {(row[1], row[2], as_utc(row[3])): row[0] for row in inserted}
        return [
            Reservation(**{**field_values(r), "id": ids[key]})
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
            _R.update().where(_R.c.id == reservation.id).values(**row_values(reservation))
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
            history_row(reservation_id, e) for reservation_id, history in entries for e in history
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
                PG_BUSY_DURING,
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
        rows = await self._connection.execute(PG_STATIONS, {"stations": station_ids})
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
            EVSES.where(sa.or_(stations.c.id == station_id, stations.c.site_id == site)), {}
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
                    None if e.connector is None else EvseRef.parse(e.connector),
                )
            )
        return [from_row(r, tuple(history.get(r["id"], []))) for r in rows]


def _slot_order(reservation: Reservation) -> tuple[str, int, datetime]:
    return reservation.station_id, reservation.evse_id, reservation.starts_at


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
