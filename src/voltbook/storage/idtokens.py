"""Id tokens in SQL. A blocked token's status column says Blocked; otherwise Accepted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.idtokens.model import IdToken, Standing, TokenChange, TokenFilter, TokenKind
from voltbook.storage.tables import drivers, id_token_changes, id_tokens
from voltbook.storage.timestamps import as_utc, as_utc_or_none

_T = id_tokens
_BLOCKED = Standing.BLOCKED.value
_LEGACY_EXPIRED = Standing.EXPIRED.value  # rows written before expiry had a date of its own


class SqlIdTokenRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, token: str) -> IdToken | None:
        row = (await self._connection.execute(sa.select(_T).where(_T.c.token == token))).first()
        return None if row is None else token_of(row._mapping)

    async def add(self, token: IdToken) -> bool:
        exists = await self._connection.scalar(
            sa.select(sa.literal(1)).where(_T.c.token == token.token)
        )
        if exists:
            return False
        await self._connection.execute(
            _T.insert().values(token=token.token, created_at=token.created_at, **_values(token))
        )
        return True

    async def save(self, token: IdToken) -> None:
        await self._connection.execute(
            _T.update().where(_T.c.token == token.token).values(**_values(token))
        )

    async def page(
        self, after: str | None, limit: int, where: TokenFilter, now: datetime
    ) -> list[IdToken]:
        query = sa.select(_T).order_by(_T.c.token).limit(limit)
        if after is not None:
            query = query.where(_T.c.token > after)
        if where.kind is not None:
            query = query.where(_T.c.kind == where.kind.value)
        if where.driver_id is not None:
            query = query.where(_T.c.driver_id == where.driver_id)
        if where.prefix:
            escaped = where.prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(_T.c.token.like(f"{escaped}%", escape="\\"))
        if where.standing is not None:
            query = query.where(standing_is(where.standing, now))
        rows = await self._connection.execute(query)
        return [token_of(r._mapping) for r in rows]

    async def driver_exists(self, driver_id: str) -> bool:
        found = await self._connection.scalar(
            sa.select(sa.literal(1)).where(drivers.c.id == driver_id)
        )
        return bool(found)

    async def note_change(self, change: TokenChange) -> None:
        await self._connection.execute(
            id_token_changes.insert().values(
                token=change.token, blocked=change.blocked, at=change.at
            )
        )


def standing_is(standing: Standing, now: datetime) -> sa.ColumnElement[bool]:
    """SQL for "the token's standing at `now` is `standing`" (see IdToken.standing)."""
    blocked = _T.c.status == _BLOCKED
    expired = sa.or_(
        _T.c.status == _LEGACY_EXPIRED,
        sa.and_(_T.c.expires_at.is_not(None), _T.c.expires_at <= now),  # never NULL
    )
    if standing is Standing.BLOCKED:
        return blocked
    if standing is Standing.EXPIRED:
        return sa.and_(sa.not_(blocked), expired)
    return sa.and_(sa.not_(blocked), sa.not_(expired))


def _values(token: IdToken) -> dict[str, Any]:
    return {
        "kind": token.kind.value,
        "driver_id": token.driver_id,
        "status": _BLOCKED if token.blocked else Standing.ACCEPTED.value,
        "expires_at": token.expires_at,
    }


def token_of(row: Any) -> IdToken:
    created = as_utc(row["created_at"])
    expires = as_utc_or_none(row["expires_at"])
    if row["status"] == _LEGACY_EXPIRED and expires is None:
        expires = created
    kind = row["kind"] if row["kind"] in TokenKind._value2member_map_ else TokenKind.RFID
    return IdToken(
        token=row["token"],
        kind=TokenKind(kind),
        blocked=row["status"] == _BLOCKED,
        created_at=created,
        driver_id=row["driver_id"],
        expires_at=expires,
    )
