"""Figures for the operator console's overview and offers pages, computed from the real
tables: today's sessions, energy, utilisation, idle chargers, bookings, no-shows and offers
(day boundaries in `VOLTBOOK_CONSOLE_TIME_ZONE`, UTC unless set), and each offer's
deliveries, openings, redemptions and idle minutes filled, by hour or day."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from voltbook.core.clock import Clock
from voltbook.core.errors import InvalidInput
from voltbook.core.uow import UnitOfWork, UowFactory
from voltbook.stations.history import StatusHistoryService
from voltbook.stations.model import StationPlace
from voltbook.stations.states import ChargerState

MAX_OFFER_RANGE = timedelta(days=92)


@dataclass(frozen=True, slots=True)
class DayCounts:
    sessions: int  # begun in the range
    energy_wh: float  # of those sessions (running ones as of their last written reading)
    bookings: int  # made in the range
    no_shows: int  # bookings that expired unused in the range
    offers_sent: int
    offers_opened: int
    offers_redeemed: int
    idle_minutes_filled: float


@dataclass(frozen=True, slots=True)
class Delivery:
    """What happened to one offer sent to one driver."""

    sent_at: datetime
    opened_at: datetime | None
    redeemed_at: datetime | None
    idle_minutes_filled: float | None


class FiguresRepository(Protocol):
    async def day_counts(self, start: datetime, end: datetime) -> DayCounts: ...

    async def deliveries(self, offer_id: int, start: datetime, end: datetime) -> list[Delivery]:
        """The offer's deliveries sent, opened or redeemed in the range."""
        ...


class StationPlaces(Protocol):
    async def places(self) -> list[StationPlace]:
        """Where each station stands (the fleet's network map)."""
        ...


class FiguresUnitOfWork(UnitOfWork, Protocol):
    @property
    def figures(self) -> FiguresRepository: ...


FiguresUowFactory = UowFactory[FiguresUnitOfWork]


@dataclass(frozen=True, slots=True)
class DayFigures:
    start: datetime  # the day's start in the console's time zone
    until: datetime  # now
    time_zone: str
    counts: DayCounts
    connectors: int  # connectors the status history knows of today
    charging_share: float  # of the connectors' known time today, the share spent charging
    idle_connectors: int  # connectors that were never charging today


@dataclass(frozen=True, slots=True)
class IdleSpot:
    """A place (a site, or a station at no known site) on the map of idle chargers."""

    site_id: int | None
    name: str | None
    lat: float
    lon: float
    station_ids: tuple[str, ...]
    connectors: int
    available_seconds: float
    available_share: float


@dataclass(frozen=True, slots=True)
class OfferBucket:
    start: datetime
    sent: int = 0
    opened: int = 0
    redeemed: int = 0
    idle_minutes_filled: float = 0.0


class FiguresService:
    def __init__(
        self,
        uow: FiguresUowFactory,
        clock: Clock,
        history: StatusHistoryService,
        fleet: StationPlaces,
        time_zone: str = "UTC",
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._history = history
        self._fleet = fleet
        self._zone = ZoneInfo(time_zone)
        self._zone_name = time_zone

    @property
    def time_zone(self) -> str:
        return self._zone_name

    def day_start(self, at: datetime) -> datetime:
        local = at.astimezone(self._zone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    async def today(self) -> DayFigures:
        now = self._clock.now()
        start = self.day_start(now).astimezone(UTC)  # databases compare UTC times
        until = max(now, start + timedelta(seconds=1))
        async with self._uow(read_only=True) as uow:
            counts = await uow.figures.day_counts(start, until)
        charging: dict[tuple[str, int, int | None], float] = defaultdict(float)
        known = 0.0
        for usage in await self._history.utilisation(None, start, until, timedelta(days=1)):
            key = (usage.station_id, usage.evse_id, usage.connector_id)
            charging[key] += usage.seconds.get(ChargerState.CHARGING, 0.0)
            known += sum(usage.seconds.values())
        return DayFigures(
            start=start,
            until=now,
            time_zone=self._zone_name,
            counts=counts,
            connectors=len(charging),
            charging_share=sum(charging.values()) / known if known else 0.0,
            idle_connectors=sum(1 for s in charging.values() if s == 0.0),
        )

    async def idle_map(self, start: datetime, end: datetime) -> list[IdleSpot]:
        """Every place the status history knows of in the range that stands somewhere,
        with the share of its connectors' time spent available: where offers help."""
        places = await self._history.idle_places(start, end, limit=1_000_000)
        where = {p.station_id: p for p in await self._fleet.places()}
        spots: list[IdleSpot] = []
        for place in places:
            first = next(
                (where[s] for s in place.station_ids if s in where and where[s].lat is not None),
                None,
            )
            if first is None or first.lat is None or first.lon is None:
                continue  # a station placed nowhere has no point on a map
            spots.append(
                IdleSpot(
                    place.site_id,
                    first.name,
                    first.lat,
                    first.lon,
                    place.station_ids,
                    place.connectors,
                    place.available_seconds,
                    place.available_share,
                )
            )
        return spots

    async def offer_series(
        self, offer_id: int, start: datetime, end: datetime, size: timedelta
    ) -> list[OfferBucket]:
        """The offer's figures per bucket (an hour, or a day in the console's time zone),
        each counted when it happened: sent, opened, redeemed (with its idle minutes)."""
        if end <= start:
            raise InvalidInput("the range ends after it starts")
        if end - start > MAX_OFFER_RANGE:
            raise InvalidInput("a range covers at most 92 days")
        async with self._uow(read_only=True) as uow:
            found = await uow.figures.deliveries(
                offer_id, start.astimezone(UTC), end.astimezone(UTC)
            )
        table: dict[datetime, dict[str, float]] = defaultdict(lambda: defaultdict(float))

        def bucket(at: datetime) -> dict[str, float] | None:
            if not start <= at < end:
                return None
            return table[self._bucket_of(at, size)]

        for d in found:
            if (row := bucket(d.sent_at)) is not None:
                row["sent"] += 1
            if d.opened_at is not None and (row := bucket(d.opened_at)) is not None:
                row["opened"] += 1
            if d.redeemed_at is not None and (row := bucket(d.redeemed_at)) is not None:
                row["redeemed"] += 1
                row["idle"] += d.idle_minutes_filled or 0.0
        first, last = self._bucket_of(start, size), self._bucket_of(end - _TICK, size)
        out: list[OfferBucket] = []
        at = first
        while at <= last:  # every bucket of the range, empty ones too (a chart's x axis)
            row = table.get(at, {})
            out.append(
                OfferBucket(
                    at,
                    int(row.get("sent", 0)),
                    int(row.get("opened", 0)),
                    int(row.get("redeemed", 0)),
                    round(row.get("idle", 0.0), 1),
                )
            )
            at = self._next(at, size)
        return out

    def _bucket_of(self, at: datetime, size: timedelta) -> datetime:
        local = at.astimezone(self._zone)
        if size >= timedelta(days=1):
            return local.replace(hour=0, minute=0, second=0, microsecond=0)
        return local.replace(minute=0, second=0, microsecond=0)

    def _next(self, at: datetime, size: timedelta) -> datetime:
        # In UTC: a local day is 23 or 25 hours long when the clocks change.
        if size >= timedelta(days=1):
            return self.day_start(at.astimezone(UTC) + timedelta(hours=25))
        return self._bucket_of(at.astimezone(UTC) + timedelta(hours=1), size)


_TICK = timedelta(microseconds=1)
