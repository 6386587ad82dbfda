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


@dataclass(frozen=True, slots=True, order=True)
class ConnectorRef:
    """One connector of one EVSE of one station (OCPP 2.0.1's levels; on 1.6 a connector is
    an EVSE with its connector 1)."""

    station_id: str
    evse_id: int
    connector_id: int = 1

    @property
    def evse(self) -> EvseRef:
        return EvseRef(self.station_id, self.evse_id)
