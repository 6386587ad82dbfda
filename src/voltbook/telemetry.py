"""What the running server counts for its operators: plain counters, gauges and timings
that services' events and adapters feed, and the metrics endpoint reads (`api/metrics.py`
turns them into Prometheus metrics). Nothing here knows Prometheus; nothing here holds a
coordinate, a token or a password, only names of actions and outcomes."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from voltbook.notices.model import PushOutcome, PushSubscription, Urgency
from voltbook.notices.ports import PushSender
from voltbook.stations.commands import Command, CommandAnswer
from voltbook.stations.ports import StationLink

# Seconds: a command's round trip, from a LAN charger's few milliseconds to the timeout.
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass(frozen=True, slots=True)
class Spec:
    kind: str  # counter, gauge, histogram
    help: str
    labels: tuple[str, ...] = ()


SPECS: dict[str, Spec] = {
    "voltbook_stations_connected": Spec("gauge", "Stations connected to this node"),
    "voltbook_live_connections": Spec("gauge", "Apps connected to this node's live channel"),
    "voltbook_ocpp_messages": Spec(
        "counter",
        "OCPP frames through the gateway, by direction (in: from stations), action (an "
        "answer's: the call's) and kind (call, result, error, invalid: not an OCPP-J frame)",
        ("direction", "action", "kind"),
    ),
    "voltbook_ocpp_command_seconds": Spec(
        "histogram",
        "Round trip of a command to a station, by action and outcome (the station's status "
        "word, or unavailable, timed_out, failed)",
        ("action", "outcome"),
    ),
    "voltbook_bookings": Spec(
        "counter",
        "Bookings reaching a step: created, held, moved, fulfilled, expired (no-show), "
        "cancelled, failed",
        ("outcome",),
    ),
    "voltbook_handoffs": Spec(
        "counter", "ReserveNow hand-offs to chargers, by the charger's answer", ("outcome",)
    ),
    "voltbook_offers_sent": Spec("counter", "Offer deliveries sent", ("trigger",)),
    "voltbook_offers_redeemed": Spec("counter", "Offer deliveries redeemed by a session"),
    "voltbook_pushes": Spec(
        "counter", "Web Push messages, by outcome (delivered, gone, failed)", ("outcome",)
    ),
}


@dataclass
class Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total: float = 0.0
    count: int = 0

    def observe(self, value: float) -> None:
        for i, bound in enumerate(BUCKETS):
            if value <= bound:
                self.counts[i] += 1
        self.total += value
        self.count += 1


class Tally:
    """One label combination of a counter. Where something is counted often it is bound
    once (`Telemetry.tally`): counting is then `tally.value += 1`, no lookup of the counter
    or its labels."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0


class Telemetry:
    def __init__(self) -> None:
        self.counters: defaultdict[str, defaultdict[tuple[str, ...], Tally]] = defaultdict(
            lambda: defaultdict(Tally)
        )
        self.histograms: defaultdict[str, defaultdict[tuple[str, ...], Histogram]] = defaultdict(
            lambda: defaultdict(Histogram)
        )
        self.gauges: dict[str, Callable[[], float]] = {}

    def count(self, name: str, *labels: str, by: float = 1.0) -> None:
        self.counters[name][labels].value += by

    def tally(self, name: str, *labels: str) -> Tally:
        """The counter `name` at `labels`, to count by hand (the same one for the same labels,
        and the one `count` adds to)."""
        return self.counters[name][labels]

    def counted(self, name: str) -> dict[tuple[str, ...], float]:
        """A counter's values by labels."""
        return {labels: tally.value for labels, tally in list(self.counters[name].items())}

    def observe(self, name: str, value: float, *labels: str) -> None:
        self.histograms[name][labels].observe(value)

    def gauge(self, name: str, read: Callable[[], float]) -> None:
        self.gauges[name] = read


class TimedLink:
    """A StationLink that times every command and counts ReserveNow hand-offs."""

    def __init__(self, link: StationLink, telemetry: Telemetry) -> None:
        self._link = link
        self._telemetry = telemetry

    async def send(self, station_id: str, command: Command, timeout_s: float) -> CommandAnswer:
        started = time.perf_counter()
        action = type(command).__name__
        outcome = "failed"
        try:
            answer = await self._link.send(station_id, command, timeout_s)
        except Exception as error:
            outcome = str(getattr(error, "code", "failed")).replace("-", "_")
            raise
        else:
            action, outcome = answer.action, answer.status or "answered"
            return answer
        finally:
            seconds = time.perf_counter() - started
            self._telemetry.observe("voltbook_ocpp_command_seconds", seconds, action, outcome)
            if action == "ReserveNow":
                self._telemetry.count("voltbook_handoffs", outcome)


class CountingSender:
    """A PushSender that counts each message's outcome."""

    def __init__(self, sender: PushSender, telemetry: Telemetry) -> None:
        self._sender = sender
        self._telemetry = telemetry

    async def send(
        self, subscription: PushSubscription, payload: bytes, ttl_s: int, urgency: Urgency
    ) -> PushOutcome:
        outcome = await self._sender.send(subscription, payload, ttl_s, urgency)
        self._telemetry.count("voltbook_pushes", outcome.value)
        return outcome
