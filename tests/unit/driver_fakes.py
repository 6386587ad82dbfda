"""In-memory vehicles, preferences and positions for unit tests, keeping to the ports' contracts.

A unit of work works on a copy of the committed state and replaces it on `commit`; leaving the
block without a commit throws its writes away. Writes in a read-only unit of work raise.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tests.unit.memory_uow import MemoryStore, MemoryUnitOfWork
from voltbook.drivers.model import Driver
from voltbook.drivers.privacy_model import Position, Preferences
from voltbook.drivers.vehicle_model import ChargingSessionRef, Vehicle

EARLY_START = timedelta(hours=1)  # a session may start this long before its booking


@dataclass(frozen=True, slots=True)
class Booking:
    """Just what `for_charging` reads of a reservation."""

    id: int
    station_id: str
    evse_id: int
    id_tag: str
    vehicle_id: str | None
    status: str
    starts_at: datetime
    ends_at: datetime


@dataclass
class State:
    drivers: dict[str, Driver] = field(default_factory=dict)
    vehicles: dict[str, Vehicle] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    bookings: dict[int, Booking] = field(default_factory=dict)
    id_tags: dict[str, str] = field(default_factory=dict)  # token → driver id

    def copy(self) -> State:
        return State(
            dict(self.drivers),
            dict(self.vehicles),
            dict(self.positions),
            dict(self.bookings),
            dict(self.id_tags),
        )


class DriverDataStore(MemoryStore[State]):
    def __init__(self) -> None:
        super().__init__(State())
        self.lookups = 0  # for_charging calls

    def copy_state(self, state: State) -> State:
        return state.copy()

    def uow(self, *, read_only: bool = False) -> DriverDataUow:
        return DriverDataUow(self, read_only=read_only)


class _Part:
    def __init__(self, uow: DriverDataUow) -> None:
        self._uow = uow

    @property
    def _state(self) -> State:
        return self._uow.state

    def _write(self) -> None:
        self._uow.writable()


class FakeVehicleRepository(_Part):
    async def add(self, vehicle: Vehicle) -> None:
        self._write()
        self._state.vehicles[vehicle.id] = vehicle

    async def get(self, vehicle_id: str) -> Vehicle | None:
        return self._state.vehicles.get(vehicle_id)

    async def of_driver(self, driver_id: str) -> list[Vehicle]:
        return sorted(
            (v for v in self._state.vehicles.values() if v.driver_id == driver_id),
            key=lambda v: (v.created_at, v.id),
        )

    async def save(self, vehicle: Vehicle) -> None:
        self._write()
        stored = self._state.vehicles[vehicle.id]
        self._state.vehicles[vehicle.id] = dataclasses.replace(
            vehicle,
            soc_percent=stored.soc_percent,
            range_km=stored.range_km,
            reported_at=stored.reported_at,
        )

    async def save_state(self, vehicle: Vehicle) -> bool:
        self._write()
        stored = self._state.vehicles.get(vehicle.id)
        if stored is None or vehicle.reported_at is None:
            return False
        if stored.reported_at is not None and stored.reported_at >= vehicle.reported_at:
            return False
        self._state.vehicles[vehicle.id] = dataclasses.replace(
            stored,
            soc_percent=vehicle.soc_percent,
            range_km=vehicle.range_km,
            reported_at=vehicle.reported_at,
        )
        return True

    async def delete(self, vehicle_id: str) -> bool:
        self._write()
        return self._state.vehicles.pop(vehicle_id, None) is not None

    async def for_charging(self, session: ChargingSessionRef) -> str | None:
        self._uow.store.lookups += 1
        state = self._state
        named = state.bookings.get(session.reservation_id or -1)
        if named is not None and named.station_id == session.station_id and named.vehicle_id:
            return named.vehicle_id if named.vehicle_id in state.vehicles else None
        if session.id_tag is None:
            return None
        fulfilled = [
            b
            for b in state.bookings.values()
            if b.station_id == session.station_id
            and b.evse_id == session.evse_id
            and b.id_tag == session.id_tag
            and b.status == "fulfilled"
            and b.vehicle_id in state.vehicles
            and b.starts_at <= session.started_at + EARLY_START
            and b.ends_at > session.started_at
        ]
        if fulfilled:
            return max(fulfilled, key=lambda b: b.starts_at).vehicle_id
        owner = state.id_tags.get(session.id_tag)
        theirs = [v.id for v in state.vehicles.values() if v.driver_id == owner]
        return theirs[0] if owner is not None and len(theirs) == 1 else None


class FakePreferenceRepository(_Part):
    async def get(self, driver_id: str) -> Driver | None:
        return self._state.drivers.get(driver_id)

    async def set_preferences(self, driver_id: str, preferences: Preferences) -> None:
        self._write()
        driver = self._state.drivers[driver_id]
        self._state.drivers[driver_id] = dataclasses.replace(
            driver,
            consent_location=preferences.consent_location,
            consent_offers=preferences.consent_offers,
            quiet_hours=preferences.quiet_hours,
            time_zone=preferences.time_zone,
        )


class FakePositionRepository(_Part):
    async def put_if_consented(self, position: Position) -> bool:
        self._write()
        driver = self._state.drivers.get(position.driver_id)
        if driver is None or not driver.consent_location:
            return False
        stored = self._state.positions.get(position.driver_id)
        if stored is None or stored.reported_at <= position.reported_at:
            self._state.positions[position.driver_id] = position
        return True

    async def get(self, driver_id: str, now: datetime) -> Position | None:
        found = self._state.positions.get(driver_id)
        return found if found is not None and found.expires_at > now else None

    async def delete(self, driver_id: str) -> bool:
        self._write()
        return self._state.positions.pop(driver_id, None) is not None

    async def purge(self, now: datetime) -> int:
        self._write()
        expired = [d for d, p in self._state.positions.items() if p.expires_at <= now]
        for driver_id in expired:
            del self._state.positions[driver_id]
        return len(expired)


class DriverDataUow(MemoryUnitOfWork[State]):
    store: DriverDataStore

    def __init__(self, store: DriverDataStore, *, read_only: bool) -> None:
        super().__init__(store, read_only=read_only)
        self.vehicles = FakeVehicleRepository(self)
        self.drivers = FakePreferenceRepository(self)
        self.positions = FakePositionRepository(self)


if TYPE_CHECKING:
    from voltbook.drivers.ports import PrivacyUowFactory, VehiclesUowFactory

    _vehicles: VehiclesUowFactory = DriverDataStore().uow
    _privacy: PrivacyUowFactory = DriverDataStore().uow
