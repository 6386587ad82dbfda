"""An in-memory SignInRepository in a drivers' unit of work (see account_fakes.InMemoryDriversUow)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING

from voltbook.drivers.sign_ins import RefreshRecord, SignIn, Standing

if TYPE_CHECKING:
    from tests.unit.account_fakes import DriversState, InMemoryDriversUow


class InMemorySignInRepository:
    """SignInRepository in a drivers' unit of work: changes are staged until its commit."""

    def __init__(self, uow: InMemoryDriversUow) -> None:
        self._uow = uow

    @property
    def _store(self) -> DriversState:
        return self._uow.state

    def _write(self) -> None:
        self._uow.writable()

    async def add(self, sign_in: SignIn) -> None:
        self._write()
        self._store.sign_ins[sign_in.id] = sign_in

    async def add_refresh(self, token_hash: str, sign_in_id: str, expires_at: datetime) -> None:
        self._write()
        self._store.refresh_tokens[token_hash] = (sign_in_id, expires_at, None)

    async def refresh(self, token_hash: str) -> RefreshRecord | None:
        found = self._store.refresh_tokens.get(token_hash)
        if found is None:
            return None
        sign_in = self._store.sign_ins[found[0]]
        return RefreshRecord(
            token_hash,
            sign_in.id,
            sign_in.driver_id,
            found[1],
            found[2],
            revoked=sign_in.revoked_at is not None,
        )

    async def use_refresh(self, token_hash: str, at: datetime) -> bool:
        self._write()
        found = self._store.refresh_tokens.get(token_hash)
        if found is None or found[2] is not None:  # unknown or used: like SQL, no row changes
            return False
        sign_in_id, expires, _ = found
        self._store.refresh_tokens[token_hash] = (sign_in_id, expires, at)
        return True

    async def revoke(self, sign_in_id: str, at: datetime) -> None:
        self._write()
        sign_in = self._store.sign_ins[sign_in_id]
        if sign_in.revoked_at is None:
            self._store.sign_ins[sign_in_id] = dataclasses.replace(sign_in, revoked_at=at)

    async def revoke_all(self, driver_id: str, at: datetime, keep: str | None = None) -> list[str]:
        ended = [
            s.id
            for s in self._store.sign_ins.values()
            if s.driver_id == driver_id and s.revoked_at is None and s.id != keep
        ]
        for sign_in_id in ended:
            await self.revoke(sign_in_id, at)
        return ended

    async def standing(self, sign_in_id: str) -> Standing | None:
        sign_in = self._store.sign_ins.get(sign_in_id)
        if sign_in is None:
            return None
        driver = self._store.drivers[sign_in.driver_id]
        return Standing(
            driver.id,
            driver.role,
            driver.blocked,
            deleted=driver.id in self._store.deleted,
            revoked=sign_in.revoked_at is not None,
        )

    async def standings(self, sign_in_ids: list[str]) -> dict[str, Standing]:
        found = {i: await self.standing(i) for i in sign_in_ids}
        return {i: standing for i, standing in found.items() if standing is not None}
