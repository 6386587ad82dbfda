"""Facts the reservations area publishes (the live channel turns them into notices)."""

from __future__ import annotations

from dataclasses import dataclass

from voltbook.core.bus import Event
from voltbook.reservations.model import Reservation


@dataclass(frozen=True, slots=True)
class ReservationEvent(Event):
    reservation: Reservation
    reason: str


class ReservationCreated(ReservationEvent):
    pass


class ReservationHeld(ReservationEvent):
    pass


class ReservationMoved(ReservationEvent):
    pass


class ReservationStartingSoon(ReservationEvent):
    pass


class ReservationExpired(ReservationEvent):
    pass


class ReservationCancelled(ReservationEvent):
    pass


class ReservationFailed(ReservationEvent):
    pass


class ReservationFulfilled(ReservationEvent):
    pass
