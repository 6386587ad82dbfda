"""What the server's telemetry hears from the areas: bookings by step, offers sent and
redeemed. (OCPP frames are counted where they pass: ocpp/message_counts.py.)"""

from __future__ import annotations

from voltbook.offers.events import OfferRedeemed, OfferSent
from voltbook.reservations.events import ReservationEvent, ReservationStartingSoon
from voltbook.telemetry import Telemetry
from voltbook.wiring.notices import RESERVATION_EVENT_NAMES

# A booking's steps are counted under the names the app hears them by; a reminder is no step.
_BOOKING_STEPS = {
    kind: name
    for kind, name in RESERVATION_EVENT_NAMES.items()
    if kind is not ReservationStartingSoon
}


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
