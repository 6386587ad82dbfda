"""Wires adapters into services. The only module that knows every part."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from voltbook.alarms.service import AlarmService
from voltbook.charging.events import SessionSocMeasured, SessionStarted, SessionStopped
from voltbook.charging.service import ChargingService
from voltbook.config import Settings
from voltbook.core.bus import Event, InProcessBus
from voltbook.core.clock import Clock, SystemClock
from voltbook.core.ids import TimeOrderedIds
from voltbook.drivers.privacy import PrivacyService
from voltbook.drivers.service import AccountService
from voltbook.drivers.throttle import SlidingWindowThrottle
from voltbook.drivers.vehicle_model import ChargingSessionRef
from voltbook.drivers.vehicles import VehicleService
from voltbook.links import (
    AvailableChargers,
    DriverPositions,
    DriverVehicles,
    FleetChargerHold,
    NearbyAlternatives,
    NoActiveOffers,
)
from voltbook.ocpp.gateway import OcppGateway
from voltbook.recommendations.service import RecommendationService
from voltbook.reservations.model import Rules
from voltbook.reservations.service import ReservationService
from voltbook.security.passwords import Argon2idHasher
from voltbook.security.tokens import JwtTokens
from voltbook.services import Services
from voltbook.stations.events import ConnectorStatusChanged, StationConnected, StationDisconnected
from voltbook.stations.fleet import FleetService
from voltbook.stations.model import ConnectorStatus
from voltbook.stations.service import StationService
from voltbook.storage import migrate
from voltbook.storage.database import create_engine
from voltbook.storage.unit_of_work import SqlUnitOfWork


def token_secret(settings: Settings) -> str:
    """The configured signing secret, or one made on first start and kept in the data dir."""
    configured = settings.jwt_secret.get_secret_value()
    if configured:
        return configured
    path = settings.data_dir / "secrets" / "token.key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secret)
    return secret


def build_services(settings: Settings, engine: AsyncEngine, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    bus = InProcessBus()
    ids = TimeOrderedIds()

    def uow(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock, read_only=read_only)

    async def ready() -> str | None:
        try:
            async with engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
            if not await migrate.is_current(engine):
                return "the database schema is not at the newest revision"
        except Exception as error:  # readiness must answer, whatever storage does
            return f"storage unreachable: {type(error).__name__}"
        return None

    hasher = Argon2idHasher()
    # Station passwords are long random strings; a lighter argon2id cost keeps a reconnect
    # storm of thousands of stations from tying up the CPU, at no real loss of safety.
    station_hasher = Argon2idHasher(time_cost=1, memory_cost_kib=8_192)
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
    )
    charging = ChargingService(
        uow, clock, bus, accept_unknown_id_tags=settings.ocpp_accept_unknown_id_tags
    )
    gateway = OcppGateway(charging, clock)
    fleet = FleetService(
        uow,
        station_hasher,
        gateway,
        clock,
        bus,
        heartbeat_interval_s=settings.ocpp_heartbeat_interval_s,
        auto_register=settings.ocpp_auto_register,
        command_timeout_s=settings.ocpp_command_timeout_s,
    )
    gateway.bind(fleet)
    alarms = AlarmService(uow, bus)
    stations = StationService(uow, bus)
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
    )
    charging.guard = reservations
    vehicles = VehicleService(uow, clock, ids)
    privacy = PrivacyService(uow, clock, settings.position_ttl_s)
    recommendations = RecommendationService(
        DriverVehicles(vehicles, settings.recommendation_kwh_per_km),
        DriverPositions(privacy),
        AvailableChargers(stations),
        NoActiveOffers(),  # until the offers area answers which offers run at a station
        settings.recommendation_margin_percent,
    )
    _route_events(bus, alarms, reservations)
    _route_vehicle_soc(bus, vehicles)
    return Services(
        stations=stations,
        accounts=accounts,
        fleet=fleet,
        charging=charging,
        alarms=alarms,
        reservations=reservations,
        ocpp_endpoint=gateway,
        ready=ready,
        vehicles=vehicles,
        privacy=privacy,
        recommendations=recommendations,
    )


def _route_events(
    bus: InProcessBus, alarms: AlarmService, reservations: ReservationService
) -> None:
    """Areas never import each other; their events reach other areas through here."""

    async def status_changed(event: Event) -> None:
        assert isinstance(event, ConnectorStatusChanged)
        await alarms.connector_status(
            event.station_id,
            event.evse_id,
            event.connector_id,
            event.status is ConnectorStatus.FAULTED,
            event.error_code,
            event.at,
        )
        if event.status in (ConnectorStatus.FAULTED, ConnectorStatus.UNAVAILABLE):
            await reservations.connector_lost(
                event.station_id, event.evse_id, event.status.value.lower()
            )

    async def session_started(event: Event) -> None:
        assert isinstance(event, SessionStarted)
        await reservations.session_started(
            event.station_id, event.evse_id, event.id_tag, event.reservation_id, event.at
        )

    async def disconnected(event: Event) -> None:
        assert isinstance(event, StationDisconnected)
        await alarms.station_offline(event.station_id, event.at)

    async def connected(event: Event) -> None:
        assert isinstance(event, StationConnected)
        await alarms.station_online(event.station_id, event.at)

    bus.subscribe(ConnectorStatusChanged, status_changed)
    bus.subscribe(StationDisconnected, disconnected)
    bus.subscribe(StationConnected, connected)
    bus.subscribe(SessionStarted, session_started)


def _route_vehicle_soc(bus: InProcessBus, vehicles: VehicleService) -> None:
    """A charger's SoC reading reaches the vehicle being charged (which one: see
    `ChargingSessionRef`)."""

    async def soc_measured(event: Event) -> None:
        assert isinstance(event, SessionSocMeasured)
        session = ChargingSessionRef(
            event.station_id,
            event.session_id,
            event.evse_id,
            event.id_tag,
            event.reservation_id,
            event.started_at,
        )
        await vehicles.charger_soc(session, event.soc_percent, event.at)

    async def session_stopped(event: Event) -> None:
        assert isinstance(event, SessionStopped)
        vehicles.session_ended(event.station_id, event.session_id)

    bus.subscribe(SessionSocMeasured, soc_measured)
    bus.subscribe(SessionStopped, session_stopped)


@asynccontextmanager
async def open_services(settings: Settings, *, upgrade: bool = False) -> AsyncIterator[Services]:
    """Services on a fresh engine, disposed of on exit; `upgrade` migrates the schema first."""
    engine = create_engine(settings.resolved_database_url(), settings.db_pool_size)
    try:
        if upgrade:
            await migrate.upgrade(engine)
        services = build_services(settings, engine)
        background = [
            asyncio.create_task(_flush_meters(services.charging)),
            asyncio.create_task(_run_reservation_jobs(services.reservations)),
            asyncio.create_task(_flush_vehicle_soc(services.vehicles)),
            asyncio.create_task(_purge_positions(services.privacy)),
        ]
        try:
            yield services
        finally:
            for task in background:
                task.cancel()
            for task in background:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await services.charging.flush()
            await services.vehicles.flush()
    finally:
        await engine.dispose()


async def _run_reservation_jobs(reservations: ReservationService, every_s: float = 1.0) -> None:
    """Hand-offs, no-shows and releases, as they fall due (any number of nodes may run this)."""
    log = structlog.get_logger("voltbook.reservations")
    while True:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(every_s):
                await reservations.wake.wait()
        reservations.wake.clear()
        try:
            while await reservations.run_due() > 0:
                pass
        except Exception as error:  # storage hiccup: jobs stay due and run next time
            log.warning("reservation jobs failed", error=type(error).__name__)


async def _flush_meters(charging: ChargingService, every_s: float = 1.0) -> None:
    """Live meter figures reach the database once a second, in one transaction."""
    log = structlog.get_logger("voltbook.charging")
    while True:
        await asyncio.sleep(every_s)
        try:
            await charging.flush()
        except Exception as error:  # storage hiccup: the figures stay queued for the next try
            log.warning("meter flush failed", error=type(error).__name__)


async def _flush_vehicle_soc(vehicles: VehicleService, every_s: float = 1.0) -> None:
    """Chargers' SoC readings reach the vehicles once a second, in one transaction."""
    log = structlog.get_logger("voltbook.vehicles")
    while True:
        await asyncio.sleep(every_s)
        try:
            await vehicles.flush()
        except Exception as error:  # storage hiccup: the readings stay queued
            log.warning("vehicle state flush failed", error=type(error).__name__)


async def _purge_positions(privacy: PrivacyService, every_s: float = 60.0) -> None:
    """Expired positions leave the database (reads never return them even before)."""
    log = structlog.get_logger("voltbook.privacy")
    while True:
        try:
            await privacy.purge()
        except Exception as error:  # storage hiccup: purged next time
            log.warning("position purge failed", error=type(error).__name__)
        await asyncio.sleep(every_s)


def bundled_stations() -> Path:
    """The bundled real-station data set (see its SOURCE.md for origin and licence)."""
    return Path(__file__).with_name("data") / "stations.csv"
