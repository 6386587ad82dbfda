"""Places a driver types ("Cambridge", "02139", "Boylston St"), matched offline against the
imported sites' city, postal code and address: no geocoder needed to search around them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from voltbook.core.errors import InvalidInput
from voltbook.core.uow import UnitOfWork, UowFactory

MIN_CHARS, MAX_CHARS = 2, 80


@dataclass(frozen=True, slots=True)
class Place:
    label: str
    kind: str  # city, postal_code or address
    lat: float
    lon: float


class PlaceRepository(Protocol):
    async def matching(self, text: str, limit: int) -> list[Place]:
        """Postal codes and cities starting with `text`, then addresses containing it (the
        centre of their sites), case-insensitively."""
        ...


class PlaceUnitOfWork(UnitOfWork, Protocol):
    @property
    def places(self) -> PlaceRepository: ...


class PlaceService:
    def __init__(self, uow: UowFactory[PlaceUnitOfWork]) -> None:
        self._uow = uow

    async def find(self, text: str, limit: int = 8) -> list[Place]:
        if not MIN_CHARS <= len(text) <= MAX_CHARS:
            raise InvalidInput(f"type {MIN_CHARS} to {MAX_CHARS} characters")
        words = " ".join(text.split())
        if len(words) < MIN_CHARS:  # mostly spaces: nothing to match, not a mistake
            return []
        async with self._uow(read_only=True) as uow:
            return await uow.places.matching(words, limit)
