"""Builds the operator console's back end: id tokens and authorization lists, the message
journal, the status history, and what they count. Called once by bootstrap; what these hear
from other areas are rows of the event table (wiring/events.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import structlog

from voltbook.charging.series import MeterSeriesService, MeterSeriesUnitOfWork
from voltbook.config import Settings
from voltbook.console_figures import FiguresService, FiguresUnitOfWork
from voltbook.core.bus import EventBus
from voltbook.core.clock import Clock
from voltbook.core.uow import UowFactory
from voltbook.core.worker import SerialWorker
from voltbook.idtokens.lists import AuthListService
from voltbook.idtokens.ports import AuthListUnitOfWork, IdTokenUnitOfWork
from voltbook.idtokens.service import IdTokenService
from voltbook.journal.ports import JournalUnitOfWork
from voltbook.journal.service import JournalService
from voltbook.live.hub import LiveHub
from voltbook.ocpp.link import LocalStationLink
from voltbook.ocpp.local_lists import local_list_frame_bytes
from voltbook.stations.fleet import FleetService
from voltbook.stations.history import StatusHistoryService
from voltbook.stations.ports import HistoryUnitOfWork
from voltbook.telemetry import Telemetry
from voltbook.wiring.history import HistoryReactions
from voltbook.wiring.idtokens import FleetLocalLists, IdTokenReactions
from voltbook.wiring.telemetry import TelemetryReactions


class ConsoleUnitOfWork(
    FiguresUnitOfWork,
    IdTokenUnitOfWork,
    AuthListUnitOfWork,
    JournalUnitOfWork,
    HistoryUnitOfWork,
    MeterSeriesUnitOfWork,
    Protocol,
):
    """A unit of work that serves every store the console's areas use."""


ConsoleUowFactory = UowFactory[ConsoleUnitOfWork]


@dataclass(frozen=True, slots=True)
class ConsoleParts:
    id_tokens: IdTokenService
    auth_lists: AuthListService
    journal: JournalService
    status_history: StatusHistoryService
    figures: FiguresService
    id_token_reactions: IdTokenReactions
    history_reactions: HistoryReactions
    telemetry_reactions: TelemetryReactions


def build_console(
    settings: Settings,
    uow: ConsoleUowFactory,
    clock: Clock,
    bus: EventBus,
    fleet: FleetService,
    link: LocalStationLink,
    live: LiveHub,
    telemetry: Telemetry,
    journal: JournalService,
) -> ConsoleParts:
    id_tokens = IdTokenService(uow, clock, bus)
    local_lists = FleetLocalLists(fleet, settings.ocpp_command_timeout_s, local_list_frame_bytes)
    list_log = structlog.get_logger("voltbook.idtokens")
    auth_lists = AuthListService(
        uow,
        local_lists,
        clock,
        SerialWorker(lambda e: list_log.warning("list work failed", error=type(e).__name__)),
    )
    status_history = StatusHistoryService(
        uow, clock, timedelta(days=settings.status_history_retention_days)
    )
    telemetry.gauge("voltbook_stations_connected", lambda: link.connected)
    telemetry.gauge("voltbook_live_connections", lambda: live.connections)
    figures = FiguresService(uow, clock, status_history, fleet, settings.console_time_zone)
    return ConsoleParts(
        id_tokens,
        auth_lists,
        journal,
        status_history,
        figures,
        IdTokenReactions(auth_lists, auth_lists.worker),
        HistoryReactions(status_history, journal),
        TelemetryReactions(telemetry),
    )


def build_journal(settings: Settings, uow: ConsoleUowFactory, clock: Clock) -> JournalService:
    """The message journal; the gateway notes every frame in it (built before the gateway)."""
    return JournalService(
        uow,
        clock,
        keep=settings.journal_keep_per_station,
        retention=timedelta(hours=settings.journal_retention_h),
    )


def build_meter_series(
    settings: Settings, uow: ConsoleUowFactory, clock: Clock
) -> MeterSeriesService:
    """Sessions' meter values; the charging service notes them (built before it)."""
    return MeterSeriesService(uow, clock, timedelta(days=settings.meter_values_retention_days))
