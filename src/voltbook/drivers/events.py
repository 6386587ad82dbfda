"""Facts the drivers area publishes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from voltbook.core.bus import Event
from voltbook.drivers.model import Role


@dataclass(frozen=True, slots=True)
class DriverRegistered(Event):
    driver_id: str
    role: Role


@dataclass(frozen=True, slots=True)
class SignInsEnded(Event):
    """Sign-ins of an account ended (sign-out, password change, block, demotion, deletion):
    every node closes the live channels opened with them. `sign_in_ids` None: all of them."""

    cluster_wide: ClassVar[bool] = True
    driver_id: str
    sign_in_ids: tuple[str, ...] | None
    reason: str


@dataclass(frozen=True, slots=True)
class ConsentsChanged(Event):
    """A driver's consents as just stored; every node's offer engine counts them at once."""

    cluster_wide: ClassVar[bool] = True
    driver_id: str
    consent_location: bool
    consent_offers: bool
