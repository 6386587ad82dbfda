"""What the server counts for /metrics (telemetry.py, wiring/telemetry.py,
ocpp/message_counts.py): command round trips by the station's answer, hand-offs, bookings,
offers and OCPP frames."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import pytest

from voltbook.core.errors import TimedOut
from voltbook.ocpp.message_counts import MessageCounts
from voltbook.offers.events import OfferSent
from voltbook.reservations.events import (
    ReservationCreated,
    ReservationExpired,
    ReservationStartingSoon,
)
from voltbook.reservations.model import Reservation
from voltbook.stations.commands import Command, CommandAnswer, ReserveNow, Reset
from voltbook.telemetry import Telemetry, TimedLink
from voltbook.wiring.telemetry import TelemetryReactions

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
    assert telemetry.counted("voltbook_handoffs") == {("Accepted",): 1, ("timed_out",): 1}


async def test_offers_are_counted() -> None:
    telemetry = Telemetry()
    await TelemetryReactions(telemetry).offer_sent(
        OfferSent(1, 1, "D1", None, "Half price", "percent_off", 50, T0, "idle_station", T0)
    )
    assert telemetry.counted("voltbook_offers_sent")[("idle_station",)] == 1


def test_frames_are_counted_by_direction_action_and_kind_and_made_up_actions_go_unnamed() -> None:
    telemetry = Telemetry()
    counts = MessageCounts(telemetry, {"Heartbeat", "Reset"})
    counts.count("in", "Heartbeat", "call")
    counts.count("out", "Heartbeat", "result")
    counts.count("in", "Heartbeat", "call")
    counts.count("in", "", "invalid")
    for n in range(3):  # a station's own action names do not each become a label
        counts.count("in", f"Made-Up-{n}", "call")
    telemetry.count("voltbook_ocpp_messages", "out", "Reset", "call")  # counted elsewhere too
    counts.count("out", "Reset", "call")
    assert telemetry.counted("voltbook_ocpp_messages") == {
        ("in", "Heartbeat", "call"): 2,
        ("out", "Heartbeat", "result"): 1,
        ("in", "", "invalid"): 1,
        ("in", "", "call"): 3,
        ("out", "Reset", "call"): 2,
    }
    # Bound once: the same label combination is the same tally.
    assert telemetry.tally("voltbook_ocpp_messages", "in", "Heartbeat", "call").value == 2


async def test_bookings_are_counted_by_step_and_a_reminder_is_no_step() -> None:
    telemetry = Telemetry()
    reactions = TelemetryReactions(telemetry)
    booking = cast(Reservation, object())  # the counter reads only the event's kind
    await reactions.booking(ReservationCreated(booking, ""))
    await reactions.booking(ReservationExpired(booking, "no-show"))
    await reactions.booking(ReservationExpired(booking, "no-show"))
    await reactions.booking(ReservationStartingSoon(booking, ""))
    assert telemetry.counted("voltbook_bookings") == {("created",): 1, ("expired",): 2}
