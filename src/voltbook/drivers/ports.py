"""What the drivers area needs from the outside world."""

from __future__ import annotations

from typing import Protocol

from voltbook.core.uow import UnitOfWork, UowFactory
from voltbook.drivers.model import Driver, Principal


class DriverRepository(Protocol):
    async def add(self, driver: Driver) -> None:
        """Store a new driver; raise Conflict when the e-mail address is taken."""
        ...

    async def by_email(self, email: str) -> Driver | None: ...

    async def get(self, driver_id: str) -> Driver | None: ...


class DriversUnitOfWork(UnitOfWork, Protocol):
    @property
    def drivers(self) -> DriverRepository: ...


class TokenIssuer(Protocol):
    def issue(self, principal: Principal) -> tuple[str, int]:
        """A signed bearer token and its lifetime in seconds."""
        ...

    def verify(self, token: str) -> Principal:
        """The principal a token proves, or Unauthenticated."""
        ...


class LoginThrottle(Protocol):
    def retry_after(self, keys: list[str]) -> int:
        """Seconds to wait when any key has too many recent failures, else 0."""
        ...

    def record_failure(self, keys: list[str]) -> None: ...

    def reset(self, keys: list[str]) -> None: ...


DriversUowFactory = UowFactory[DriversUnitOfWork]
