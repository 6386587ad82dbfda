"""The chargers' side of bookings and the alternatives, for unit tests (no network).

- `FakeChargerHold` answers ReserveNow from a script per (station, evse), "Accepted" by
  default, records every call, and keeps what the charger holds the way OCPP does: a
  ReserveNow with a reservationId the station already holds replaces that hold, and a
  CancelReservation drops the hold with that id at that station.
- `FakeAlternatives` names the same free chargers nearby for any failed booking.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from voltbook.reservations.model import Alternative, Reservation


class FakeChargerHold:
    """ChargerHold with scripted answers; `calls` records ("reserve"|"release", ...)."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, int], str] = {}
        self.reserved: list[tuple[str, int, int]] = []  # (station, evse, reservation id)
        self.released: list[tuple[str, int]] = []  # (station, reservation id)
        self.calls: list[tuple[str, ...]] = []
        # What the chargers hold now: (station, reservation id) -> evse.
        self.holds: dict[tuple[str, int], int] = {}
        # Awaited while a ReserveNow or a CancelReservation is "on the wire" (before the
        # answer comes back).
        self.during_reserve: Callable[[Reservation], Awaitable[None]] | None = None
        self.during_release: Callable[[str, int], Awaitable[None]] | None = None
        self.offline: set[str] = set()  # stations that answer nothing to a release

    async def reserve(self, reservation: Reservation) -> str:
        station, evse = reservation.station_id, reservation.evse_id
        self.reserved.append((station, evse, reservation.id))
        self.calls.append(("reserve", str(reservation.connector)))
        if self.during_reserve is not None:
            await self.during_reserve(reservation)
        answer = self.answers.get((station, evse), "Accepted")
        if answer == "Accepted":
            self.holds[(station, reservation.id)] = evse
        return answer

    async def release(self, station_id: str, reservation_id: int) -> str:
        self.released.append((station_id, reservation_id))
        self.calls.append(("release", station_id))
        if self.during_release is not None:
            await self.during_release(station_id, reservation_id)
        if station_id in self.offline:
            return "NoAnswer"
        held = self.holds.pop((station_id, reservation_id), None)
        return "Accepted" if held is not None else "Rejected"


class FakeAlternatives:
    """Alternatives that name the same free chargers nearby whatever is asked; `asked`
    records (station, plugs, limit) of every question."""

    def __init__(self, nearby: list[Alternative]) -> None:
        self.nearby = nearby
        self.asked: list[tuple[str, frozenset[str], int]] = []

    async def near(self, station_id: str, plugs: frozenset[str], limit: int) -> list[Alternative]:
        self.asked.append((station_id, plugs, limit))
        return self.nearby[:limit]


if TYPE_CHECKING:
    # mypy checks here that every fake satisfies its port.
    from voltbook.reservations.ports import Alternatives, ChargerHold

    _hold: ChargerHold = FakeChargerHold()
    _alternatives: Alternatives = FakeAlternatives([])
