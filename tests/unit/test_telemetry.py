"""What the server counts for /metrics (telemetry.py, wiring/telemetry.py): command round
trips by the station's answer, hand-offs, bookings, offers and journalled frames."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import pytest

from voltbook.core.errors import TimedOut
from voltbook.journal.model import Direction, JournalEntry, Kind
from voltbook.offers.events import OfferSent
from voltbook.reservations.events import (
    ReservationCreated,
    ReservationExpired,
    ReservationStartingSoon,
)
from voltbook.reservations.model import Reservation
from voltbook.stations.commands import Command, CommandAnswer, ReserveNow, Reset
from voltbook.telemetry import Telemetry, TimedLink
from voltbook.wiring.telemetry import TelemetryReactions, count_frames

T0 = datetime(2026, 12, 1, tzinfo=UTC)


class Station:
    def __init__(self, status: str | None = "Accepted", silent: bool = False) -> None:
        self.status = status
        self.silent = silent

    async def send(self, station_id: str, command: Command, timeout_s: float) -> CommandAnswer:
        if self.silent:
            raise TimedOut("no answer")
        action = type(command).__name__
        return CommandAnswer(action, self.status, {"status": self.status})


async def test_commands_are_timed_by_action_and_answer_and_hand_offs_counted() -> None:
    telemetry = Telemetry()
    await TimedLink(Station("Rejected"), telemetry).send("S1", Reset(), 5)
    await TimedLink(Station("Accepted"), telemetry).send("S1", ReserveNow(1, "TAG", T0), 5)
    with pytest.raises(TimedOut):
        await TimedLink(Station(silent=True), telemetry).send("S1", ReserveNow(2, "TAG", T0), 5)
    timings = telemetry.histograms["voltbook_ocpp_command_seconds"]
    assert set(timings) == {
        ("Reset", "Rejected"),
        ("ReserveNow", "Accepted"),
        ("ReserveNow", "timed_out"),
    }
    assert all(h.count == 1 for h in timings.values())
    assert dict(telemetry.counters["voltbook_handoffs"]) == {("Accepted",): 1, ("timed_out",): 1}


async def test_offers_and_frames_are_counted() -> None:
    telemetry = Telemetry()
    await TelemetryReactions(telemetry).offer_sent(
        OfferSent(1, 1, "D1", None, "Half price", "percent_off", 50, T0, "idle_station", T0)
    )
    assert telemetry.counters["voltbook_offers_sent"][("idle_station",)] == 1
    entries = [
        JournalEntry("S1", Direction.IN, T0, Kind.CALL, "1", "Heartbeat", "[]"),
        JournalEntry("S1", Direction.OUT, T0, Kind.RESULT, "1", "Heartbeat", "[]"),
        JournalEntry("S1", Direction.IN, T0, Kind.INVALID, None, None, "x"),
    ]
    count_frames(telemetry, entries)
    assert dict(telemetry.counters["voltbook_ocpp_messages"]) == {
        ("in", "Heartbeat", "call"): 1,
        ("out", "Heartbeat", "result"): 1,
        ("in", "", "invalid"): 1,
    }


async def test_bookings_are_counted_by_step_and_a_reminder_is_no_step() -> None:
    telemetry = Telemetry()
    reactions = TelemetryReactions(telemetry)
    booking = cast(Reservation, object())  # the counter reads only the event's kind
    await reactions.booking(ReservationCreated(booking, ""))
    await reactions.booking(ReservationExpired(booking, "no-show"))
    await reactions.booking(ReservationExpired(booking, "no-show"))
    await reactions.booking(ReservationStartingSoon(booking, ""))
    assert dict(telemetry.counters["voltbook_bookings"]) == {("created",): 1, ("expired",): 2}
