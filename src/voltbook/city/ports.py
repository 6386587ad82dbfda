"""What the simulated city needs of voltbook, as a port: the real server (server.py) or an
in-memory stand-in with the same rules (memory.py, for fast tests of the city itself)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from voltbook.city.demand import Need


@dataclass(frozen=True)
class Seen:
    """A charger the server reports free and fitting, with its distance from the query."""

    site_id: str
    evse_id: int
    distance_km: float


@dataclass(frozen=True)
class Booking:
    id: str
    site_id: str
    evse_id: int
    id_tag: str


@dataclass(frozen=True)
class Offered:
    """An offer voltbook sent a driver: a discount at an idle charger's station."""

    site_id: str
    percent_off: float
    id_tag: str  # the card of the account it went to: a session started with it redeems


class CityPort(Protocol):
    async def available(self, need: Need, lat: float, lon: float, radius_km: float) -> list[Seen]:
        """Chargers the server shows Available and fitting `need`, nearest first."""
        ...

    async def reserve(self, need: Need, site_id: str, evse_id: int, minutes: int) -> Booking | None:
        """A booking held from now on that charger, or None when the server refuses."""
        ...

    async def share_position(self, need: Need, lat: float, lon: float) -> None:
        """The driver's app reports where it is (the driver consented to offers)."""
        ...

    async def offer(self, need: Need, lat: float, lon: float, listen_s: float) -> Offered | None:
        """The offer voltbook sent the driver for an idle charger since the position was
        shared, waiting at most `listen_s` simulated seconds for one; or None."""
        ...

    async def reserve_for(
        self, need: Need, offered: Offered, site_id: str, evse_id: int, minutes: int
    ) -> Booking | None:
        """`reserve` on the account that received `offered` (its card redeems the offer)."""
        ...

    async def plug(self, site_id: str, evse_id: int, id_tag: str) -> bool:
        """A driver plugs in and shows the card: True when the charger starts a session."""
        ...

    async def unplug(self, site_id: str, evse_id: int) -> None:
        """The session ends and the car leaves."""
        ...

    async def fault(self, site_id: str, evse_id: int) -> None: ...

    async def recover(self, site_id: str, evse_id: int) -> None: ...
