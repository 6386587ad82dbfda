"""Which connector: a typed reference instead of a "station/evse" string."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class EvseRef:
    """One EVSE (a connector, as bookings see it) of one station."""

    station_id: str
    evse_id: int

    def __str__(self) -> str:
        return f"{self.station_id}/{self.evse_id}"

    @classmethod
    def parse(cls, text: str) -> EvseRef:
        """The reference `str()` wrote ("station/evse")."""
        station_id, _, evse = text.rpartition("/")
        return cls(station_id, int(evse))
