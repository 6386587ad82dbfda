"""What forecasts need of storage."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from voltbook.core.uow import UnitOfWork, UowFactory
from voltbook.forecasts.model import Booking, TrainedModel
from voltbook.stations.states import StateChange


class ForecastRepository(Protocol):
    async def history(
        self, station_ids: list[str] | None, start: datetime, end: datetime
    ) -> list[StateChange]:
        """Status history rows within the range in time order, with each connector's and
        station's last row at or before `start`."""
        ...

    async def bookings(
        self, station_ids: list[str] | None, start: datetime, end: datetime
    ) -> list[Booking]:
        """Reservations starting within the range, except those cancelled or failed."""
        ...

    async def sites_of(self, station_ids: list[str]) -> dict[str, int | None]: ...

    async def station_exists(self, station_id: str) -> bool: ...

    async def evses_fitting(self, station_id: str, standards: frozenset[str]) -> set[int]:
        """The station's EVSEs with a connector of one of these standards (OCPI names)."""
        ...

    async def latest(self) -> TrainedModel | None: ...

    async def save(self, model: TrainedModel, keep: int) -> None:
        """Store the model; only the `keep` newest stay."""
        ...


class ForecastUnitOfWork(UnitOfWork, Protocol):
    @property
    def forecasts(self) -> ForecastRepository: ...


ForecastUowFactory = UowFactory[ForecastUnitOfWork]
