"""The use cases an entry point (HTTP API, CLI) may call, built by bootstrap."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

from voltbook.alarms.service import AlarmService
from voltbook.audit.service import AuditService
from voltbook.charging.remote import AppChargingService
from voltbook.charging.series import MeterSeriesService
from voltbook.charging.service import ChargingService
from voltbook.console_figures import FiguresService
from voltbook.drivers.privacy import PrivacyService
from voltbook.drivers.service import AccountService
from voltbook.drivers.vehicles import VehicleService
from voltbook.forecasts.service import ForecastService
from voltbook.idtokens.lists import AuthListService
from voltbook.idtokens.service import IdTokenService
from voltbook.journal.service import JournalService
from voltbook.notices.push import PushService
from voltbook.notices.service import NoticeService
from voltbook.offers.service import OfferService
from voltbook.recommendations.service import RecommendationService
from voltbook.reservations.service import ReservationService
from voltbook.stations.catalog_sync import CatalogSync
from voltbook.stations.fleet import FleetService
from voltbook.stations.history import StatusHistoryService
from voltbook.stations.places import PlaceService
from voltbook.stations.service import StationService
from voltbook.telemetry import Telemetry
from voltbook.wiring.failures import HandlerFailures

# An ASGI application, spelled without importing a web framework.
AsgiApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]


class LiveChannel(Protocol):
    """The live channel's endpoint, and the server's questions to an open app."""

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None: ...

    async def ask(
        self, driver_id: str, kind: str, timeout_s: float | None = None, **extra: Any
    ) -> dict[str, Any]: ...

    async def close_ended(self) -> int:
        """Close the channels whose sign-in ended or whose account changed role."""
        ...


@dataclass(frozen=True, slots=True)
class Services:
    stations: StationService
    accounts: AccountService
    fleet: FleetService
    charging: ChargingService
    alarms: AlarmService
    reservations: ReservationService
    notices: NoticeService
    live: LiveChannel
    """The app end: WS /api/v1/live, and the server's queries to the app."""
    offers: OfferService
    ocpp_endpoint: AsgiApp
    """The WebSocket endpoint stations connect to, at /ocpp/{station_id}."""
    ready: Callable[[], Awaitable[str | None]]
    """Returns None when storage is usable, else what is wrong."""
    push: PushService
    vehicles: VehicleService
    privacy: PrivacyService
    recommendations: RecommendationService
    failures: HandlerFailures
    """Failures of event handlers and background work, counted per handler."""
    app_charging: AppChargingService
    """Charges a driver starts and stops from the app."""
    places: PlaceService
    id_tokens: IdTokenService
    auth_lists: AuthListService
    journal: JournalService
    """The last OCPP messages of each station, written in batches."""
    status_history: StatusHistoryService
    telemetry: Telemetry
    """What the server counts for /metrics."""
    meter_series: MeterSeriesService
    """Sessions' meter values (energy, power, SoC), written in batches."""
    figures: FiguresService
    """The console's figures: today's, and each offer's over time."""
    audit: AuditService
    """Every operator action, kept (docs/adr/0026)."""
    catalog_sync: CatalogSync | None = None
    """Keeps the nearby search's in-memory sites current (None: searches read the database)."""
    forecasts: ForecastService | None = None
    """Availability forecasts (docs/adr/0028); None where nothing builds them."""
