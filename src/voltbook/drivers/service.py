"""Use cases of accounts: register, sign in and out, refresh, prove a token, and the
operations that end or change an account (see docs/adr/0014-token-model.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from voltbook.core.bus import EventBus
from voltbook.core.clock import Clock
from voltbook.core.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from voltbook.core.gather import Gathered
from voltbook.core.ids import IdSource
from voltbook.core.secrets import PasswordHasher
from voltbook.drivers.events import DriverRegistered, SignInsEnded
from voltbook.drivers.model import (
    Driver,
    Principal,
    Role,
    check_password_rules,
    normalize_email,
)
from voltbook.drivers.ports import DriversUowFactory, LoginThrottle, TokenIssuer
from voltbook.drivers.sign_ins import SignIn, Standing, new_refresh_token, refresh_token_hash

REFRESH_LIFETIME_S = 30 * 24 * 3600
# What must happen before an account's data goes (its live bookings cancelled, their
# charger holds released): wired by bootstrap, since other areas own those things.
ClosingStep = Callable[[str], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int
    refresh_token: str
    principal: Principal


class AccountService:
    def __init__(
        self,
        uow: DriversUowFactory,
        hasher: PasswordHasher,
        tokens: TokenIssuer,
        throttle: LoginThrottle,
        clock: Clock,
        ids: IdSource,
        bus: EventBus,
        refresh_lifetime_s: int = REFRESH_LIFETIME_S,
        closing_steps: Sequence[ClosingStep] = (),
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens
        self._throttle = throttle
        self._clock = clock
        self._ids = ids
        self._bus = bus
        self._refresh_lifetime = timedelta(seconds=refresh_lifetime_s)
        # What other areas do before an account's data goes (its live bookings cancelled).
        self._closing_steps = tuple(closing_steps)
        # Verifying against this when the account does not exist keeps the timing the same,
        # so response time does not tell which e-mail addresses have accounts.
        self._dummy_hash = hasher.hash("voltbook-dummy-password")
        # Every request proves its token against the stored sign-in; the requests of one
        # moment share one read (ADR 0014 amendment).
        self._standings: Gathered[str, Standing] = Gathered(self._read_standings)

    async def register(self, email: str, password: str, role: Role = Role.DRIVER) -> Driver:
        """Create an account; Conflict if the e-mail address is taken."""
        check_password_rules(password)
        driver = Driver(
            id=self._ids.new_id(),
            email=normalize_email(email),
            password_hash=await asyncio.to_thread(self._hasher.hash, password),
            role=role,
            created_at=self._clock.now(),
        )
        async with self._uow() as uow:
            await uow.drivers.add(driver)
            await uow.commit()
        await self._bus.publish(DriverRegistered(driver.id, driver.role))
        return driver

    async def sign_in(self, email: str, password: str, client_address: str) -> IssuedToken:
        """A new sign-in for valid credentials; RateLimited after too many failures."""
        keys = [f"account:{email.strip().lower()[:254]}", f"address:{client_address}"]
        wait = self._throttle.retry_after(keys)
        if wait:
            raise RateLimited("too many failed sign-ins; try again later", retry_after_s=wait)
        try:
            address = normalize_email(email)
        except InvalidInput:
            address = None  # cannot be an account; answered like a wrong password
        driver = None
        if address is not None:
            async with self._uow(read_only=True) as uow:
                driver = await uow.drivers.by_email(address)
        if driver is None:
            await asyncio.to_thread(self._hasher.verify, self._dummy_hash, password)
            self._throttle.record_failure(keys)
            raise Unauthenticated("wrong e-mail address or password")
        if not await asyncio.to_thread(self._hasher.verify, driver.password_hash, password):
            self._throttle.record_failure(keys)
            raise Unauthenticated("wrong e-mail address or password")
        self._throttle.reset(keys[:1])
        if driver.blocked:
            raise Unauthenticated("this account is blocked")
        sign_in = SignIn(self._ids.new_id(), driver.id, self._clock.now())
        refresh = new_refresh_token()
        async with self._uow() as uow:
            await uow.sign_ins.add(sign_in)
            await uow.sign_ins.add_refresh(
                refresh_token_hash(refresh), sign_in.id, sign_in.created_at + self._refresh_lifetime
            )
            await uow.commit()
        return self._issue(Principal(driver.id, driver.role, sign_in.id), refresh)

    async def refresh(self, refresh_token: str) -> IssuedToken:
        """A new access token and a new refresh token for an unused one. A used one shown
        again ends its whole sign-in (it has been copied) and is refused."""
        now = self._clock.now()
        token_hash = refresh_token_hash(refresh_token)
        async with self._uow() as uow:
            record = await uow.sign_ins.refresh(token_hash)
            if record is None or record.revoked or record.expires_at <= now:
                raise Unauthenticated("the refresh token is not valid")
            if record.used_at is not None or not await uow.sign_ins.use_refresh(token_hash, now):
                await uow.sign_ins.revoke(record.sign_in_id, now)
                await uow.commit()
                await self._ended(record.driver_id, (record.sign_in_id,), "refresh token reused")
                raise Unauthenticated("the refresh token was used already; signed out")
            standing = await uow.sign_ins.standing(record.sign_in_id)
            if standing is None or not standing.active:
                raise Unauthenticated("the refresh token is not valid")
            fresh = new_refresh_token()
            await uow.sign_ins.add_refresh(
                refresh_token_hash(fresh), record.sign_in_id, now + self._refresh_lifetime
            )
            await uow.commit()
        return self._issue(Principal(record.driver_id, standing.role, record.sign_in_id), fresh)

    async def authenticate(self, token: str) -> Principal:
        """Who an access token belongs to, as stored now: Unauthenticated for a bad or expired
        token, an ended sign-in, or a blocked or deleted account."""
        claimed = self._tokens.verify(token)
        standing = await self._standings.get(claimed.sign_in_id)
        if standing is None or standing.driver_id != claimed.driver_id or not standing.active:
            raise Unauthenticated("this sign-in has ended")
        return Principal(claimed.driver_id, standing.role, claimed.sign_in_id)

    async def _read_standings(self, sign_in_ids: list[str]) -> dict[str, Standing]:
        async with self._uow(read_only=True) as uow:
            return await uow.sign_ins.standings(sign_in_ids)

    async def still_signed_in(self, sign_in_ids: list[str]) -> dict[str, Role]:
        """Of these sign-ins, those still good, with their account's role as stored now."""
        found = await self._read_standings(sign_in_ids)
        return {i: standing.role for i, standing in found.items() if standing.active}

    async def sign_out(self, principal: Principal) -> None:
        """End the caller's sign-in: its access and refresh tokens stop working at once."""
        async with self._uow() as uow:
            await uow.sign_ins.revoke(principal.sign_in_id, self._clock.now())
            await uow.commit()
        await self._ended(principal.driver_id, (principal.sign_in_id,), "signed out")

    async def change_password(self, principal: Principal, current: str, new: str) -> None:
        """Change the caller's password; every other sign-in of the account ends."""
        check_password_rules(new)
        driver = await self.me(principal)
        if not await asyncio.to_thread(self._hasher.verify, driver.password_hash, current):
            raise Forbidden("the current password is wrong")
        password_hash = await asyncio.to_thread(self._hasher.hash, new)
        async with self._uow() as uow:
            await uow.drivers.set_password(driver.id, password_hash)
            ended = await uow.sign_ins.revoke_all(
                driver.id, self._clock.now(), keep=principal.sign_in_id
            )
            await uow.commit()
        await self._ended(driver.id, tuple(ended), "password changed")

    async def me(self, principal: Principal) -> Driver:
        async with self._uow(read_only=True) as uow:
            driver = await uow.drivers.get(principal.driver_id)
        if driver is None:
            raise NotFound("this account no longer exists")
        return driver

    # --- ending and changing accounts ---------------------------------------------------------

    async def find(self, email: str) -> Driver:
        async with self._uow(read_only=True) as uow:
            driver = await uow.drivers.by_email(normalize_email(email))
        if driver is None:
            raise NotFound("no account has this e-mail address")
        return driver

    async def close(self, driver_id: str, actor: Principal | None = None) -> None:
        """Delete an account (the driver's own, or by staff, or by the CLI with no actor)."""
        await self._target(driver_id, actor, own_allowed=True)
        async with self._uow() as uow:  # no new request of the account from here on
            await uow.drivers.set_blocked(driver_id, True)
            await uow.sign_ins.revoke_all(driver_id, self._clock.now())
            await uow.commit()
        await self._ended(driver_id, None, "account deleted")
        for step in self._closing_steps:
            await step(driver_id)
        async with self._uow() as uow:
            await uow.drivers.erase(driver_id, self._clock.now())
            await uow.commit()

    async def set_role(self, driver_id: str, role: Role, actor: Principal | None = None) -> Driver:
        """Promote or demote; the account's open live channels close (their role changed)."""
        if actor is not None and role is not Role.DRIVER:
            raise Forbidden("promotions are made with the command line")
        await self._target(driver_id, actor)
        async with self._uow() as uow:
            await uow.drivers.set_role(driver_id, role)
            await uow.commit()
        await self._ended(driver_id, None, "role changed")
        return await self._get(driver_id)

    async def set_blocked(
        self, driver_id: str, blocked: bool, actor: Principal | None = None
    ) -> Driver:
        """Block (every sign-in ends; signing in is refused) or unblock an account."""
        await self._target(driver_id, actor)
        async with self._uow() as uow:
            await uow.drivers.set_blocked(driver_id, blocked)
            if blocked:
                await uow.sign_ins.revoke_all(driver_id, self._clock.now())
            await uow.commit()
        if blocked:
            await self._ended(driver_id, None, "account blocked")
        return await self._get(driver_id)

    async def _target(
        self, driver_id: str, actor: Principal | None, *, own_allowed: bool = False
    ) -> Driver:
        """The account an operation acts on, if `actor` may act on it: staff act on drivers,
        admins also on staff; nobody but the CLI (no actor) acts on their own account through
        these, except to delete it."""
        driver = await self._get(driver_id)
        if actor is None:
            return driver
        if actor.driver_id == driver_id:
            if own_allowed:
                return driver
            raise Conflict("you cannot do this to your own account")
        if not actor.role.is_staff or (driver.role.is_staff and actor.role is not Role.ADMIN):
            raise Forbidden("this needs an admin account" if actor.role.is_staff else "forbidden")
        return driver

    async def _get(self, driver_id: str) -> Driver:
        async with self._uow(read_only=True) as uow:
            driver = await uow.drivers.get(driver_id)
        if driver is None:
            raise NotFound("no such account")
        return driver

    async def _ended(self, driver_id: str, ids: tuple[str, ...] | None, reason: str) -> None:
        await self._bus.publish(SignInsEnded(driver_id, ids, reason))

    def _issue(self, principal: Principal, refresh: str) -> IssuedToken:
        token, lifetime = self._tokens.issue(principal)
        return IssuedToken(token, lifetime, refresh, principal)


def require_staff(principal: Principal) -> None:
    """Operators and admins only."""
    if not principal.role.is_staff:
        raise Forbidden("this needs an operator account")
