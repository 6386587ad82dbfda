"""What charging from the app hears from other areas, and the bridge it commands chargers
through: the chargers' remote start and stop reach it through the fleet, its state follows the
charging area's events, and every new driver gets an app token."""

from __future__ import annotations

import secrets

from voltbook.charging.events import SessionIdentified, SessionStarted, SessionStopped
from voltbook.charging.model import ChargingSession
from voltbook.charging.ports import StartGuard
from voltbook.charging.remote import AppChargingService
from voltbook.charging.service import ChargingService
from voltbook.core.clock import Clock
from voltbook.drivers.events import DriverRegistered
from voltbook.notices.model import Urgency
from voltbook.notices.service import NoticeService
from voltbook.stations.commands import RemoteStart, RemoteStop
from voltbook.stations.events import ConnectorStatusChanged
from voltbook.stations.fleet import FleetService


class FleetChargerControl:
    """`ChargerControl` on the fleet's commands and the reservations' start guard."""

    def __init__(
        self, fleet: FleetService, charging: ChargingService, guard: StartGuard, clock: Clock
    ) -> None:
        self._fleet = fleet
        self._charging = charging
        self._guard = guard
        self._clock = clock

    async def remote_start(self, station_id: str, evse_id: int, id_tag: str) -> str | None:
        # 2.0.1 wants a remoteStartId to tie the TransactionEvent to the request.
        command = RemoteStart(id_tag, evse_id, remote_start_id=secrets.randbelow(2**31 - 1) + 1)
        return (await self._fleet.command(station_id, command)).status

    async def remote_stop(self, station_id: str, reference: str) -> str | None:
        return (await self._fleet.command(station_id, RemoteStop(reference))).status

    async def held_for_others(self, station_id: str, evse_id: int, id_tag: str) -> bool:
        return not await self._guard.may_start(station_id, evse_id, id_tag, self._clock.now())

    async def current(self, station_id: str, reference: str) -> ChargingSession | None:
        return await self._charging.get(station_id, reference)


class AppChargingReactions:
    """The app's charges, moved by other areas' events."""

    def __init__(self, app_charging: AppChargingService, notices: NoticeService) -> None:
        self._app = app_charging
        self._notices = notices

    async def registered(self, event: DriverRegistered) -> None:
        await self._app.issue_token(event.driver_id)

    async def status_changed(self, event: ConnectorStatusChanged) -> None:
        await self._app.connector_status(event.station_id, event.evse_id, event.status.value)

    async def started(self, event: SessionStarted | SessionIdentified) -> None:
        await self._app.session_started(
            event.session_id, event.station_id, event.evse_id, event.id_tag
        )

    async def stopped(self, event: SessionStopped) -> None:
        finished = await self._app.session_stopped(event.session_id, event.reason)
        if finished is None:
            return
        payload = {
            "charge_id": finished.id,
            "station_id": finished.station_id,
            "evse_id": finished.evse_id,
            "energy_wh": round(event.energy_wh, 1),
            "reason": event.reason,
        }
        notices = self._notices
        # By the notices worker, as the other notices: the station's stop waits for none.
        notices.worker.submit(
            lambda: notices.notify(finished.driver_id, "charge.finished", payload, Urgency.NORMAL)
        )
