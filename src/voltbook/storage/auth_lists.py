"""Authorization lists in SQL: the operator's rule and what each station holds."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.idtokens.list_model import HeldList, ListMode, ListRule, ListState
from voltbook.idtokens.model import IdToken, Standing, TokenChange
from voltbook.storage.idtokens import token_of
from voltbook.storage.tables import (
    auth_list_rule,
    id_token_changes,
    id_tokens,
    station_auth_list_entries,
    station_auth_lists,
    stations,
)
from voltbook.storage.timestamps import as_utc

_L = station_auth_lists
_E = station_auth_list_entries
_C = id_token_changes


class SqlAuthListRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def rule(self) -> ListRule:
        row = (
            await self._connection.execute(
                sa.select(auth_list_rule).where(auth_list_rule.c.id == 1)
            )
        ).first()
        if row is None:
            return ListRule()
        return ListRule(ListMode(row.mode), frozenset(int(s) for s in row.site_ids))

    async def set_rule(self, rule: ListRule, at: datetime) -> None:
        values = {"mode": rule.mode.value, "site_ids": sorted(rule.site_ids), "changed_at": at}
        updated = await self._connection.execute(
            auth_list_rule.update().where(auth_list_rule.c.id == 1).values(**values)
        )
        if updated.rowcount == 0:
            await self._connection.execute(auth_list_rule.insert().values(id=1, **values))

    async def held(self, station_id: str) -> HeldList | None:
        version = await self._connection.scalar(
            sa.select(_L.c.version).where(_L.c.station_id == station_id)
        )
        if version is None or version < 0:
            return None
        rows = await self._connection.execute(
            sa.select(_E.c.token, _E.c.standing).where(_E.c.station_id == station_id)
        )
        return HeldList(int(version), {r.token: Standing(r.standing) for r in rows})

    async def outcome(self, station_id: str) -> ListState | None:
        row = (
            await self._connection.execute(sa.select(_L).where(_L.c.station_id == station_id))
        ).first()
        if row is None:
            return None
        count = await self._connection.scalar(
            sa.select(sa.func.count()).select_from(_E).where(_E.c.station_id == station_id)
        )
        version = None if row.version < 0 else int(row.version)
        return ListState(station_id, version, int(count or 0), row.outcome, as_utc(row.synced_at))

    async def store(
        self, station_id: str, held: HeldList | None, outcome: str, at: datetime
    ) -> None:
        # version -1: voltbook does not know what the station holds (next sync is full)
        values = {"version": -1 if held is None else held.version, "outcome": outcome}
        updated = await self._connection.execute(
            _L.update().where(_L.c.station_id == station_id).values(synced_at=at, **values)
        )
        if updated.rowcount == 0:
            await self._connection.execute(
                _L.insert().values(station_id=station_id, synced_at=at, **values)
            )
        await self._connection.execute(_E.delete().where(_E.c.station_id == station_id))
        if held is not None and held.entries:
            await self._connection.execute(
                _E.insert(),
                [
                    {"station_id": station_id, "token": token, "standing": standing.value}
                    for token, standing in held.entries.items()
                ],
            )

    async def all_tokens(self) -> list[IdToken]:
        rows = await self._connection.execute(sa.select(id_tokens).order_by(id_tokens.c.token))
        return [token_of(r._mapping) for r in rows]

    async def station_site(self, station_id: str) -> tuple[bool, int | None] | None:
        row = (
            await self._connection.execute(
                sa.select(stations.c.online, stations.c.site_id).where(stations.c.id == station_id)
            )
        ).first()
        return None if row is None else (bool(row.online), row.site_id)

    async def online_stations(self) -> list[str]:
        rows = await self._connection.execute(
            sa.select(stations.c.id).where(stations.c.online.is_(True)).order_by(stations.c.id)
        )
        return [str(r.id) for r in rows]

    async def take_changes(self, limit: int) -> list[TokenChange]:
        # The rows another server is taking (PostgreSQL) are skipped, not waited for: a
        # change goes to whichever server deletes it.
        oldest = sa.select(_C.c.id).order_by(_C.c.id).limit(limit).with_for_update(skip_locked=True)
        rows = await self._connection.execute(
            _C.delete().where(_C.c.id.in_(oldest)).returning(_C.c.token, _C.c.blocked, _C.c.at)
        )
        return [TokenChange(r.token, bool(r.blocked), as_utc(r.at)) for r in rows]
