"""Builds the services from their adapters and starts them. The only module that knows every
part: every collaborator is passed to its constructor here, and the areas meet through the
wiring package's event table (see docs/adr/0005)."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from voltbook.alarms.service import AlarmService
from voltbook.audit.service import AuditService
from voltbook.charging.remote import AppChargingService
from voltbook.charging.service import ChargingService
from voltbook.cluster import Cluster, SingleNode, build_cluster
from voltbook.config import Settings
from voltbook.console_wiring import build_console, build_journal, build_meter_series
from voltbook.core.clock import Clock, ScaledClock, SystemClock
from voltbook.core.ids import TimeOrderedIds
from voltbook.core.worker import SerialWorker
from voltbook.drivers.privacy import PrivacyService
from voltbook.drivers.service import AccountService
from voltbook.drivers.throttle import SlidingWindowThrottle
from voltbook.drivers.vehicles import VehicleService
from voltbook.forecasts.service import ForecastService
from voltbook.live.hub import LiveHub
from voltbook.live.vapid import vapid_keys
from voltbook.live.webpush import WebPushSender
from voltbook.notices.push import PushService
from voltbook.notices.service import NoticeService
from voltbook.ocpp.gateway import OcppGateway
from voltbook.ocpp.link import LocalStationLink
from voltbook.ocpp.message_counts import MessageCounts
from voltbook.ocpp.protocol import Version
from voltbook.ocpp.validation import SchemaValidator
from voltbook.offers.rules import EngineRules
from voltbook.offers.service import OfferService
from voltbook.recommendations.service import RecommendationService
from voltbook.reservations.model import Rules
from voltbook.reservations.service import ReservationService
from voltbook.security.passwords import Argon2idHasher
from voltbook.security.station_keys import StationPasswordHasher
from voltbook.security.tokens import JwtTokens
from voltbook.services import Services
from voltbook.stations.catalog import SiteCatalog
from voltbook.stations.catalog_sync import CATALOG_EVENTS, CatalogSync
from voltbook.stations.fleet import FleetService
from voltbook.stations.places import PlaceService
from voltbook.stations.service import StationService
from voltbook.storage import migrate
from voltbook.storage.database import create_engine, create_reader
from voltbook.storage.site_versions import SqlSiteVersions
from voltbook.storage.unit_of_work import SqlUnitOfWork
from voltbook.storage.write_turns import WriteTurns
from voltbook.telemetry import CountingSender, Telemetry, TimedLink
from voltbook.wiring import background
from voltbook.wiring.alarms import AlarmReactions
from voltbook.wiring.charging import AppChargingReactions, FleetChargerControl
from voltbook.wiring.drivers import AccountReactions, VehicleReactions
from voltbook.wiring.events import Reactions, event_table
from voltbook.wiring.failures import HandlerFailures
from voltbook.wiring.history import CredentialReactions
from voltbook.wiring.live import LiveBackend
from voltbook.wiring.notices import NoticeReactions
from voltbook.wiring.offers import BusOfferOutlet, OfferReactions
from voltbook.wiring.places import StationPlaces
from voltbook.wiring.recommendations import (
    AvailableChargers,
    DriverPositions,
    DriverVehicles,
    RunningOffers,
)
from voltbook.wiring.reservations import (
    DriverBookings,
    FleetChargerHold,
    NearbyAlternatives,
    ReservationReactions,
)
from voltbook.wiring.table import Table, subscribe


def token_secret(settings: Settings) -> str:
    """The configured signing secret, or one made on first start and kept in the data dir."""
    return _secret(settings.jwt_secret.get_secret_value(), settings.data_dir, "token.key")


def station_key(settings: Settings) -> bytes:
    """The key of station password hashes: configured, or derived from the token secret (so
    that nodes sharing that secret, as they must, share this key too)."""
    configured = settings.station_key.get_secret_value()
    if configured:
        return configured.encode("utf-8")
    label = b"voltbook station password hashes"
    return hmac.digest(token_secret(settings).encode("utf-8"), label, "sha256")


def _secret(configured: str, data_dir: Path, name: str) -> str:
    if configured:
        return configured
    path = data_dir / "secrets" / name
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secret)
    return secret


def readiness(engine: AsyncEngine) -> Callable[[], Awaitable[str | None]]:
    """What `/readyz` asks: None when storage answers and its schema is the newest, else why
    not."""

    async def ready() -> str | None:
        try:
            async with engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
            if not await migrate.is_current(engine):
                return "the database schema is not at the newest revision"
        except Exception as error:  # readiness must answer, whatever storage does
            return f"storage unreachable: {type(error).__name__}"
        return None

    return ready


def build_services(
    settings: Settings,
    engine: AsyncEngine,
    clock: Clock | None = None,
    cluster: Cluster | None = None,
    reader: AsyncEngine | None = None,
    more_events: Sequence[Table] = (),
) -> Services:
    """Every service, built in dependency order; `more_events` are event tables subscribed
    beside the application's own (an area under test, say)."""
    clock = clock or SystemClock()
    cluster = cluster or SingleNode()
    telemetry = Telemetry()
    bus = cluster.bus
    ids = TimeOrderedIds()
    failures = HandlerFailures()

    turns = WriteTurns() if engine.dialect.name == "sqlite" else None  # docs/adr/0032

    def uow(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock, read_only=read_only, reader=reader, turns=turns)

    ready = readiness(engine)
    hasher = Argon2idHasher()
    # Station passwords are 16-40 character secrets: a fast keyed hash (docs/adr/0015).
    station_hasher = StationPasswordHasher(station_key(settings))
    # The link to connected stations comes first: the fleet commands through it, the gateway
    # (built last, it needs charging) adds and removes connections.
    validator = SchemaValidator()
    link = LocalStationLink(validator)
    fleet = FleetService(
        uow,
        station_hasher,
        TimedLink(cluster.station_link(link), telemetry),
        clock,
        bus,
        heartbeat_interval_s=settings.ocpp_heartbeat_interval_s,
        auto_register=settings.ocpp_auto_register,
        command_timeout_s=settings.ocpp_command_timeout_s,
        offline_grace_s=settings.ocpp_offline_grace_s,
    )
    alarms = AlarmService(uow, bus, clock)
    catalog_sync = None
    if settings.nearby_in_memory:  # nearby searches from memory (docs/adr/0022)
        catalog = SiteCatalog()
        catalog_sync = CatalogSync(catalog, SqlSiteVersions(reader or engine), uow, clock, bus)
        more_events = (*more_events, dict.fromkeys(CATALOG_EVENTS, (catalog_sync.on_event,)))
    stations = StationService(uow, bus, catalog_sync.catalog if catalog_sync else None, clock)
    reservations = ReservationService(
        uow,
        FleetChargerHold(fleet, settings.ocpp_command_timeout_s),
        clock,
        bus,
        Rules(
            max_live_per_driver=settings.reservation_max_live_per_driver,
            horizon=timedelta(days=settings.reservation_horizon_days),
            min_length=timedelta(minutes=settings.reservation_min_minutes),
            max_length=timedelta(minutes=settings.reservation_max_minutes),
            grace=timedelta(seconds=settings.reservation_grace_s),
            lead_time=timedelta(seconds=settings.reservation_lead_s),
        ),
        NearbyAlternatives(stations, fleet),
        command_timeout=timedelta(seconds=settings.ocpp_command_timeout_s),
    )
    # Deleting an account cancels its live bookings first (their charger holds go).
    accounts = AccountService(
        uow=uow,
        hasher=hasher,
        tokens=JwtTokens(token_secret(settings), settings.token_lifetime_s, clock),
        throttle=SlidingWindowThrottle(
            clock, settings.login_max_failures, float(settings.login_window_s)
        ),
        clock=clock,
        ids=ids,
        bus=bus,
        refresh_lifetime_s=settings.refresh_token_lifetime_s,
        closing_steps=(DriverBookings(reservations).cancel_live,),
    )
    meter_series = build_meter_series(settings, uow, clock)
    charging = ChargingService(
        uow,
        clock,
        bus,
        accept_unknown_id_tags=settings.ocpp_accept_unknown_id_tags,
        guard=reservations,
        series=meter_series,
    )
    journal = build_journal(settings, uow, clock)
    send_bounds = (settings.websocket_send_queue, settings.websocket_send_block_s)
    gateway = OcppGateway(
        fleet,
        charging,
        link,
        clock,
        validator,
        journal.note if settings.journal_enabled else None,
        *send_bounds,
        MessageCounts(telemetry, validator.actions(Version.V16) | validator.actions(Version.V201)),
    )
    vapid = vapid_keys(settings.data_dir, settings.vapid_private_key.get_secret_value())
    push = PushService(
        uow,
        CountingSender(WebPushSender(vapid, settings.push_contact, clock), telemetry),
        clock,
        vapid.application_server_key,
        max_per_driver=settings.push_max_subscriptions,
        allow_insecure_endpoints=settings.push_allow_insecure,
    )
    vehicles = VehicleService(uow, clock, ids)
    privacy = PrivacyService(uow, clock, settings.position_ttl_s, bus)
    presence = cluster.presence
    notices = NoticeService(
        uow,
        clock,
        bus,
        presence,
        push,
        retention=timedelta(hours=settings.notice_retention_h),
        push_ttl_s=settings.push_ttl_s,
        worker=SerialWorker(lambda error: failures.record("notices.worker", error)),
    )
    offers = OfferService(
        uow,
        BusOfferOutlet(bus, clock),
        clock,
        bus,
        EngineRules(
            max_per_hour=settings.offer_max_per_hour,
            position_ttl=timedelta(seconds=settings.position_ttl_s),
        ),
    )
    offer_reactions = OfferReactions(offers)
    # What the app reports over the live channel goes to these, in order; the first refuses
    # a position the driver has not consented to share, and then nothing else sees it.
    backend = LiveBackend(
        accounts,
        notices,
        presence,
        clock,
        positions=(privacy.record_position, offer_reactions.position),
        vehicles=(vehicles.report, offer_reactions.vehicle),
    )
    live = LiveHub(backend, settings.live_query_timeout_s, send_bounds)
    places = StationPlaces(fleet, stations)
    # A recommendation waits this long at most for an open app to say where it is.
    ask_timeout_s = min(settings.live_query_timeout_s, 5.0)
    recommendations = RecommendationService(
        DriverVehicles(
            vehicles, settings.recommendation_kwh_per_km, live.ask, clock, ask_timeout_s
        ),
        DriverPositions(privacy, live.ask, ask_timeout_s),
        AvailableChargers(stations),
        RunningOffers(offers, places, clock),
        settings.recommendation_margin_percent,
    )
    # Charging from the app (see wiring/charging.py).
    app_charging = AppChargingService(
        uow, FleetChargerControl(fleet, charging, reservations, clock), clock, ids
    )
    # The operator console's back end (id tokens, lists, journal, history, telemetry).
    console = build_console(settings, uow, clock, bus, fleet, link, live, telemetry, journal)
    reactions = Reactions(
        alarms=AlarmReactions(alarms),
        reservations=ReservationReactions(reservations),
        offers=offer_reactions,
        notices=NoticeReactions(notices, places, notices.worker),
        vehicles=VehicleReactions(vehicles),
        live=live,
        accounts=AccountReactions(live),
        app_charging=AppChargingReactions(app_charging, notices),
        id_tokens=console.id_token_reactions,
        history=console.history_reactions,
        telemetry=console.telemetry_reactions,
        credentials=CredentialReactions(fleet),
    )
    subscribe(bus, (event_table(reactions), *more_events), failures)
    return Services(
        stations=stations,
        accounts=accounts,
        fleet=fleet,
        charging=charging,
        alarms=alarms,
        reservations=reservations,
        notices=notices,
        live=live,
        offers=offers,
        ocpp_endpoint=gateway,
        ready=ready,
        push=push,
        vehicles=vehicles,
        privacy=privacy,
        recommendations=recommendations,
        failures=failures,
        catalog_sync=catalog_sync,
        app_charging=app_charging,
        places=PlaceService(uow),
        id_tokens=console.id_tokens,
        auth_lists=console.auth_lists,
        journal=journal,
        status_history=console.status_history,
        telemetry=telemetry,
        meter_series=meter_series,
        figures=console.figures,
        forecasts=ForecastService(uow, clock),
        audit=AuditService(uow, clock),
    )


