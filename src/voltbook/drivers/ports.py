"""What the drivers area needs from the outside world."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from voltbook.core.uow import UnitOfWork, UowFactory
from voltbook.drivers.model import Driver, Principal
from voltbook.drivers.privacy_model import Position, Preferences
from voltbook.drivers.vehicle_model import ChargingSessionRef, Vehicle


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
