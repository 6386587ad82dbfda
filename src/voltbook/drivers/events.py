"""Facts the drivers area publishes."""

from __future__ import annotations

from dataclasses import dataclass

from voltbook.core.bus import Event
from voltbook.drivers.model import Role


@dataclass(frozen=True, slots=True)
class DriverRegistered(Event):
    driver_id: str
    role: Role
