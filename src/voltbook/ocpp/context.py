"""What a message handler may use: the station it serves and the use cases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from voltbook.charging.service import ChargingService
from voltbook.core.clock import Clock
from voltbook.ocpp.protocol import Version
from voltbook.stations.fleet import FleetService


@dataclass(frozen=True, slots=True)
class StationContext:
    station_id: str
    version: Version
    fleet: FleetService
    charging: ChargingService
    clock: Clock

    def now_text(self) -> str:
        return self.clock.now().isoformat(timespec="seconds").replace("+00:00", "Z")


Handler = Callable[[StationContext, dict[str, Any]], Awaitable[dict[str, Any]]]
