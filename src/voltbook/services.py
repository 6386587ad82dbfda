"""The use cases an entry point (HTTP API, CLI) may call, built by bootstrap."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from voltbook.drivers.service import AccountService
from voltbook.stations.service import StationService


@dataclass(frozen=True, slots=True)
class Services:
    stations: StationService
    accounts: AccountService
    ready: Callable[[], Awaitable[str | None]]
    """Returns None when storage is usable, else what is wrong."""
