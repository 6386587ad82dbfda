"""Use cases of accounts: register, create staff users, sign in, prove a token."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from voltbook.core.bus import EventBus
from voltbook.core.clock import Clock
from voltbook.core.errors import Forbidden, InvalidInput, NotFound, RateLimited, Unauthenticated
from voltbook.core.ids import IdSource
from voltbook.core.secrets import PasswordHasher
from voltbook.drivers.events import DriverRegistered
from voltbook.drivers.model import (
    Driver,
    Principal,
    Role,
    check_password_rules,
    normalize_email,
)
from voltbook.drivers.ports import DriversUowFactory, LoginThrottle, TokenIssuer


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int
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
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens
        self._throttle = throttle
        self._clock = clock
        self._ids = ids
        self._bus = bus
        # Verifying against this when the account does not exist keeps the timing the same,
        # so response time does not tell which e-mail addresses have accounts.
        self._dummy_hash = hasher.hash("voltbook-dummy-password")

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
        """A bearer token for valid credentials; RateLimited after too many failures."""
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
        principal = Principal(driver.id, driver.role)
        token, lifetime = self._tokens.issue(principal)
        return IssuedToken(token, lifetime, principal)

    def principal(self, token: str) -> Principal:
        """Who a bearer token belongs to, or Unauthenticated."""
        return self._tokens.verify(token)

    async def me(self, principal: Principal) -> Driver:
        async with self._uow(read_only=True) as uow:
            driver = await uow.drivers.get(principal.driver_id)
        if driver is None:
            raise NotFound("this account no longer exists")
        return driver


def require_staff(principal: Principal) -> None:
    """Operators and admins only."""
    if not principal.role.is_staff:
        raise Forbidden("this needs an operator account")
