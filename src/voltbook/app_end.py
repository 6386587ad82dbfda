"""Glue between the live channel and the domain areas, wired by bootstrap.

The live channel (an adapter) sees one small backend; here it is spelled out in terms of the
accounts, notices and (position, vehicle, offers) use cases, which never import each other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from voltbook.alarms.model import Alarm
from voltbook.core.clock import Clock
from voltbook.core.errors import DomainError
from voltbook.drivers.service import AccountService
from voltbook.notices.model import Notice, Topic, Urgency
from voltbook.notices.ports import Presence
from voltbook.notices.service import NoticeService
from voltbook.offers.service import OfferService
from voltbook.recommendations.model import OfferSummary
from voltbook.reservations.events import (
    ReservationCancelled,
    ReservationEvent,
    ReservationExpired,
    ReservationFailed,
    ReservationMoved,
    ReservationStartingSoon,
)
from voltbook.stations.fleet import FleetService
from voltbook.stations.service import StationService

PositionSink = Callable[[str, float, float, float | None, datetime], Awaitable[object]]
VehicleSink = Callable[[str, str, float | None, float | None, datetime], Awaitable[object]]

_URGENT = (
    ReservationMoved,
    ReservationFailed,
    ReservationExpired,
    ReservationStartingSoon,
    ReservationCancelled,
)


class StationPlaces:
    """Where a station is (its site's position), remembered: sites do not move."""

    def __init__(self, fleet: FleetService, stations: StationService) -> None:
        self._fleet = fleet
        self._stations = stations
        self._known: dict[str, tuple[float, float] | None] = {}

    async def position(self, station_id: str) -> tuple[float, float] | None:
        if station_id not in self._known:
            try:
                station = await self._fleet.get(station_id)
                if station.site_id is None:
                    return None  # not placed yet; ask again next time
                site = await self._stations.get_site(station.site_id)
            except DomainError:
                return None
            self._known[station_id] = (site.details.lat, site.details.lon)
        return self._known[station_id]


class LiveBackend:
    """What the live channel calls, in terms of the services."""

    def __init__(
        self,
        accounts: AccountService,
        notices: NoticeService,
        presence: Presence,
        clock: Clock,
        positions: list[PositionSink],
        vehicles: list[VehicleSink],
    ) -> None:
        self._accounts = accounts
        self._notices = notices
        self._presence = presence
        self._clock = clock
        self._positions = positions
        self._vehicles = vehicles

    async def principal(self, token: str) -> tuple[str, bool, str]:
        principal = await self._accounts.authenticate(token)
        return principal.driver_id, principal.role.is_staff, principal.sign_in_id

    async def still_signed_in(self, sign_in_ids: list[str]) -> dict[str, bool]:
        roles = await self._accounts.still_signed_in(sign_in_ids)
        return {sign_in_id: role.is_staff for sign_in_id, role in roles.items()}

    async def latest_seq(self, driver_id: str) -> int:
        return await self._notices.latest_seq(driver_id)

    async def missed(self, driver_id: str, since: int) -> list[Notice]:
        return await self._notices.missed(driver_id, since)

    async def ack(self, driver_id: str, seq: int) -> bool:
        return await self._notices.ack(driver_id, seq)

    async def follow(self, driver_id: str, topic: str) -> Topic:
        return await self._notices.follow(driver_id, topic)

    async def unfollow(self, driver_id: str, topic: str) -> Topic:
        return await self._notices.unfollow(driver_id, topic)

    async def followed(self, driver_id: str) -> list[Topic]:
        return await self._notices.followed(driver_id)

    async def location(
        self, driver_id: str, lat: float, lon: float, accuracy_m: float | None, at: datetime
    ) -> None:
        for sink in self._positions:
            await sink(driver_id, lat, lon, accuracy_m, at)

    async def vehicle(
        self,
        driver_id: str,
        vehicle_id: str,
        soc_percent: float | None,
        range_km: float | None,
        at: datetime,
    ) -> None:
        for sink in self._vehicles:
            await sink(driver_id, vehicle_id, soc_percent, range_km, at)

    async def joined(self, driver_id: str) -> None:
        await self._presence.joined(driver_id)

    async def left(self, driver_id: str) -> None:
        await self._presence.left(driver_id)

    def now(self) -> datetime:
        return self._clock.now()


def reservation_notice(event: ReservationEvent) -> tuple[str, dict[str, Any], Urgency]:
    """The notice the owner of a reservation gets for one of its events."""
    r = event.reservation
    name = type(event).__name__.removeprefix("Reservation").lower()
    name = "starting_soon" if name == "startingsoon" else name
    payload: dict[str, Any] = {
        "event": name,
        "reason": event.reason,
        "reservation": {
            "id": r.id,
            "status": r.status.value,
            "station_id": r.station_id,
            "evse_id": r.evse_id,
            "any_evse": r.any_evse,
            "starts_at": r.starts_at.isoformat(),
            "ends_at": r.ends_at.isoformat(),
        },
    }
    if r.alternatives:  # a failed booking: where else to charge
        payload["alternatives"] = [
            {"station_id": a.station_id, "name": a.name, "distance_m": round(a.distance_m)}
            for a in r.alternatives
        ]
    urgency = Urgency.HIGH if isinstance(event, _URGENT) else Urgency.NORMAL
    return "reservation.updated", payload, urgency


def alarm_notice(alarm: Alarm) -> tuple[str, dict[str, Any], Urgency]:
    payload = {
        "alarm": {
            "id": alarm.id,
            "station_id": alarm.station_id,
            "evse_id": alarm.evse_id,
            "connector_id": alarm.connector_id,
            "kind": alarm.kind.value,
            "code": alarm.code,
            "severity": alarm.severity.value,
            "raised_at": alarm.raised_at.isoformat(),
            "cleared_at": None if alarm.cleared_at is None else alarm.cleared_at.isoformat(),
        }
    }
    urgency = (
        Urgency.HIGH if alarm.active and alarm.severity.value == "critical" else Urgency.NORMAL
    )
    return "alarm", payload, urgency


class RunningOffers:
    """Which offers run now at a station, for ranking recommendations."""

    def __init__(self, offers: OfferService, places: StationPlaces, clock: Clock) -> None:
        self._offers = offers
        self._places = places
        self._clock = clock

    async def at_stations(self, station_ids: Sequence[str]) -> dict[str, list[OfferSummary]]:
        places = {sid: await self._places.position(sid) for sid in dict.fromkeys(station_ids)}
        running = self._offers.running_at(places, self._clock.now())
        return {
            station_id: [
                OfferSummary(o.id, o.title, o.kind.value, o.value, o.ends_at)
                for o in offers
                if o.id is not None
            ]
            for station_id, offers in running.items()
        }
