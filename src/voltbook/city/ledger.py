"""What happened in a run: each need's outcome and each charger's time, as plain records."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Arm(Enum):
    """B0 nearest, no information; B1 live availability; T1 B1 + reservations; T2 B1 +
    offers; T3 B1 + reservations + offers."""

    B0 = "B0"
    B1 = "B1"
    T1 = "T1"
    T2 = "T2"
    T3 = "T3"

    @property
    def informed(self) -> bool:
        return self is not Arm.B0

    @property
    def books(self) -> bool:
        return self in (Arm.T1, Arm.T3)

    @property
    def offers(self) -> bool:
        return self in (Arm.T2, Arm.T3)


class Use(Enum):
    CHARGING = "charging"
    PLUGGED = "plugged-not-charging"
    RESERVED = "reserved-empty"
    FAULTED = "faulted"


@dataclass
class Outcome:
    need_id: int
    charged: bool
    search_wait_s: float  # from the need (or a late arrival) to plugged in, or to giving up
    charger: str | None = None
    kwh: float = 0.0
    booked: bool = False
    honoured: bool = True  # a booking that led to a session at its charger
    sites_tried: int = 0
    refused_starts: int = 0  # a charger that looked free and did not start (fault, hold)
    server_s: float = 0.0  # simulated time spent waiting for voltbook's answers (not counted)
    offered: bool = False  # voltbook sent the driver an offer for an idle charger
    accepted: bool = False  # and the driver went there (with the offer)
    moved: bool = False  # the offer's site was not the one the driver would have picked
    discount: float = 0.0  # what the offer took off the price of a session it redeemed


@dataclass
class Ledger:
    arm: Arm
    horizon_s: float
    chargers: list[str]
    outcomes: list[Outcome] = field(default_factory=list)
    started: int = 0  # drivers whose need arose (those still searching at the end: unresolved)
    spans: list[tuple[str, Use, float, float]] = field(default_factory=list)

    def span(self, charger: str, use: Use, start: float, end: float) -> None:
        start, end = max(0.0, start), min(self.horizon_s, end)
        if end > start:
            self.spans.append((charger, use, start, end))
