"""Wires adapters into services. The only module that knows every part."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from voltbook.alarms.events import AlarmCleared, AlarmRaised
from voltbook.alarms.service import AlarmService
from voltbook.app_end import (
    LiveBackend,
    PositionSink,
    RunningOffers,
    StationPlaces,
    VehicleSink,
    alarm_notice,
    reservation_notice,
)
from voltbook.charging.events import (
    SessionIdentified,
    SessionSocMeasured,
    SessionStarted,
    SessionStopped,
)
from voltbook.charging.service import ChargingService
from voltbook.cluster import Cluster, SingleNode, build_cluster
from voltbook.config import Settings
from voltbook.core.bus import Event, EventBus
from voltbook.core.clock import Clock, SystemClock
from voltbook.core.ids import TimeOrderedIds
from voltbook.core.worker import SerialWorker
from voltbook.drivers.events import ConsentsChanged, SignInsEnded
from voltbook.drivers.privacy import PrivacyService
from voltbook.drivers.service import AccountService
from voltbook.drivers.throttle import SlidingWindowThrottle
from voltbook.drivers.vehicle_model import ChargingSessionRef
from voltbook.drivers.vehicles import VehicleService
from voltbook.links import (
    AvailableChargers,
    BusOfferOutlet,
    DriverPositions,
    DriverVehicles,
    FleetChargerHold,
    NearbyAlternatives,
)
from voltbook.live.hub import LiveHub
from voltbook.live.vapid import vapid_keys
from voltbook.live.webpush import WebPushSender
from voltbook.notices.events import NoticeQueued, StationStatusBroadcast
from voltbook.notices.model import Urgency
from voltbook.notices.push import PushService
from voltbook.notices.service import NoticeAsk, NoticeService
from voltbook.ocpp.gateway import OcppGateway
from voltbook.offers.events import OfferSent
from voltbook.offers.service import EngineRules, OfferService
from voltbook.recommendations.service import RecommendationService
from voltbook.reservations.events import ReservationEvent
from voltbook.reservations.model import Rules
from voltbook.reservations.service import ReservationService
from voltbook.security.passwords import Argon2idHasher
from voltbook.security.station_keys import StationPasswordHasher
from voltbook.security.tokens import JwtTokens
from voltbook.services import Services
from voltbook.stations.events import (
    ChargerHoldEnded,
    ConnectorStatusChanged,
    HoldEnd,
    StationConnected,
    StationDisconnected,
)
from voltbook.stations.fleet import FleetService
from voltbook.stations.model import ConnectorStatus
from voltbook.stations.service import StationService
from voltbook.storage import migrate
from voltbook.storage.database import create_engine, create_reader
from voltbook.storage.unit_of_work import SqlUnitOfWork


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


def build_services(
    settings: Settings,
    engine: AsyncEngine,
    clock: Clock | None = None,
    cluster: Cluster | None = None,
    reader: AsyncEngine | None = None,
) -> Services:
    clock = clock or SystemClock()
    cluster = cluster or SingleNode()
    bus = cluster.bus
    ids = TimeOrderedIds()

    def uow(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock, read_only=read_only, reader=reader)

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
    # Station passwords are 16-40 character secrets: a fast keyed hash (docs/adr/0015).
    station_hasher = StationPasswordHasher(station_key(settings))
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
    )
    charging = ChargingService(
        uow, clock, bus, accept_unknown_id_tags=settings.ocpp_accept_unknown_id_tags
    )
    gateway = OcppGateway(charging, clock)
    fleet = FleetService(
        uow,
        station_hasher,
        cluster.station_link(gateway),
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
    vapid = vapid_keys(settings.data_dir, settings.vapid_private_key.get_secret_value())
    push = PushService(
        uow,
        WebPushSender(vapid, settings.push_contact, clock),
        clock,
        vapid.application_server_key,
        max_per_driver=settings.push_max_subscriptions,
        allow_insecure_endpoints=settings.push_allow_insecure,
    )
    vehicles = VehicleService(uow, clock, ids)
    privacy = PrivacyService(uow, clock, settings.position_ttl_s, bus)
    # What the app reports over the live channel goes to these, in order; the first refuses
    # a position the driver has not consented to share, and then nothing else sees it.
    position_sinks: list[PositionSink] = [privacy.record_position]
    vehicle_sinks: list[VehicleSink] = [vehicles.report]
    presence = cluster.presence
    notice_log = structlog.get_logger("voltbook.notices")
    notices = NoticeService(
        uow,
        clock,
        bus,
        presence,
        push,
        retention=timedelta(hours=settings.notice_retention_h),
        push_ttl_s=settings.push_ttl_s,
    )
    notices.worker = SerialWorker(
        lambda error: notice_log.warning("notice failed", error=type(error).__name__)
    )
    backend = LiveBackend(accounts, notices, presence, clock, position_sinks, vehicle_sinks)
    live = LiveHub(backend, settings.live_query_timeout_s)
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
    _route_events(bus, alarms, reservations)
    _route_offer_events(bus, offers)
    _route_notices(bus, notices, live, places)
    _route_vehicle_soc(bus, vehicles)
    _route_account_ends(bus, accounts, reservations, live)
    _feed_offers(offers, position_sinks, vehicle_sinks)
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
    )


def _route_events(bus: EventBus, alarms: AlarmService, reservations: ReservationService) -> None:
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
        # A session identified after it began (2.0.1, cable first) counts as started with
        # its tag: it fulfils the holder's booking.
        assert isinstance(event, SessionStarted | SessionIdentified)
        await reservations.session_started(
            event.station_id, event.evse_id, event.id_tag, event.reservation_id, event.at
        )

    async def hold_ended(event: Event) -> None:
        assert isinstance(event, ChargerHoldEnded)
        if event.why is HoldEnd.EXPIRED:
            await reservations.hold_expired(event.station_id, event.reservation_id)
        else:
            await reservations.hold_removed(event.station_id, event.reservation_id)

    async def disconnected(event: Event) -> None:
        assert isinstance(event, StationDisconnected)
        await alarms.station_offline(event.station_id, event.at)

    async def connected(event: Event) -> None:
        assert isinstance(event, StationConnected)
        await alarms.station_online(event.station_id, event.at)
        await reservations.station_back(event.station_id)

    bus.subscribe(ConnectorStatusChanged, status_changed)
    bus.subscribe(StationDisconnected, disconnected)
    bus.subscribe(StationConnected, connected)
    bus.subscribe(SessionStarted, session_started)
    bus.subscribe(SessionIdentified, session_started)
    bus.subscribe(ChargerHoldEnded, hold_ended)


def _route_notices(
    bus: EventBus, notices: NoticeService, live: LiveHub, places: StationPlaces
) -> None:
    """What drivers and operators are told, and the live channels that tell them."""

    # Live channels hear a status change at once; notices (outbox writes, Web Push) are made
    # by the notices worker, in event order, so no station or booking waits for them.
    later = notices.worker.submit

    async def status_changed(event: Event) -> None:
        assert isinstance(event, ConnectorStatusChanged)
        broadcast = await notices.broadcast_status(
            event.station_id,
            event.evse_id,
            event.connector_id,
            event.status.value,
            event.at,
            await places.position(event.station_id),
        )
        later(lambda: notices.tell_followers(broadcast))

    async def reservation_changed(event: Event) -> None:
        assert isinstance(event, ReservationEvent)
        kind, payload, urgency = reservation_notice(event)
        # Notices of bookings made together are made together: one transaction.
        notices.worker.submit_item(
            notices.notify_each, NoticeAsk(event.reservation.driver_id, kind, payload, urgency)
        )

    async def alarm(event: Event) -> None:
        assert isinstance(event, AlarmRaised | AlarmCleared)
        later(lambda: notices.to_staff(*alarm_notice(event.alarm)))

    bus.subscribe(ConnectorStatusChanged, status_changed)
    bus.subscribe(ReservationEvent, reservation_changed)
    bus.subscribe(AlarmRaised, alarm)
    bus.subscribe(AlarmCleared, alarm)
    bus.subscribe(NoticeQueued, live.on_notice)
    bus.subscribe(StationStatusBroadcast, live.on_station_status)

    async def offer_sent(event: Event) -> None:
        assert isinstance(event, OfferSent)
        payload = {
            "delivery_id": event.delivery_id,
            "offer_id": event.offer_id,
            "title": event.title,
            "kind": event.kind,
            "value": event.value,
            "station_id": event.station_id,
            "trigger": event.trigger,
            "ends_at": event.ends_at.isoformat(),
        }
        later(lambda: notices.notify(event.driver_id, "offer", payload, Urgency.NORMAL))

    bus.subscribe(OfferSent, offer_sent)


def _route_account_ends(
    bus: EventBus, accounts: AccountService, reservations: ReservationService, live: LiveHub
) -> None:
    """An account deleted: its live bookings are cancelled first (their charger holds go).
    Sign-ins ended: the live channels opened with them close, on every node."""

    async def cancel_live_bookings(driver_id: str) -> None:
        after: int | None = None
        while page := await reservations.page(driver_id, after=after, limit=100):
            for booking in page:
                if booking.status.live:
                    await reservations.cancel(booking.id, driver_id)
            after = page[-1].id

    async def sign_ins_ended(event: Event) -> None:
        assert isinstance(event, SignInsEnded)
        await live.end_sign_ins(event.driver_id, event.sign_in_ids)

    accounts.closing_steps.append(cancel_live_bookings)
    bus.subscribe(SignInsEnded, sign_ins_ended)


def _feed_offers(
    offers: OfferService, positions: list[PositionSink], vehicles: list[VehicleSink]
) -> None:
    """Positions and vehicle states from the app drive the offer triggers (after they are
    accepted: a position without the driver's consent goes nowhere)."""

    async def position(
        driver_id: str, lat: float, lon: float, _accuracy: float | None, at: datetime
    ) -> None:
        await offers.position_reported(driver_id, lat, lon, at)

    async def vehicle(
        driver_id: str, vehicle_id: str, soc: float | None, _range: float | None, at: datetime
    ) -> None:
        if soc is not None:
            await offers.vehicle_reported(driver_id, vehicle_id, soc, at)

    positions.append(position)
    vehicles.append(vehicle)


def _route_offer_events(bus: EventBus, offers: OfferService) -> None:
    """Connector status feeds the idle tracking; a session that starts (or, begun cable
    first, is identified later) may redeem an offer."""

    async def status_changed(event: Event) -> None:
        assert isinstance(event, ConnectorStatusChanged)
        offers.connector_status(event.station_id, event.evse_id, event.status.value, event.at)

    async def session_started(event: Event) -> None:
        assert isinstance(event, SessionStarted | SessionIdentified)
        await offers.session_started_by_tag(
            event.station_id, event.evse_id, event.id_tag, event.session_id, event.at
        )

    bus.subscribe(ConnectorStatusChanged, status_changed)
    bus.subscribe(SessionStarted, session_started)
    bus.subscribe(SessionIdentified, session_started)

    async def consents_changed(event: Event) -> None:
        assert isinstance(event, ConsentsChanged)
        offers.consent_changed(event.driver_id, event.consent_offers)

    bus.subscribe(ConsentsChanged, consents_changed)


def _route_vehicle_soc(bus: EventBus, vehicles: VehicleService) -> None:
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
    reader = create_reader(settings.resolved_database_url(), settings.db_pool_size)
    try:
        if upgrade:
            await migrate.upgrade(engine)
        cluster = build_cluster(settings, SystemClock())
        services = build_services(settings, engine, cluster=cluster, reader=reader)
        await cluster.start()
        background = [
            # Live meter figures and chargers' SoC readings reach the database once a
            # second, in one transaction each; what fails stays queued for the next round.
            asyncio.create_task(every(1, services.charging.flush, "meter flush", "charging")),
            asyncio.create_task(every(1, services.vehicles.flush, "SoC flush", "vehicles")),
            asyncio.create_task(_run_reservation_jobs(services.reservations)),
            # Notices past the replay window, positions past their time to live, go.
            asyncio.create_task(every(600, services.notices.purge, "notice purge", "notices")),
            asyncio.create_task(every(60, services.privacy.purge, "position purge", "privacy")),
            asyncio.create_task(services.notices.worker.run()),
            asyncio.create_task(_run_offer_engine(services.offers)),
            # Live channels of ended sign-ins close within 5 s even without the event.
            asyncio.create_task(every(2, services.live.close_ended, "live sweep", "live")),
        ]
        try:
            yield services
        finally:
            with contextlib.suppress(TimeoutError):  # bookings and notices in flight first
                async with asyncio.timeout(5):
                    await services.reservations.close()
                    await services.notices.worker.drained()
            for task in background:
                task.cancel()
            for task in background:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await services.charging.flush()
            await cluster.close()
            await services.vehicles.flush()
    finally:
        await engine.dispose()
        if reader is not None:
            await reader.dispose()


async def _run_reservation_jobs(
    reservations: JobRunner, every_s: float = 1.0, drains: int = 4
) -> None:
    """Hand-offs, no-shows and releases, as they fall due (any number of nodes may run this).

    Each wake-up (or every `every_s`) starts a drain unless `drains` run already: a batch
    waiting out a silent charger's timeout does not keep a booking made meanwhile waiting."""
    log = structlog.get_logger("voltbook.reservations")

    async def drain() -> None:
        try:
            while await reservations.run_due() > 0:
                pass
        except Exception as error:  # storage hiccup: jobs stay due and run next time
            log.warning("reservation jobs failed", error=type(error).__name__)

    running: set[asyncio.Task[None]] = set()
    try:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(every_s):
                    await reservations.wake.wait()
            reservations.wake.clear()
            if len(running) < drains:
                task = asyncio.create_task(drain())
                running.add(task)
                task.add_done_callback(running.discard)
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


class JobRunner(Protocol):
    """What the job loop needs of the reservations service."""

    wake: asyncio.Event

    async def run_due(self) -> int: ...


async def _run_offer_engine(
    offers: OfferService, every_s: float = 15.0, refresh_every: int = 4
) -> None:
    """Live offers into memory at start and about once a minute after (changes made on other
    nodes); idle-station checks every `every_s` seconds."""
    log = structlog.get_logger("voltbook.offers")
    tick = 0
    while True:
        try:
            if tick % refresh_every == 0:
                await offers.refresh()
            await offers.idle_check()
        except Exception as error:  # storage hiccup: the next tick tries again
            log.warning("offer engine tick failed", error=type(error).__name__)
        tick += 1
        await asyncio.sleep(every_s)


async def every(
    seconds: float, work: Callable[[], Awaitable[object]], what: str, logger: str
) -> None:
    """Run `work` now and then every `seconds` until cancelled; a round that fails is logged
    (its error's type only) and the next round tries again."""
    log = structlog.get_logger(f"voltbook.{logger}")
    while True:
        try:
            await work()
        except Exception as error:  # storage hiccup: the next round does it
            log.warning(f"{what} failed", error=type(error).__name__)
        await asyncio.sleep(seconds)


def bundled_stations() -> Path:
    """The bundled real-station data set (see its SOURCE.md for origin and licence)."""
    return Path(__file__).with_name("data") / "stations.csv"
