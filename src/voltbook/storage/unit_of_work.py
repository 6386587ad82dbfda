"""One transaction per use case, on one pooled connection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from voltbook.core.clock import Clock
from voltbook.core.errors import StorageBusy
from voltbook.storage.alarms import SqlAlarmRepository
from voltbook.storage.app_charges import SqlAppChargeRepository
from voltbook.storage.audit import SqlAuditRepository
from voltbook.storage.auth_lists import SqlAuthListRepository
from voltbook.storage.busy import storage_busy
from voltbook.storage.drivers import SqlDriverRepository
from voltbook.storage.figures import SqlFiguresRepository
from voltbook.storage.forecasts import SqlForecastRepository
from voltbook.storage.idtokens import SqlIdTokenRepository
from voltbook.storage.journal import SqlJournalRepository
from voltbook.storage.meter_series import SqlMeterSeriesRepository
from voltbook.storage.notices import SqlNoticeRepository, SqlTopicRepository
from voltbook.storage.offers import (
    SqlDeliveryRepository,
    SqlOfferChargerFacts,
    SqlOfferDriverFacts,
    SqlOfferRepository,
)
from voltbook.storage.places import SqlPlaceRepository
from voltbook.storage.positions import SqlPositionRepository
from voltbook.storage.push import SqlPushSubscriptionRepository
from voltbook.storage.reservations import SqlReservationRepository
from voltbook.storage.sessions import SqlSessionRepository
from voltbook.storage.sign_ins import SqlSignInRepository
from voltbook.storage.sites import SqlSiteRepository
from voltbook.storage.stations import SqlStationRepository
from voltbook.storage.status_history import SqlStatusHistoryRepository
from voltbook.storage.vehicles import SqlVehicleRepository
from voltbook.storage.write_turns import WriteTurns


class SqlUnitOfWork:
    """Opens a transaction on enter, rolls back on exit unless `commit` was called.

    A read-only unit of work skips the transaction bookkeeping on PostgreSQL (autocommit
    reads, one round trip fewer each way; on `reader`, an engine whose connections are in
    autocommit already, when one is given) and takes no write lock on SQLite. Repositories
    are made when first used.
    """

    sites: SqlSiteRepository
    drivers: SqlDriverRepository
    stations: SqlStationRepository
    sessions: SqlSessionRepository
    alarms: SqlAlarmRepository
    reservations: SqlReservationRepository
    notices: SqlNoticeRepository
    topics: SqlTopicRepository
    push_subscriptions: SqlPushSubscriptionRepository
    offers: SqlOfferRepository
    offer_deliveries: SqlDeliveryRepository
    offer_drivers: SqlOfferDriverFacts
    offer_chargers: SqlOfferChargerFacts
    vehicles: SqlVehicleRepository
    positions: SqlPositionRepository
    app_charges: SqlAppChargeRepository
    places: SqlPlaceRepository
    id_tokens: SqlIdTokenRepository
    auth_lists: SqlAuthListRepository
    journal: SqlJournalRepository
    status_history: SqlStatusHistoryRepository
    meter_series: SqlMeterSeriesRepository
    figures: SqlFiguresRepository
    sign_ins: SqlSignInRepository
    forecasts: SqlForecastRepository
    audit: SqlAuditRepository

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        *,
        read_only: bool = False,
        reader: AsyncEngine | None = None,
        turns: WriteTurns | None = None,
    ) -> None:
        self._engine = engine
        # SQLite: writers take turns in this process before they take a connection.
        self._turns = None if read_only else turns
        self._holds_turn = False
        self._reader = reader
        self._clock = clock
        self._read_only = read_only
        self._sqlite = engine.dialect.name == "sqlite"
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        if self._read_only and not self._sqlite and self._reader is not None:
            self._connection = await self._reader.connect()
            return self
        if self._turns is not None:
            await self._turns.take()
            self._holds_turn = True
        try:
            connection = await self._engine.connect()
        except BaseException as error:
            self._give_turn_back()
            if storage_busy(error):
                raise StorageBusy() from error
            raise
        try:
            if self._read_only:
                if self._sqlite:
                    connection = await connection.execution_options(sqlite_read_only=True)
                else:
                    connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            if not (self._read_only and not self._sqlite):
                await connection.begin()  # SQLite: waits for the write lock, may time out
        except BaseException as error:
            # `async with` calls __aexit__ only after __aenter__ returned: a BEGIN that fails
            # (the lock's wait timed out) or is cancelled must give the connection back here.
            try:
                await asyncio.shield(connection.close())
            finally:
                self._give_turn_back()
            if storage_busy(error):
                raise StorageBusy() from error
            raise
        self._connection = connection
        return self

    def __getattr__(self, name: str) -> Any:
        # A repository is made on first use (a use case needs one or two of them), and kept.
        make = _REPOSITORIES.get(name)
        if make is None or self._connection is None:
            raise AttributeError(name)
        repository = make(self, self._connection)
        setattr(self, name, repository)
        return repository

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection = self._connection
        self._connection = None
        if connection is None:
            return
        for name in _REPOSITORIES:  # a next use of this object makes fresh ones
            self.__dict__.pop(name, None)
        try:
            if connection.in_transaction():
                await connection.rollback()
        finally:
            try:
                await connection.close()
            finally:
                self._give_turn_back()
        if exc is not None and storage_busy(exc):  # rolled back: nothing was changed
            raise StorageBusy() from exc

    def _give_turn_back(self) -> None:
        if self._holds_turn and self._turns is not None:
            self._holds_turn = False
            self._turns.give_back()

    async def commit(self) -> None:
        if self._connection is None:
            raise RuntimeError("commit outside the unit of work")
        await self._connection.commit()


_Make = Callable[[SqlUnitOfWork, AsyncConnection], Any]
_REPOSITORIES: dict[str, _Make] = {
    "sites": lambda u, c: SqlSiteRepository(c, u._clock, sqlite=u._sqlite, read_only=u._read_only),
    "drivers": lambda u, c: SqlDriverRepository(c),
    "stations": lambda u, c: SqlStationRepository(c, u._clock),
    "sessions": lambda u, c: SqlSessionRepository(c, u._clock),
    "alarms": lambda u, c: SqlAlarmRepository(c),
    "reservations": lambda u, c: SqlReservationRepository(c, u._clock, sqlite=u._sqlite),
    "notices": lambda u, c: SqlNoticeRepository(c),
    "topics": lambda u, c: SqlTopicRepository(c),
    "push_subscriptions": lambda u, c: SqlPushSubscriptionRepository(c, sqlite=u._sqlite),
    "offers": lambda u, c: SqlOfferRepository(c),
    "offer_deliveries": lambda u, c: SqlDeliveryRepository(c),
    "offer_drivers": lambda u, c: SqlOfferDriverFacts(c),
    "offer_chargers": lambda u, c: SqlOfferChargerFacts(c),
    "vehicles": lambda u, c: SqlVehicleRepository(c),
    "positions": lambda u, c: SqlPositionRepository(c, sqlite=u._sqlite),
    "app_charges": lambda u, c: SqlAppChargeRepository(c, u._clock),
    "places": lambda u, c: SqlPlaceRepository(c),
    "id_tokens": lambda u, c: SqlIdTokenRepository(c),
    "auth_lists": lambda u, c: SqlAuthListRepository(c),
    "journal": lambda u, c: SqlJournalRepository(c),
    "status_history": lambda u, c: SqlStatusHistoryRepository(c),
    "meter_series": lambda u, c: SqlMeterSeriesRepository(c),
    "figures": lambda u, c: SqlFiguresRepository(c),
    "sign_ins": lambda u, c: SqlSignInRepository(c),
    "forecasts": lambda u, c: SqlForecastRepository(c),
    "audit": lambda u, c: SqlAuditRepository(c),
}
