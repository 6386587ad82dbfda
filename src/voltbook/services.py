"""The use cases an entry point (HTTP API, CLI) may call, built by bootstrap."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from voltbook.alarms.service import AlarmService
from voltbook.charging.service import ChargingService
from voltbook.drivers.privacy import PrivacyService
from voltbook.drivers.service import AccountService
from voltbook.drivers.vehicles import VehicleService
from voltbook.recommendations.service import RecommendationService
from voltbook.reservations.service import ReservationService
from voltbook.stations.fleet import FleetService
from voltbook.stations.service import StationService

# An ASGI application, spelled without importing a web framework.
AsgiApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]


@dataclass(frozen=True, slots=True)
class Services:
    stations: StationService
    accounts: AccountService
    fleet: FleetService
    charging: ChargingService
    alarms: AlarmService
    reservations: ReservationService
    ocpp_endpoint: AsgiApp
    """The WebSocket endpoint stations connect to, at /ocpp/{station_id}."""
    ready: Callable[[], Awaitable[str | None]]
    """Returns None when storage is usable, else what is wrong."""
    vehicles: VehicleService
    privacy: PrivacyService
    recommendations: RecommendationService
