"""The reservation job queue in SQL: hand-offs, no-shows and releases, claimed with a lease
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, so any number of nodes may run them)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.reservations.ports import Job, JobKind
from voltbook.storage.lists import insert_many
from voltbook.storage.tables import reservation_jobs, reservations
from voltbook.storage.timestamps import as_utc

_R = reservations
_J = reservation_jobs


class SqlJobQueue:
    """The job half of the reservation repository (it runs on the repository's connection)."""

    _connection: AsyncConnection
    _sqlite: bool

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

    async def hand_off_tried(self, reservation_id: int) -> bool:
        found = await self._connection.scalar(
            sa.select(_J.c.id)
            .where(
                _J.c.reservation_id == reservation_id,
                _J.c.kind == JobKind.HAND_OFF.value,
                _J.c.done_at.is_(None),
                _J.c.attempts > 0,
            )
            .limit(1)
        )
        return found is not None

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


def _due(now: datetime) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        _J.c.done_at.is_(None),
        _J.c.due_at <= now,
        sa.or_(_J.c.locked_until.is_(None), _J.c.locked_until < now),
    )
