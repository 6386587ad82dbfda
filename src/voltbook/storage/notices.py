"""The notice outbox and followed topics in SQL."""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.notices.model import Notice, Urgency
from voltbook.storage.drivers import lock_drivers
from voltbook.storage.lists import among, insert_many, per_database
from voltbook.storage.tables import driver_topics, drivers, notices
from voltbook.storage.timestamps import as_utc

_N = notices
_CHUNK = 500  # ids per statement, well under every database's parameter limit


class _Queries:
    """The statements that number a batch's notices, built once per kind of database."""

    def __init__(self, sqlite: bool) -> None:
        # PostgreSQL: one statement locks the drivers in id order (`lock_drivers`), then
        # takes their numbers.
        taken = (
            among(drivers.c.id, "drivers", sqlite=True)
            if sqlite
            else drivers.c.id == lock_drivers(False).subquery("locked").c.id
        )
        self.take = (
            drivers.update()
            .where(taken)
            .values(notice_seq=drivers.c.notice_seq + 1)
            .returning(drivers.c.id, drivers.c.notice_seq)
        )


_queries = per_database(_Queries)


class SqlNoticeRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._postgresql = connection.dialect.name == "postgresql"
        self._q = _queries(not self._postgresql)

    async def next_seqs(self, driver_ids: list[str]) -> dict[str, int]:
        taken: dict[str, int] = {}
        ordered = sorted(set(driver_ids))
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            rows = await self._connection.execute(self._q.take, {"drivers": chunk})
            taken.update((row[0], int(row[1])) for row in rows)
        return taken

    async def add_many(self, notices: list[Notice]) -> None:
        await insert_many(
            self._connection,
            _N,
            [
                {
                    "driver_id": notice.driver_id,
                    "seq": notice.seq,
                    "kind": notice.kind,
                    "payload": json.dumps(notice.payload, separators=(",", ":")),
                    "urgency": notice.urgency.value,
                    "created_at": notice.created_at,
                    "expires_at": notice.expires_at,
                }
                for notice in notices
            ],
        )

    async def after(self, driver_id: str, seq: int, now: datetime, limit: int) -> list[Notice]:
        rows = await self._connection.execute(
            sa.select(
                _N.c.seq, _N.c.kind, _N.c.payload, _N.c.urgency, _N.c.created_at, _N.c.expires_at
            )
            .where(_N.c.driver_id == driver_id, _N.c.seq > seq, _N.c.expires_at > now)
            .order_by(_N.c.seq)
            .limit(limit)
        )
        return [
            Notice(
                driver_id,
                row.seq,
                row.kind,
                json.loads(row.payload),
                Urgency(row.urgency),
                as_utc(row.created_at),
                as_utc(row.expires_at),
            )
            for row in rows
        ]

    async def latest_seq(self, driver_id: str) -> int:
        seq = (
            await self._connection.execute(
                sa.select(drivers.c.notice_seq).where(drivers.c.id == driver_id)
            )
        ).scalar()
        return int(seq or 0)

    async def staff_ids(self) -> list[str]:
        rows = await self._connection.execute(
            sa.select(drivers.c.id).where(drivers.c.role.in_(("operator", "admin")))
        )
        return list(rows.scalars())

    async def ack(self, driver_id: str, seq: int, at: datetime) -> bool:
        done = await self._connection.execute(
            _N.update()
            .where(_N.c.driver_id == driver_id, _N.c.seq == seq, _N.c.acked_at.is_(None))
            .values(acked_at=at)
        )
        if done.rowcount:
            return True
        known = await self._connection.execute(
            sa.select(_N.c.id).where(_N.c.driver_id == driver_id, _N.c.seq == seq)
        )
        return known.first() is not None

    async def mark_pushed(self, notices: list[tuple[str, int]], at: datetime) -> None:
        await self._connection.execute(
            _N.update()
            .where(_N.c.driver_id == sa.bindparam("d"), _N.c.seq == sa.bindparam("s"))
            .values(pushed_at=at),
            [{"d": driver_id, "s": seq} for driver_id, seq in notices],
        )

    async def purge(self, now: datetime) -> int:
        done = await self._connection.execute(_N.delete().where(_N.c.expires_at <= now))
        return int(done.rowcount or 0)


class SqlTopicRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, driver_id: str, topic: str, at: datetime) -> None:
        await self._connection.execute(
            driver_topics.insert().values(driver_id=driver_id, topic=topic, created_at=at)
        )

    async def remove(self, driver_id: str, topic: str) -> None:
        await self._connection.execute(
            driver_topics.delete().where(
                driver_topics.c.driver_id == driver_id, driver_topics.c.topic == topic
            )
        )

    async def of_driver(self, driver_id: str) -> list[str]:
        rows = await self._connection.execute(
            sa.select(driver_topics.c.topic)
            .where(driver_topics.c.driver_id == driver_id)
            .order_by(driver_topics.c.created_at, driver_topics.c.topic)
        )
        return list(rows.scalars())

    async def followers(self, topics: list[str]) -> list[tuple[str, str]]:
        rows = await self._connection.execute(
            sa.select(driver_topics.c.driver_id, driver_topics.c.topic).where(
                driver_topics.c.topic.in_(topics)
            )
        )
        return [(row[0], row[1]) for row in rows]

    async def area_topics(self) -> list[tuple[str, str]]:
        rows = await self._connection.execute(
            sa.select(driver_topics.c.driver_id, driver_topics.c.topic).where(
                driver_topics.c.topic.like("area:%")
            )
        )
        return [(row[0], row[1]) for row in rows]
