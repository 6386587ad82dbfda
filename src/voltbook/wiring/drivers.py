"""What the drivers area (accounts, vehicles) hears from other areas, and what its accounts
ask of the live channel."""

from __future__ import annotations

from typing import Protocol

from voltbook.charging.events import SessionSocMeasured, SessionStopped
from voltbook.core.connectors import EvseRef
from voltbook.drivers.events import SignInsEnded
from voltbook.drivers.vehicle_model import ChargingSessionRef
from voltbook.drivers.vehicles import VehicleService


class VehicleReactions:
    """A charger's SoC reading reaches the vehicle being charged (which one: see
    `ChargingSessionRef`)."""

    def __init__(self, vehicles: VehicleService) -> None:
        self._vehicles = vehicles

    async def soc_measured(self, event: SessionSocMeasured) -> None:
        evse = EvseRef(event.station_id, event.evse_id)
        session = ChargingSessionRef(
            evse, event.session_id, event.id_tag, event.reservation_id, event.started_at
        )
        await self._vehicles.charger_soc(session, event.soc_percent, event.at)

    async def session_stopped(self, event: SessionStopped) -> None:
        self._vehicles.session_ended(event.station_id, event.session_id)


class LiveSignIns(Protocol):
    """The live channel's side: it closes the channels opened with ended sign-ins."""

    async def end_sign_ins(self, driver_id: str, sign_in_ids: tuple[str, ...] | None) -> None: ...


class AccountReactions:
    """Sign-ins ended (sign-out, password change, block, demotion, deletion): the live
    channels opened with them close, on every node (the event is cluster-wide)."""

    def __init__(self, live: LiveSignIns) -> None:
        self._live = live

    async def sign_ins_ended(self, event: SignInsEnded) -> None:
        await self._live.end_sign_ins(event.driver_id, event.sign_in_ids)
