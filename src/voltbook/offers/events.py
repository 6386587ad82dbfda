"""Facts the offers area publishes (the notices area turns OfferSent into a notice)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from voltbook.core.bus import Event


@dataclass(frozen=True, slots=True)
class OfferSent(Event):
    """An offer is due to reach a driver: the notice to show them (JSON-friendly fields).

    Published once, on the node that decided to send it; whoever turns it into a notice
    (live channel or Web Push) acknowledges the opening with `OfferService.opened`.
    """

    delivery_id: int
    offer_id: int
    driver_id: str
    station_id: str | None
    title: str
    kind: str
    value: float
    ends_at: datetime
    trigger: str
    at: datetime


@dataclass(frozen=True, slots=True)
class OfferRedeemed(Event):
    delivery_id: int
    offer_id: int
    driver_id: str
    station_id: str
    session_id: int
    idle_minutes_filled: float
    at: datetime
