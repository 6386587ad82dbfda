"""What the offers area hears from other areas (connector status feeds the idle tracking; a
session that starts, or begun cable first is identified later, may redeem an offer; positions
and vehicle states from the app drive the triggers), and its outlet to the notices area."""

from __future__ import annotations

from datetime import datetime

from voltbook.charging.events import SessionIdentified, SessionStarted
from voltbook.core.bus import EventBus
from voltbook.core.clock import Clock
from voltbook.drivers.events import ConsentsChanged
from voltbook.offers.model import Offer
from voltbook.offers.rules import outgoing
from voltbook.offers.service import OfferService
from voltbook.stations.events import ConnectorStatusChanged


class OfferReactions:
    def __init__(self, offers: OfferService) -> None:
        self._offers = offers

    async def connector_status(self, event: ConnectorStatusChanged) -> None:
        self._offers.connector_status(event.station_id, event.evse_id, event.status.value, event.at)

    async def session_started(self, event: SessionStarted | SessionIdentified) -> None:
        await self._offers.session_started_by_tag(
            event.station_id, event.evse_id, event.id_tag, event.session_id, event.at
        )

    async def consents_changed(self, event: ConsentsChanged) -> None:
        """A driver's offer consent as just stored (on any node): it counts from now."""
        self._offers.consent_changed(event.driver_id, event.consent_offers)

    async def position(
        self, driver_id: str, lat: float, lon: float, _accuracy: float | None, at: datetime
    ) -> None:
        """A position the driver shared (one without consent never gets here)."""
        await self._offers.position_reported(driver_id, lat, lon, at)

    async def vehicle(
        self,
        driver_id: str,
        vehicle_id: str,
        soc: float | None,
        _range: float | None,
        at: datetime,
    ) -> None:
        if soc is not None:
            await self._offers.vehicle_reported(driver_id, vehicle_id, soc, at)


class BusOfferOutlet:
    """Hands an offer to the notices side as an `OfferSent` event on the bus.

    Whoever subscribes to OfferSent (the notices area) turns it into a live notice, or a
    Web Push message when the app is closed. The channel recorded is "notice": handed to the
    notice outbox, which picks live or push.
    """

    CHANNEL = "notice"

    def __init__(self, bus: EventBus, clock: Clock) -> None:
        self._bus = bus
        self._clock = clock

    async def send(
        self, driver_id: str, offer: Offer, station_id: str | None, delivery_id: int
    ) -> str:
        await self._bus.publish(
            outgoing(offer, delivery_id, driver_id, station_id, self._clock.now())
        )
        return self.CHANNEL
