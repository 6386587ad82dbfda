"""What the charging area needs from the outside world."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from voltbook.charging.model import ChargingSession, SessionFilter
from voltbook.core.uow import UnitOfWork, UowFactory


class SessionRepository(Protocol):
    async def add(self, session: ChargingSession) -> ChargingSession:
        """Store a new session; returns it with its id."""
        ...

    async def get(self, station_id: str, reference: str) -> ChargingSession | None:
        """By the id the station knows it by (2.0.1 transaction id, or the 1.6 number)."""
        ...

    async def find_start(
        self, station_id: str, evse_id: int, started_at: datetime, id_tag: str | None
    ) -> ChargingSession | None:
        """The session a replayed start message refers to, if any."""
        ...

    async def save(self, session: ChargingSession) -> None: ...

    async def save_meters(self, sessions: list[ChargingSession]) -> None:
        """Store the live figures (energy, power, SoC, last sample) of running sessions,
        never replacing newer figures already stored."""
        ...

    async def id_tag_status(self, id_tag: str) -> str | None:
        """The status of a registered id tag, None when unknown."""
        ...

    async def by_id(self, session_id: int) -> ChargingSession | None: ...

    async def page(
        self, where: SessionFilter, before: int | None, limit: int
    ) -> list[ChargingSession]:
        """Sessions matching `where`, newest (highest id) first, with ids below `before`."""
        ...


class ChargingUnitOfWork(UnitOfWork, Protocol):
    @property
    def sessions(self) -> SessionRepository: ...


ChargingUowFactory = UowFactory[ChargingUnitOfWork]


class StartGuard(Protocol):
    async def may_start(
        self, station_id: str, evse_id: int, id_tag: str | None, at: datetime
    ) -> bool:
        """False when the EVSE is held for another id tag."""
        ...

    async def may_authorize(self, station_id: str, id_tag: str, at: datetime) -> bool:
        """False when every usable EVSE of the station is held for other id tags and none
        for this one (OCPP Authorize names no connector)."""
        ...
