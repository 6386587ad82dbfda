"""Domain events and journalled frames counted into the server's telemetry."""

from __future__ import annotations

from voltbook.core.bus import Event, EventBus
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


def route_telemetry(bus: EventBus, telemetry: Telemetry) -> None:
    async def booking(event: Event) -> None:
        step = _BOOKING_STEPS.get(type(event))  # type: ignore[arg-type]
        if step is not None:
            telemetry.count("voltbook_bookings", step)

    async def offer_sent(event: Event) -> None:
        assert isinstance(event, OfferSent)
        telemetry.count("voltbook_offers_sent", event.trigger)

    async def offer_redeemed(event: Event) -> None:
        telemetry.count("voltbook_offers_redeemed")

    bus.subscribe(ReservationEvent, booking)
    bus.subscribe(OfferSent, offer_sent)
    bus.subscribe(OfferRedeemed, offer_redeemed)
