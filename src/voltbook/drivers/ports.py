"""What the drivers area needs from the outside world."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from voltbook.core.uow import UnitOfWork, UowFactory
from voltbook.drivers.model import Driver, Principal, Role
from voltbook.drivers.privacy_model import Position, Preferences
from voltbook.drivers.sign_ins import RefreshRecord, SignIn, Standing
from voltbook.drivers.vehicle_model import ChargingSessionRef, Vehicle


class DriverRepository(Protocol):
    async def add(self, driver: Driver) -> None:
        """Store a new driver; raise Conflict when the e-mail address is taken."""
        ...

    async def by_email(self, email: str) -> Driver | None: ...

    async def get(self, driver_id: str) -> Driver | None: ...

    async def set_password(self, driver_id: str, password_hash: str) -> None: ...

    async def set_role(self, driver_id: str, role: Role) -> None: ...

    async def set_blocked(self, driver_id: str, blocked: bool) -> None: ...

    async def erase(self, driver_id: str, at: datetime) -> None:
        """Delete the account's personal data (vehicles, push subscriptions, topics, notices,
        position, consents, e-mail address, password) and unlink its cards, so that its
        charging sessions stay without pointing at anyone. The row stays as a tombstone that
        past bookings refer to and that no token proves any more."""
        ...


class SignInRepository(Protocol):
    async def add(self, sign_in: SignIn) -> None: ...

    async def add_refresh(self, token_hash: str, sign_in_id: str, expires_at: datetime) -> None: ...

    async def refresh(self, token_hash: str) -> RefreshRecord | None:
        """The stored refresh token with this hash (locked against a concurrent use)."""
        ...

    async def use_refresh(self, token_hash: str, at: datetime) -> bool:
        """Mark the token used; False when it was used already (by a concurrent request)."""
        ...

    async def revoke(self, sign_in_id: str, at: datetime) -> None: ...

    async def revoke_all(self, driver_id: str, at: datetime, keep: str | None = None) -> list[str]:
        """End every live sign-in of the account but `keep`; returns the ids ended."""
        ...

    async def standing(self, sign_in_id: str) -> Standing | None:
        """The account and sign-in state a request is checked against (one indexed read)."""
        ...

    async def standings(self, sign_in_ids: list[str]) -> dict[str, Standing]:
        """`standing` of many sign-ins at once (those that exist)."""
        ...


class DriversUnitOfWork(UnitOfWork, Protocol):
    @property
    def drivers(self) -> DriverRepository: ...

    @property
    def sign_ins(self) -> SignInRepository: ...


class TokenIssuer(Protocol):
    def issue(self, principal: Principal) -> tuple[str, int]:
        """A signed access token naming the account and its sign-in, and its lifetime in s."""
        ...

    def verify(self, token: str) -> Principal:
        """The account and sign-in a token names (its signature and expiry checked; the
        account's standing is not: see `AccountService.authenticate`), or Unauthenticated."""
        ...


class LoginThrottle(Protocol):
    def retry_after(self, keys: list[str]) -> int:
        """Seconds to wait when any key has too many recent failures, else 0."""
        ...

    def record_failure(self, keys: list[str]) -> None: ...

    def reset(self, keys: list[str]) -> None: ...


DriversUowFactory = UowFactory[DriversUnitOfWork]


# --- vehicles and location privacy -------------------------------------------------------


class VehicleRepository(Protocol):
    async def add(self, vehicle: Vehicle) -> None: ...

    async def get(self, vehicle_id: str) -> Vehicle | None: ...

    async def of_driver(self, driver_id: str) -> list[Vehicle]:
        """The driver's vehicles, oldest first."""
        ...

    async def save(self, vehicle: Vehicle) -> None:
        """Store a changed description (name, battery, plugs, charging limits)."""
        ...

    async def save_state(self, vehicle: Vehicle) -> bool:
        """Store SoC, range and reported_at unless the stored report is newer; False then."""
        ...

    async def delete(self, vehicle_id: str) -> bool: ...

    async def for_charging(self, session: ChargingSessionRef) -> str | None:
        """The vehicle a charging session charges (see `ChargingSessionRef`), if one is known."""
        ...


class PreferenceRepository(Protocol):
    async def get(self, driver_id: str) -> Driver | None: ...

    async def set_preferences(self, driver_id: str, preferences: Preferences) -> None:
        """Store consents, quiet hours and time zone (taking the driver's row lock)."""
        ...


class PositionRepository(Protocol):
    async def put_if_consented(self, position: Position) -> bool:
        """Make this the driver's one stored position, unless a newer one is stored.

        Reads the driver's location consent under a lock on the driver's row (so that a
        concurrent consent withdrawal cannot leave a position behind) and stores nothing,
        returning False, when it is off.
        """
        ...

    async def get(self, driver_id: str, now: datetime) -> Position | None:
        """The driver's position unless it has expired by `now`."""
        ...

    async def delete(self, driver_id: str) -> bool: ...

    async def purge(self, now: datetime) -> int:
        """Delete every expired position; returns how many."""
        ...


class VehiclesUnitOfWork(UnitOfWork, Protocol):
    @property
    def vehicles(self) -> VehicleRepository: ...


class PrivacyUnitOfWork(UnitOfWork, Protocol):
    @property
    def drivers(self) -> PreferenceRepository: ...

    @property
    def positions(self) -> PositionRepository: ...


VehiclesUowFactory = UowFactory[VehiclesUnitOfWork]
PrivacyUowFactory = UowFactory[PrivacyUnitOfWork]
