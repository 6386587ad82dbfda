"""What the offers area needs from the outside world."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from voltbook.core.uow import UnitOfWork, UowFactory
from voltbook.offers.model import Charger, DriverProfile, Offer, OfferDelivery, OfferStats


class OfferRepository(Protocol):
    async def add(self, offer: Offer) -> Offer:
        """Store a new offer and return it with its id."""
        ...

    async def get(self, offer_id: int) -> Offer | None: ...

    async def save(self, offer: Offer) -> None:
        """Store a changed offer (its fields, or its end)."""
        ...

    async def page(self, after: int | None, limit: int) -> list[Offer]:
        """Newest first: offers with an id below `after` (all when None)."""
        ...

    async def active(self, now: datetime) -> list[Offer]:
        """Offers not ended whose window has not passed (including ones not yet started)."""
        ...


class DeliveryRepository(Protocol):
    async def add(self, delivery: OfferDelivery) -> OfferDelivery:
        """Store a new delivery and return it with its id."""
        ...

    async def set_channel(self, delivery_id: int, channel: str) -> None: ...

    async def get(self, delivery_id: int) -> OfferDelivery | None: ...

    async def count_for(self, offer_id: int, driver_id: str) -> int:
        """How many times this offer went to this driver."""
        ...

    async def count_since(self, driver_id: str, since: datetime) -> int:
        """How many offers (any) went to this driver at or after `since`."""
        ...

    async def redemptions(self, offer_id: int) -> int: ...

    async def unredeemed(self, driver_id: str, limit: int) -> list[OfferDelivery]:
        """The driver's newest deliveries not yet redeemed, newest first."""
        ...

    async def opened(self, delivery_id: int, at: datetime) -> None:
        """Record the first opening (a later one changes nothing)."""
        ...

    async def redeem(
        self, delivery_id: int, at: datetime, session_id: int, idle_minutes_filled: float
    ) -> bool:
        """Mark a delivery redeemed; False when it already was."""
        ...

    async def stats(self, offer_id: int) -> OfferStats: ...


class DriverFacts(Protocol):
    """What the offers area reads about drivers (their accounts, vehicles, last positions)."""

    async def profile(self, driver_id: str) -> DriverProfile | None:
        """Consent, quiet hours, time zone and vehicles; None for an unknown driver."""
        ...

    async def consenting(self) -> set[str]:
        """Every driver who consents to offers."""
        ...

    async def near(
        self, lat: float, lon: float, radius_m: float, now: datetime
    ) -> list[tuple[str, float, float]]:
        """(driver id, lat, lon) of the drivers who consent to offers and whose last
        position, not yet expired at `now`, lies within the circle."""
        ...

    async def position(self, driver_id: str, now: datetime) -> tuple[float, float] | None:
        """The driver's last position unless it has expired at `now`."""
        ...

    async def driver_of_id_tag(self, id_tag: str) -> str | None:
        """The driver an id tag (RFID card, app token) belongs to."""
        ...


class ChargerFacts(Protocol):
    """What the offers area reads about chargers: where they are, what they take, whether
    they are free (as stations last reported)."""

    async def within(self, lat: float, lon: float, radius_m: float) -> list[Charger]:
        """Stations at sites inside the circle."""
        ...

    async def of(self, station_ids: tuple[str, ...]) -> list[Charger]:
        """These stations (unknown ids are left out)."""
        ...


class OffersUnitOfWork(UnitOfWork, Protocol):
    @property
    def offers(self) -> OfferRepository: ...

    @property
    def offer_deliveries(self) -> DeliveryRepository: ...

    @property
    def offer_drivers(self) -> DriverFacts: ...

    @property
    def offer_chargers(self) -> ChargerFacts: ...


OffersUowFactory = UowFactory[OffersUnitOfWork]


class OfferOutlet(Protocol):
    """Gets an offer to a driver's app (live channel while it is open, Web Push otherwise)."""

    async def send(
        self, driver_id: str, offer: Offer, station_id: str | None, delivery_id: int
    ) -> str:
        """Hand the notice over; returns the channel it went (or will go) by."""
        ...
