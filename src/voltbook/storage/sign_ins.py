"""Sign-ins and refresh tokens in SQL, and the one read every request is checked against."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.drivers.model import Role
from voltbook.drivers.sign_ins import RefreshRecord, SignIn, Standing
from voltbook.storage.tables import drivers, refresh_tokens, sign_ins
from voltbook.storage.timestamps import as_utc

_COLUMNS = sa.select(
    sign_ins.c.id.label("sign_in_id"),
    drivers.c.id,
    drivers.c.role,
    drivers.c.blocked,
    drivers.c.deleted_at,
    sign_ins.c.revoked_at,
).select_from(sign_ins.join(drivers, drivers.c.id == sign_ins.c.driver_id))
_STANDING = _COLUMNS.where(sign_ins.c.id == sa.bindparam("sign_in_id"))


class SqlSignInRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, sign_in: SignIn) -> None:
        await self._connection.execute(
            sign_ins.insert().values(
                id=sign_in.id,
                driver_id=sign_in.driver_id,
                created_at=sign_in.created_at,
                revoked_at=sign_in.revoked_at,
            )
        )

    async def add_refresh(self, token_hash: str, sign_in_id: str, expires_at: datetime) -> None:
        await self._connection.execute(
            refresh_tokens.insert().values(
                token_hash=token_hash, sign_in_id=sign_in_id, expires_at=expires_at
            )
        )

    async def refresh(self, token_hash: str) -> RefreshRecord | None:
        query = (
            sa.select(
                refresh_tokens.c.expires_at,
                refresh_tokens.c.used_at,
                sign_ins.c.id,
                sign_ins.c.driver_id,
                sign_ins.c.revoked_at,
            )
            .select_from(refresh_tokens.join(sign_ins))
            .where(refresh_tokens.c.token_hash == token_hash)
        )
        if self._connection.dialect.name == "postgresql":
            query = query.with_for_update(of=refresh_tokens)
        row = (await self._connection.execute(query)).first()
        if row is None:
            return None
        return RefreshRecord(
            token_hash=token_hash,
            sign_in_id=row.id,
            driver_id=row.driver_id,
            expires_at=as_utc(row.expires_at),
            used_at=None if row.used_at is None else as_utc(row.used_at),
            revoked=row.revoked_at is not None,
        )

    async def use_refresh(self, token_hash: str, at: datetime) -> bool:
        result = await self._connection.execute(
            refresh_tokens.update()
            .where(refresh_tokens.c.token_hash == token_hash, refresh_tokens.c.used_at.is_(None))
            .values(used_at=at)
        )
        return result.rowcount == 1

    async def revoke(self, sign_in_id: str, at: datetime) -> None:
        await self._connection.execute(
            sign_ins.update()
            .where(sign_ins.c.id == sign_in_id, sign_ins.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    async def revoke_all(self, driver_id: str, at: datetime, keep: str | None = None) -> list[str]:
        live = sa.and_(sign_ins.c.driver_id == driver_id, sign_ins.c.revoked_at.is_(None))
        if keep is not None:
            live = sa.and_(live, sign_ins.c.id != keep)
        found = await self._connection.execute(sa.select(sign_ins.c.id).where(live))
        ended = list(found.scalars())
        if ended:
            await self._connection.execute(
                sign_ins.update().where(sign_ins.c.id.in_(ended)).values(revoked_at=at)
            )
        return ended

    async def standing(self, sign_in_id: str) -> Standing | None:
        row = (await self._connection.execute(_STANDING, {"sign_in_id": sign_in_id})).first()
        return None if row is None else _standing(row)

    async def standings(self, sign_in_ids: list[str]) -> dict[str, Standing]:
        found: dict[str, Standing] = {}
        for start in range(0, len(sign_in_ids), 500):
            query = _COLUMNS.where(sign_ins.c.id.in_(sign_in_ids[start : start + 500]))
            for row in await self._connection.execute(query):
                found[row.sign_in_id] = _standing(row)
        return found


def _standing(row: Any) -> Standing:
    return Standing(
        driver_id=row.id,
        role=Role(row.role),
        blocked=bool(row.blocked),
        deleted=row.deleted_at is not None,
        revoked=row.revoked_at is not None,
    )
