"""What the server's telemetry hears from the areas: bookings by step, offers sent and
redeemed, and the OCPP frames the journal writes (counted as it writes them)."""

from __future__ import annotations

from voltbook.journal.model import JournalEntry
from voltbook.offers.events import OfferRedeemed, OfferSent
from voltbook.reservations.events import (
    ReservationCancelled,
    ReservationCreated,
    ReservationEvent,
    ReservationExpired,
    ReservationFailed,
    ReservationFulfilled,
    ReservationHeld,
    ReservationMoved,
)
from voltbook.telemetry import Telemetry

_BOOKING_STEPS: dict[type[ReservationEvent], str] = {
    ReservationCreated: "created",
    ReservationHeld: "held",
    ReservationMoved: "moved",
    ReservationFulfilled: "fulfilled",
    ReservationExpired: "expired",
    ReservationCancelled: "cancelled",
    ReservationFailed: "failed",
}


def count_frames(telemetry: Telemetry, entries: list[JournalEntry]) -> None:
    """OCPP messages by direction, action and kind (counted as the journal writes them)."""
    for entry in entries:
        telemetry.count(
            "voltbook_ocpp_messages",
            entry.direction.value,
            entry.action or "",
            entry.kind.value,
        )


class TelemetryReactions:
    def __init__(self, telemetry: Telemetry) -> None:
        self._telemetry = telemetry

    async def booking(self, event: ReservationEvent) -> None:
        step = _BOOKING_STEPS.get(type(event))
        if step is not None:
            self._telemetry.count("voltbook_bookings", step)

    async def offer_sent(self, event: OfferSent) -> None:
        self._telemetry.count("voltbook_offers_sent", event.trigger)

    async def offer_redeemed(self, event: OfferRedeemed) -> None:
        self._telemetry.count("voltbook_offers_redeemed")
