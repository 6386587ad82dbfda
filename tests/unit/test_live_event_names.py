"""The live channel's reservation event names are written out, one for every event."""

from __future__ import annotations

from voltbook.core.bus import Event
from voltbook.reservations import events
from voltbook.reservations.events import ReservationEvent
from voltbook.wiring.notices import RESERVATION_EVENT_NAMES


def test_every_reservation_event_has_its_public_name() -> None:
    kinds = {
        value
        for value in vars(events).values()
        if isinstance(value, type) and issubclass(value, ReservationEvent)
    } - {ReservationEvent}
    assert set(RESERVATION_EVENT_NAMES) == kinds
    assert issubclass(ReservationEvent, Event)


def test_the_names_are_the_ones_apps_already_know() -> None:
    assert sorted(RESERVATION_EVENT_NAMES.values()) == [
        "cancelled", "created", "expired", "failed", "fulfilled", "held", "moved",
        "starting_soon",
    ]  # fmt: skip
