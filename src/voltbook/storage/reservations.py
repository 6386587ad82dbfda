"""Reservations, their history and jobs in SQL; the overlap guard is the database's."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.core.errors import Conflict
from voltbook.reservations.model import Change, HistoryEntry, Reservation, Status
from voltbook.reservations.ports import Busy, Evse, Job, JobKind, SiteHours, SlotTaken
from voltbook.stations.model import ConnectorStatus
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


class SqlReservationRepository:
    def __init__(self, connection: AsyncConnection, *, sqlite: bool) -> None:
        self._connection = connection
        self._sqlite = sqlite

    async def add(self, reservation: Reservation) -> Reservation:
        values = _values(reservation) | {
            "driver_id": reservation.driver_id,
            "any_evse": reservation.any_evse,
            "grace_s": int(reservation.grace.total_seconds()),
            "id_tag": reservation.id_tag,
            "vehicle_id": reservation.vehicle_id,
            "idempotency_key": reservation.idempotency_key,
            "fingerprint": reservation.fingerprint,
            "created_at": reservation.created_at,
        }
        new_id = await self._guarded(_R.insert().values(**values).returning(_R.c.id))
        saved = Reservation(**{**_fields(reservation), "id": new_id})
        await self._history(saved.id, saved.history)
        return saved

    async def save(self, reservation: Reservation) -> None:
        await self._guarded(
            _R.update().where(_R.c.id == reservation.id).values(**_values(reservation))
        )
        stored = await self._connection.scalar(
            sa.select(sa.func.count())
            .select_from(reservation_history)
            .where(reservation_history.c.reservation_id == reservation.id)
        )
        await self._history(reservation.id, reservation.history[int(stored or 0) :])

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

    async def _history(self, reservation_id: int, entries: tuple[HistoryEntry, ...]) -> None:
        if entries:
            await self._connection.execute(
                reservation_history.insert(),
                [
                    {
                        "reservation_id": reservation_id,
                        "at": e.at,
                        "status": e.status.value,
                        "change": e.change.value if e.change else None,
                        "reason": e.reason[:255],
                        "connector": e.connector,
                    }
                    for e in entries
                ],
            )

    async def get(self, reservation_id: int) -> Reservation | None:
        found = await self._load(_R.c.id == reservation_id)
        return found[0] if found else None

    async def by_key(self, driver_id: str, key: str) -> Reservation | None:
        found = await self._load(sa.and_(_R.c.driver_id == driver_id, _R.c.idempotency_key == key))
        return found[0] if found else None

    async def live_count(self, driver_id: str) -> int:
        if not self._sqlite:  # one driver's bookings queue up behind each other
            await self._connection.execute(
                sa.text("SELECT 1 FROM drivers WHERE id = :d FOR UPDATE"), {"d": driver_id}
            )
        count = await self._connection.scalar(
            sa.select(sa.func.count())
            .select_from(_R)
            .where(_R.c.driver_id == driver_id, _R.c.status.in_(_LIVE))
        )
        return int(count or 0)

    async def busy(self, station_id: str, start: datetime, end: datetime) -> list[Busy]:
        rows = await self._connection.execute(
            sa.select(_R.c.id, _R.c.evse_id, _R.c.starts_at, _R.c.ends_at).where(
                _R.c.station_id == station_id,
                _R.c.status.in_(_LIVE),
                _R.c.starts_at < end,
                _R.c.ends_at > start,
            )
        )
        return [Busy(r[0], r[1], as_utc(r[2]), as_utc(r[3])) for r in rows.all()]

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

    async def id_tag_for(self, driver_id: str) -> str:
        existing = await self._connection.scalar(
            sa.select(id_tokens.c.token).where(id_tokens.c.driver_id == driver_id).limit(1)
        )
        if existing is not None:
            return str(existing)
        token = "VB" + secrets.token_hex(6).upper()
        await self._connection.execute(
            id_tokens.insert().values(
                token=token, driver_id=driver_id, status="Accepted", created_at=datetime.now(UTC)
            )
        )
        return token

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
        await self._connection.execute(
            _J.insert().values(
                reservation_id=reservation_id,
                kind=kind.value,
                due_at=due_at,
                attempts=0,
                station_id=station_id,
            )
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
        await self._connection.execute(_J.update().where(_J.c.id == job_id).values(locked_until=at))

    async def hand_offs_now(self, station_id: str, now: datetime) -> int:
        at_station = sa.select(_R.c.id).where(_R.c.station_id == station_id).scalar_subquery()
        done = await self._connection.execute(
            _J.update()
            .where(
                _J.c.kind == JobKind.HAND_OFF.value,
                _J.c.done_at.is_(None),
                _J.c.due_at <= now,
                _J.c.locked_until > now,
                _J.c.attempts > 0,
                _J.c.reservation_id.in_(at_station),
            )
            .values(locked_until=None)
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

    async def site_hours(self, station_id: str) -> SiteHours | None:
        row = (
            await self._connection.execute(
                sa.select(sites.c.opening_hours, sites.c.timezone, sites.c.region)
                .select_from(stations.join(sites, sites.c.id == stations.c.site_id))
                .where(stations.c.id == station_id)
            )
        ).first()
        return None if row is None else SiteHours(row[0], row[1], row[2])

    async def evses(self, station_id: str) -> list[Evse] | None:
        known = await self._connection.scalar(
            sa.select(stations.c.id).where(stations.c.id == station_id)
        )
        if known is None:
            return None
        return await self._evses(stations.c.id == station_id)

    async def site_evses(self, station_id: str) -> list[Evse]:
        site = sa.select(stations.c.site_id).where(stations.c.id == station_id).scalar_subquery()
        return await self._evses(sa.or_(stations.c.id == station_id, stations.c.site_id == site))

    async def _evses(self, condition: sa.ColumnElement[bool]) -> list[Evse]:
        rows = await self._connection.execute(
            sa.select(
                stations.c.id, connectors.c.evse_id, connectors.c.standard, connectors.c.status
            )
            .select_from(stations.join(connectors, connectors.c.station_id == stations.c.id))
            .where(condition)
            .order_by(stations.c.id, connectors.c.evse_id)
        )
        grouped: dict[tuple[str, int], tuple[set[str], bool]] = {}
        for station_id, evse_id, standard, status in rows.all():
            plugs, usable = grouped.setdefault((station_id, evse_id), (set(), True))
            if standard:
                plugs.add(standard)
            grouped[(station_id, evse_id)] = (plugs, usable and status not in _UNUSABLE)
        return [
            Evse(station_id, evse_id, frozenset(plugs), usable)
            for (station_id, evse_id), (plugs, usable) in grouped.items()
        ]

    async def _load(self, condition: Any, limit: int | None = None) -> list[Reservation]:
        statement = sa.select(_R).where(condition).order_by(_R.c.id.desc())
        if limit is not None:
            statement = statement.limit(limit)
        rows = [row._mapping for row in (await self._connection.execute(statement)).all()]
        if not rows:
            return []
        history: dict[int, list[HistoryEntry]] = {}
        entries = await self._connection.execute(
            sa.select(reservation_history)
            .where(reservation_history.c.reservation_id.in_([r["id"] for r in rows]))
            .order_by(reservation_history.c.id)
        )
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


def _values(reservation: Reservation) -> dict[str, Any]:
    return {
        "station_id": reservation.station_id,
        "evse_id": reservation.evse_id,
        "starts_at": reservation.starts_at,
        "ends_at": reservation.ends_at,
        "status": reservation.status.value,
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
    )
