"""What a message handler may use: the station it serves and the use cases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from voltbook.charging.service import ChargingService
from voltbook.core.clock import Clock
from voltbook.ocpp.protocol import Version
from voltbook.ocpp.reports import ReportAssembly
from voltbook.stations.fleet import BootDecision, FleetService


@dataclass(frozen=True, slots=True)
class StationContext:
    station_id: str
    version: Version
    fleet: FleetService
    charging: ChargingService
    clock: Clock
    reports: ReportAssembly | None = None  # 2.0.1: where NotifyReport parts go

    def now_text(self) -> str:
        return self.clock.now().isoformat(timespec="seconds").replace("+00:00", "Z")

    def boot_answer(self, decision: BootDecision) -> dict[str, Any]:
        """The BootNotification answer; the same fields in 1.6 and 2.0.1."""
        return {
            "status": "Accepted" if decision.accepted else "Rejected",
            "currentTime": self.now_text(),
            "interval": decision.interval_s,
        }


Handler = Callable[[StationContext, dict[str, Any]], Awaitable[dict[str, Any]]]