@asynccontextmanager
async def open_services(
    settings: Settings, *, upgrade: bool = False, serving: bool = True
) -> AsyncIterator[Services]:
    """Services on a fresh engine, disposed of on exit; `upgrade` migrates the schema first.
    `serving=False` (a command that changes something and ends) runs none of the background
    loops: no job of a server's (hand-offs, card changes for the stations, purges) is taken
    by a process that serves no station and ends in a moment (ADR 0035)."""
    engine = create_engine(settings.resolved_database_url(), settings.db_pool_size)
    reader = create_reader(settings.resolved_database_url(), settings.db_pool_size)
    try:
        if upgrade:
            await migrate.upgrade(engine)
        clock = clock_for(settings)
        cluster = build_cluster(settings, clock)
        services = build_services(settings, engine, cluster=cluster, reader=reader, clock=clock)
        await cluster.start()
        running = [
            asyncio.create_task(loop)
            for loop in (background.loops(services, services.failures, clock) if serving else [])
        ]
        try:
            yield services
        finally:
            with contextlib.suppress(TimeoutError):  # bookings and notices in flight first
                async with asyncio.timeout(5):
                    await services.reservations.close()
                    await services.notices.worker.drained()
            for task in running:
                task.cancel()
            for task in running:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await services.fleet.offline_now()  # stations gone just before the stop
            await services.charging.flush()
            with contextlib.suppress(Exception):  # diagnostics: not worth failing a stop
                await services.journal.flush()
                await services.status_history.flush()
                await services.meter_series.flush()
            await cluster.close()
            await services.vehicles.flush()
    finally:
        await engine.dispose()
        if reader is not None:
            await reader.dispose()


def clock_for(settings: Settings) -> Clock:
    """The system clock, or in a simulation a faster one (ADR 0020)."""
    if not settings.simulation or (settings.time_scale == 1.0 and settings.time_origin is None):
        return SystemClock()
    return ScaledClock(settings.time_scale, settings.time_origin, settings.time_anchor or None)


def bundled_stations() -> Path:
    """The bundled real-station data set (see its SOURCE.md for origin and licence)."""
    return Path(__file__).with_name("data") / "stations.csv"
