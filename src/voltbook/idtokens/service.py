"""Use cases of id tokens: list, add, block, unblock, expire, assign.

Every change is kept, in its own transaction, as a `TokenChange` for the stations (a
transactional outbox, ADR 0035): a server takes it and brings authorization lists in line
and, for a block, clears the stations' authorization caches (a station that kept the card
as accepted would otherwise let it charge while offline). So a change made where no
station is connected (the command line, another node) reaches the stations all the same.
Every change also publishes `IdTokenChanged` (`IdTokenBlocked` for a block), on which this
process's server takes the changes at once instead of at its next look.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from voltbook.core.bus import EventBus
from voltbook.core.clock import Clock
from voltbook.core.errors import Conflict, NotFound
from voltbook.idtokens.events import IdTokenBlocked, IdTokenChanged
from voltbook.idtokens.model import IdToken, TokenChange, TokenFilter, TokenKind, check_token
from voltbook.idtokens.ports import IdTokenUowFactory

MAX_PAGE = 500


class IdTokenService:
    def __init__(self, uow: IdTokenUowFactory, clock: Clock, bus: EventBus) -> None:
        self._uow = uow
        self._clock = clock
        self._bus = bus

    def now(self) -> datetime:
        """The time a token's standing is judged at."""
        return self._clock.now()

    async def get(self, token: str) -> IdToken:
        async with self._uow(read_only=True) as uow:
            found = await uow.id_tokens.get(token)
        if found is None:
            raise NotFound(f"id token {token} is not registered")
        return found

    async def page(
        self, after: str | None, limit: int, where: TokenFilter | None = None
    ) -> list[IdToken]:
        async with self._uow(read_only=True) as uow:
            return await uow.id_tokens.page(
                after, min(limit, MAX_PAGE), where or TokenFilter(), self._clock.now()
            )

    async def add(
        self,
        token: str,
        kind: TokenKind = TokenKind.RFID,
        driver_id: str | None = None,
        expires_at: datetime | None = None,
    ) -> IdToken:
        """Register a token; it is accepted from now on (until `expires_at`, if given)."""
        check_token(token)
        made = IdToken(token, kind, False, self._clock.now(), driver_id, expires_at)
        async with self._uow() as uow:
            if driver_id is not None and not await uow.id_tokens.driver_exists(driver_id):
                raise NotFound(f"driver {driver_id} does not exist")
            if not await uow.id_tokens.add(made):
                raise Conflict(f"id token {token} is registered already")
            await uow.id_tokens.note_change(TokenChange(token, False, made.created_at))
            await uow.commit()
        await self._changed(made)
        return made

    async def block(self, token: str) -> IdToken:
        return await self._change(token, IdToken.block)

    async def unblock(self, token: str) -> IdToken:
        return await self._change(token, IdToken.unblock)

    async def expire(self, token: str, at: datetime | None = None) -> IdToken:
        when = at or self._clock.now()
        return await self._change(token, lambda t: t.expire(when))

    async def renew(self, token: str) -> IdToken:
        return await self._change(token, IdToken.renew)

    async def assign(self, token: str, driver_id: str | None) -> IdToken:
        """Give the token to a driver (None: to nobody)."""
        async with self._uow(read_only=True) as uow:
            if driver_id is not None and not await uow.id_tokens.driver_exists(driver_id):
                raise NotFound(f"driver {driver_id} does not exist")
        return await self._change(token, lambda t: t.assign(driver_id))

    async def _change(self, token: str, how: Callable[[IdToken], IdToken]) -> IdToken:
        async with self._uow() as uow:
            found = await uow.id_tokens.get(token)
            if found is None:
                raise NotFound(f"id token {token} is not registered")
            changed = how(found)
            blocked = changed.blocked and not found.blocked
            await uow.id_tokens.save(changed)
            await uow.id_tokens.note_change(TokenChange(token, blocked, self._clock.now()))
            await uow.commit()
        if blocked:
            now = self._clock.now()
            await self._bus.publish(IdTokenBlocked(token, changed.standing(now).value, now))
        else:
            await self._changed(changed)
        return changed

    async def _changed(self, token: IdToken) -> None:
        now = self._clock.now()
        await self._bus.publish(IdTokenChanged(token.token, token.standing(now).value, now))
