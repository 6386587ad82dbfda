"""Use cases of location privacy: consents, quiet hours, and the driver's last position.

- Both consents are off until the driver turns them on.
- A position is stored only with the location consent, as the driver's one and only
  position (a newer one replaces it; there is no history), and is forgotten `ttl` after it
  was taken. Turning the consent off, or `forget_position`, deletes it at once.
- Nothing here logs or publishes coordinates.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from voltbook.core.bus import EventBus
from voltbook.core.clock import Clock
from voltbook.core.errors import Forbidden, NotFound
from voltbook.drivers.events import ConsentsChanged
from voltbook.drivers.model import Driver, reported_at
from voltbook.drivers.ports import PrivacyUowFactory
from voltbook.drivers.privacy_model import Position, Preferences


class LocationNotShared(Forbidden):
    code = "location-consent-missing"


class PrivacyService:
    def __init__(
        self,
        uow: PrivacyUowFactory,
        clock: Clock,
        position_ttl_s: int = 1800,
        bus: EventBus | None = None,
    ) -> None:
        if position_ttl_s <= 0:
            raise ValueError("position_ttl_s must be positive")
        self._uow = uow
        self._clock = clock
        self._bus = bus
        self._ttl = timedelta(seconds=position_ttl_s)

    async def preferences(self, driver_id: str) -> Driver:
        async with self._uow(read_only=True) as uow:
            driver = await uow.drivers.get(driver_id)
        if driver is None:
            raise NotFound("this account no longer exists")
        return driver

    async def update_me(self, driver_id: str, preferences: Preferences) -> Driver:
        """Store the driver's consents, quiet hours and time zone (all of them).

        Withdrawing the location consent deletes the stored position in the same transaction.
        """
        preferences = preferences.validated()
        async with self._uow() as uow:
            if await uow.drivers.get(driver_id) is None:
                raise NotFound("this account no longer exists")
            await uow.drivers.set_preferences(driver_id, preferences)
            if not preferences.consent_location:
                await uow.positions.delete(driver_id)
            driver = await uow.drivers.get(driver_id)
            await uow.commit()
        assert driver is not None
        if self._bus is not None:  # a consent counts at once, on every node
            await self._bus.publish(
                ConsentsChanged(driver_id, driver.consent_location, driver.consent_offers)
            )
        return driver

    async def record_position(
        self,
        driver_id: str,
        lat: float,
        lon: float,
        accuracy_m: float | None = None,
        at: datetime | None = None,
    ) -> Position:
        """Keep this as the driver's last position; LocationNotShared without consent.

        A position older than the stored one does not replace it (the stored one is returned).
        """
        now = self._clock.now()
        when = reported_at(at, now)
        position = Position(driver_id, lat, lon, accuracy_m, when, when + self._ttl)
        async with self._uow() as uow:
            if not await uow.positions.put_if_consented(position):
                raise LocationNotShared(
                    "sharing your location is off: turn on consent_location first "
                    "(PATCH /api/v1/me)"
                )
            stored = await uow.positions.get(driver_id, now)
            await uow.commit()
        return stored if stored is not None else position

    async def forget_position(self, driver_id: str) -> bool:
        """Delete the driver's position now; False when none was stored."""
        async with self._uow() as uow:
            deleted = await uow.positions.delete(driver_id)
            await uow.commit()
        return deleted

    async def last_position(self, driver_id: str, now: datetime | None = None) -> Position | None:
        """The driver's last position, None once it has expired (or was never shared)."""
        async with self._uow(read_only=True) as uow:
            return await uow.positions.get(driver_id, now or self._clock.now())

    async def purge(self, now: datetime | None = None) -> int:
        """Delete every expired position; returns how many (bootstrap runs it each minute)."""
        async with self._uow() as uow:
            count = await uow.positions.purge(now or self._clock.now())
            await uow.commit()
        return count
