"""One transaction per use case, on one pooled connection."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from voltbook.core.clock import Clock
from voltbook.storage.alarms import SqlAlarmRepository
from voltbook.storage.drivers import SqlDriverRepository
from voltbook.storage.notices import SqlNoticeRepository, SqlTopicRepository
from voltbook.storage.offers import (
    SqlDeliveryRepository,
    SqlOfferChargerFacts,
    SqlOfferDriverFacts,
    SqlOfferRepository,
)
from voltbook.storage.positions import SqlPositionRepository
from voltbook.storage.push import SqlPushSubscriptionRepository
from voltbook.storage.reservations import SqlReservationRepository
from voltbook.storage.sessions import SqlSessionRepository
from voltbook.storage.sites import SqlSiteRepository
from voltbook.storage.stations import SqlStationRepository
from voltbook.storage.vehicles import SqlVehicleRepository


class SqlUnitOfWork:
    """Opens a transaction on enter, rolls back on exit unless `commit` was called.

    A read-only unit of work skips the transaction bookkeeping on PostgreSQL (autocommit
    reads, one round trip fewer each way) and takes no write lock on SQLite.
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

    def __init__(self, engine: AsyncEngine, clock: Clock, *, read_only: bool = False) -> None:
        self._engine = engine
        self._clock = clock
        self._read_only = read_only
        self._sqlite = engine.dialect.name == "sqlite"
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        connection = await self._engine.connect()
        try:
            if self._read_only:
                if self._sqlite:
                    connection = await connection.execution_options(sqlite_read_only=True)
                else:
                    connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            if not (self._read_only and not self._sqlite):
                await connection.begin()  # SQLite: waits for the write lock, may time out
        except BaseException:
            # `async with` calls __aexit__ only after __aenter__ returned: a BEGIN that fails
            # (the lock's wait timed out) or is cancelled must give the connection back here.
            await asyncio.shield(connection.close())
            raise
        self._connection = connection
        self.sites = SqlSiteRepository(connection, self._clock, sqlite=self._sqlite)
        self.drivers = SqlDriverRepository(connection)
        self.stations = SqlStationRepository(connection, self._clock)
        self.sessions = SqlSessionRepository(connection)
        self.alarms = SqlAlarmRepository(connection)
        self.reservations = SqlReservationRepository(connection, sqlite=self._sqlite)
        self.notices = SqlNoticeRepository(connection)
        self.topics = SqlTopicRepository(connection)
        self.push_subscriptions = SqlPushSubscriptionRepository(connection, sqlite=self._sqlite)
        self.offers = SqlOfferRepository(connection)
        self.offer_deliveries = SqlDeliveryRepository(connection)
        self.offer_drivers = SqlOfferDriverFacts(connection)
        self.offer_chargers = SqlOfferChargerFacts(connection)
        self.vehicles = SqlVehicleRepository(connection)
        self.positions = SqlPositionRepository(connection, sqlite=self._sqlite)
        return self

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
        try:
            if connection.in_transaction():
                await connection.rollback()
        finally:
            await connection.close()

    async def commit(self) -> None:
        if self._connection is None:
            raise RuntimeError("commit outside the unit of work")
        await self._connection.commit()
