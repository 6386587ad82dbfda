"""Web Push subscriptions in SQL; one row per endpoint (a browser), owned by one driver."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.notices.model import PushSubscription
from voltbook.storage.lists import among, per_database
from voltbook.storage.tables import push_subscriptions
from voltbook.storage.timestamps import as_utc_or_none

_P = push_subscriptions
# Which of a batch's drivers have a browser at all (asked for every batch of notices).
_drivers_among = per_database(
    lambda on_sqlite: (
        sa.select(_P.c.driver_id)
        .where(among(_P.c.driver_id, "drivers", sqlite=on_sqlite))
        .distinct()
    )
)


class SqlPushSubscriptionRepository:
    def __init__(self, connection: AsyncConnection, *, sqlite: bool) -> None:
        self._connection = connection
        self._sqlite = sqlite

    async def add(self, subscription: PushSubscription) -> PushSubscription | None:
        """Insert, or update a known endpoint (see the port) in one statement, so that two
        browsers racing with one endpoint cannot make two rows."""
        if subscription.created_at is None:
            raise ValueError("a new push subscription needs created_at")
        values = {
            "driver_id": subscription.driver_id,
            "endpoint": subscription.endpoint,
            "p256dh": subscription.p256dh,
            "auth": subscription.auth,
            "created_at": subscription.created_at,
        }
        insert: Any = (sqlite.insert(_P) if self._sqlite else postgresql.insert(_P)).values(
            **values
        )
        moved = {
            "driver_id": insert.excluded.driver_id,
            "p256dh": insert.excluded.p256dh,
            "auth": insert.excluded.auth,
        }
        # A subscription that changes hands (or keys) starts over: created now, no success yet.
        changed = sa.or_(
            _P.c.driver_id != insert.excluded.driver_id,
            _P.c.p256dh != insert.excluded.p256dh,
            _P.c.auth != insert.excluded.auth,
        )
        moved["created_at"] = sa.case((changed, insert.excluded.created_at), else_=_P.c.created_at)
        moved["last_success_at"] = sa.case((changed, sa.null()), else_=_P.c.last_success_at)
        # Another driver's endpoint moves only to someone who shows its keys (one statement:
        # the check and the move cannot be split by a concurrent request).
        proven = sa.or_(
            _P.c.driver_id == insert.excluded.driver_id,
            sa.and_(_P.c.p256dh == insert.excluded.p256dh, _P.c.auth == insert.excluded.auth),
        )
        upsert = insert.on_conflict_do_update(
            index_elements=[_P.c.endpoint], set_=moved, where=proven
        ).returning(_P)
        row = (await self._connection.execute(upsert)).first()
        return None if row is None else _subscription(row._mapping)

    async def remove(self, driver_id: str, endpoint: str) -> bool:
        result = await self._connection.execute(
            _P.delete().where(_P.c.driver_id == driver_id, _P.c.endpoint == endpoint)
        )
        return bool(result.rowcount)

    async def of_driver(self, driver_id: str) -> list[PushSubscription]:
        rows = await self._connection.execute(
            sa.select(_P).where(_P.c.driver_id == driver_id).order_by(_P.c.id)
        )
        return [_subscription(row._mapping) for row in rows]

    async def drivers_among(self, driver_ids: list[str]) -> set[str]:
        if not driver_ids:
            return set()
        rows = await self._connection.execute(_drivers_among(self._sqlite), {"drivers": driver_ids})
        return set(rows.scalars())

    async def forget(self, subscription_id: int) -> None:
        await self._connection.execute(_P.delete().where(_P.c.id == subscription_id))

    async def delivered(self, subscription_id: int, at: datetime) -> None:
        await self._connection.execute(
            _P.update().where(_P.c.id == subscription_id).values(last_success_at=at)
        )

    async def last_success(self, subscription_id: int) -> datetime | None:
        """When the push service last took a message for it (None: never, or no such row)."""
        found = await self._connection.scalar(
            sa.select(_P.c.last_success_at).where(_P.c.id == subscription_id)
        )
        return as_utc_or_none(found)


def _subscription(row: Any) -> PushSubscription:
    return PushSubscription(
        id=row["id"],
        driver_id=row["driver_id"],
        endpoint=row["endpoint"],
        p256dh=row["p256dh"],
        auth=row["auth"],
        created_at=as_utc_or_none(row["created_at"]),
    )
