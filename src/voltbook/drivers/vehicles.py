"""Use cases of vehicles: describe them, and keep their last known state of charge and range.

Drivers see only their own vehicles: another driver's vehicle is NotFound, as if it did not
exist. The state comes from the app (`report`) and, while the vehicle charges, from the
charger's meter values (`charger_soc`). Chargers can send a SoC every few seconds; those
readings are kept in memory (the newest per vehicle) and written by `flush`, which bootstrap
calls every second, in one transaction.
"""

from __future__ import annotations

from datetime import datetime

from voltbook.core.clock import Clock
from voltbook.core.errors import Conflict, NotFound
from voltbook.core.ids import IdSource
from voltbook.drivers.model import reported_at
from voltbook.drivers.ports import VehiclesUowFactory
from voltbook.drivers.vehicle_model import ChargingSessionRef, Vehicle, VehicleSpec, check_state

MAX_VEHICLES_PER_DRIVER = 20
# A report time more than this far ahead of the server's clock is refused.
_MAX_TRACKED_SESSIONS = 50_000

SessionKey = tuple[str, int]  # (station id, session id)


class VehicleService:
    def __init__(self, uow: VehiclesUowFactory, clock: Clock, ids: IdSource) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._session_vehicle: dict[SessionKey, str | None] = {}
        self._pending: dict[str, tuple[float, datetime]] = {}  # vehicle id → (SoC, at)

    async def create(self, driver_id: str, spec: VehicleSpec) -> Vehicle:
        vehicle = Vehicle.new(self._ids.new_id(), driver_id, spec, self._clock.now())
        async with self._uow() as uow:
            if len(await uow.vehicles.of_driver(driver_id)) >= MAX_VEHICLES_PER_DRIVER:
                raise Conflict(f"a driver may have at most {MAX_VEHICLES_PER_DRIVER} vehicles")
            await uow.vehicles.add(vehicle)
            await uow.commit()
        return vehicle

    async def list(self, driver_id: str) -> list[Vehicle]:
        async with self._uow(read_only=True) as uow:
            return await uow.vehicles.of_driver(driver_id)

    async def get(self, driver_id: str, vehicle_id: str) -> Vehicle:
        """The driver's own vehicle; NotFound for anyone else's."""
        async with self._uow(read_only=True) as uow:
            return _own(await uow.vehicles.get(vehicle_id), driver_id, vehicle_id)

    async def update(self, driver_id: str, vehicle_id: str, spec: VehicleSpec) -> Vehicle:
        """Describe the vehicle anew (the whole description; the state stays)."""
        async with self._uow() as uow:
            vehicle = _own(await uow.vehicles.get(vehicle_id), driver_id, vehicle_id)
            changed = vehicle.described(spec)
            await uow.vehicles.save(changed)
            await uow.commit()
        return changed

    async def delete(self, driver_id: str, vehicle_id: str) -> None:
        async with self._uow() as uow:
            _own(await uow.vehicles.get(vehicle_id), driver_id, vehicle_id)
            await uow.vehicles.delete(vehicle_id)
            await uow.commit()
        self._pending.pop(vehicle_id, None)

    async def report(
        self,
        driver_id: str,
        vehicle_id: str,
        soc_percent: float | None,
        range_km: float | None,
        at: datetime | None = None,
    ) -> Vehicle:
        """The app reports the state of charge and/or range (at `at`, default now).

        A report older than the stored one changes nothing; the vehicle is returned as stored.
        """
        check_state(soc_percent, range_km)
        when = reported_at(at, self._clock.now())
        async with self._uow() as uow:
            vehicle = _own(await uow.vehicles.get(vehicle_id), driver_id, vehicle_id)
            updated = vehicle.reported(soc_percent, range_km, when)
            if updated is not vehicle:
                await uow.vehicles.save_state(updated)
                await uow.commit()
        return updated

    # --- from the charger -------------------------------------------------------------

    async def charger_soc(
        self, session: ChargingSessionRef, soc_percent: float, at: datetime
    ) -> None:
        """A charger measured the SoC of the vehicle in a session; see `ChargingSessionRef`
        for which vehicle that is. Written at the next `flush`."""
        if not 0.0 <= soc_percent <= 100.0:
            return  # a charger's nonsense is not worth refusing a meter frame over
        key = (session.station_id, session.session_id)
        if key in self._session_vehicle:
            vehicle_id = self._session_vehicle[key]
        else:
            async with self._uow(read_only=True) as uow:
                vehicle_id = await uow.vehicles.for_charging(session)
            if len(self._session_vehicle) >= _MAX_TRACKED_SESSIONS:
                self._session_vehicle.clear()
            self._session_vehicle[key] = vehicle_id
        if vehicle_id is None:
            return
        previous = self._pending.get(vehicle_id)
        if previous is None or previous[1] < at:
            self._pending[vehicle_id] = (soc_percent, at)

    def session_ended(self, station_id: str, session_id: int) -> None:
        self._session_vehicle.pop((station_id, session_id), None)

    async def flush(self) -> int:
        """Write the newest charger SoC of each vehicle; returns how many vehicles changed."""
        if not self._pending:
            return 0
        pending, self._pending = self._pending, {}
        changed = 0
        try:
            async with self._uow() as uow:
                for vehicle_id, (soc, at) in pending.items():
                    vehicle = await uow.vehicles.get(vehicle_id)
                    if vehicle is None:
                        continue
                    updated = vehicle.reported(soc, None, at)
                    if updated is not vehicle and await uow.vehicles.save_state(updated):
                        changed += 1
                await uow.commit()
        except BaseException:
            for vehicle_id, reading in pending.items():  # written next time
                newer = self._pending.get(vehicle_id)
                if newer is None or newer[1] < reading[1]:
                    self._pending[vehicle_id] = reading
            raise
        return changed


def _own(vehicle: Vehicle | None, driver_id: str, vehicle_id: str) -> Vehicle:
    if vehicle is None or vehicle.driver_id != driver_id:
        raise NotFound(f"vehicle {vehicle_id} does not exist")
    return vehicle
