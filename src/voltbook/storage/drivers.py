"""Accounts in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.core.errors import Conflict
from voltbook.drivers.model import Driver, Role
from voltbook.drivers.privacy_model import Preferences
from voltbook.storage.lists import among, per_database
from voltbook.storage.tables import (
    app_charges,
    driver_positions,
    driver_topics,
    drivers,
    id_tokens,
    notices,
    push_subscriptions,
    vehicles,
)
from voltbook.storage.timestamps import as_utc

# The rows of the drivers bound as `drivers`, locked (PostgreSQL) in id order: transactions
# that lock drivers this way (a booking batch, a batch of notices) never deadlock on them.
lock_drivers = per_database(
    lambda on_sqlite: (
        sa.select(drivers.c.id)
        .where(among(drivers.c.id, "drivers", sqlite=on_sqlite))
        .order_by(drivers.c.id)
        .with_for_update()
    )
)


class SqlDriverRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, driver: Driver) -> None:
        try:
            async with self._connection.begin_nested():
                await self._connection.execute(
                    drivers.insert().values(
                        id=driver.id,
                        email=driver.email,
                        password_hash=driver.password_hash,
                        role=driver.role.value,
                        consent_location=driver.consent_location,
                        consent_offers=driver.consent_offers,
                        created_at=driver.created_at,
                    )
                )
        except IntegrityError:
            raise Conflict("an account with this e-mail address exists already") from None

    async def by_email(self, email: str) -> Driver | None:
        row = (
            await self._connection.execute(sa.select(drivers).where(drivers.c.email == email))
        ).first()
        return None if row is None else _driver(row._mapping)

    async def get(self, driver_id: str) -> Driver | None:
        row = (
            await self._connection.execute(
                sa.select(drivers).where(drivers.c.id == driver_id, drivers.c.deleted_at.is_(None))
            )
        ).first()
        return None if row is None else _driver(row._mapping)

    async def set_password(self, driver_id: str, password_hash: str) -> None:
        await self._set(driver_id, password_hash=password_hash)

    async def set_role(self, driver_id: str, role: Role) -> None:
        await self._set(driver_id, role=role.value)

    async def set_blocked(self, driver_id: str, blocked: bool) -> None:
        await self._set(driver_id, blocked=blocked)

    async def erase(self, driver_id: str, at: datetime) -> None:
        personal = (push_subscriptions, vehicles, driver_positions, driver_topics, notices)
        for table in (*personal, app_charges):
            await self._connection.execute(table.delete().where(table.c.driver_id == driver_id))
        # Charging sessions name a card, not a driver: the card stays, pointing at nobody,
        # and no longer starts anything (the app's own token included).
        await self._connection.execute(
            id_tokens.update()
            .where(id_tokens.c.driver_id == driver_id)
            .values(driver_id=None, status="Blocked")
        )
        await self._set(
            driver_id,
            email=f"deleted-{driver_id}@deleted.invalid",
            password_hash="!",  # noqa: S106 - no password verifies against this
            role="driver",
            blocked=True,
            consent_location=False,
            consent_offers=False,
            quiet_hours=None,
            time_zone=None,
            deleted_at=at,
        )

    async def _set(self, driver_id: str, **values: object) -> None:
        await self._connection.execute(
            drivers.update().where(drivers.c.id == driver_id).values(**values)
        )

    async def set_preferences(self, driver_id: str, preferences: Preferences) -> None:
        await self._connection.execute(
            drivers.update()
            .where(drivers.c.id == driver_id)
            .values(
                consent_location=preferences.consent_location,
                consent_offers=preferences.consent_offers,
                quiet_hours=preferences.quiet_hours,
                time_zone=preferences.time_zone,
            )
        )


def _driver(row: Any) -> Driver:
    return Driver(
        id=row["id"],
        email=row["email"],
        password_hash=row["password_hash"],
        role=Role(row["role"]),
        created_at=as_utc(row["created_at"]),
        consent_location=bool(row["consent_location"]),
        consent_offers=bool(row["consent_offers"]),
        quiet_hours=row["quiet_hours"],
        time_zone=row["time_zone"],
        blocked=bool(row["blocked"]),
    )
