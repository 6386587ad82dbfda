"""OCPP 2.0.1 reports: a GetBaseReport is answered in NotifyReport parts (seqNo from 0, `tbc`
true while more follow); they are put together here into one report, within bounds.

One `ReportAssembly` per connection: the link asks it to expect a request id before it sends
GetBaseReport, the NotifyReport handler hands it every part, and the link waits for the whole
report (or a failure) under its own timeout. A part for a request nobody waits for (a report
the station sends by itself, or one that came too late) is acknowledged and dropped.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from voltbook.core.errors import Unavailable, UpstreamFailed

MAX_REPORT_ITEMS = 5_000  # variables in one report: a big charger has a few hundred
MAX_REPORT_PARTS = 500


@dataclass(slots=True)
class _Report:
    done: asyncio.Future[list[dict[str, Any]]]
    parts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    last: int | None = None  # the seqNo of the part with tbc false
    items: int = 0


class ReportAssembly:
    def __init__(
        self, max_items: int = MAX_REPORT_ITEMS, max_parts: int = MAX_REPORT_PARTS
    ) -> None:
        self._max_items = max_items
        self._max_parts = max_parts
        self._waiting: dict[int, _Report] = {}

    def expect(self, request_id: int) -> asyncio.Future[list[dict[str, Any]]]:
        """The whole report's items, in order, once its last part and every one before it
        came; fails (UpstreamFailed) when it grows past the bounds."""
        done: asyncio.Future[list[dict[str, Any]]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = _Report(done)
        return done

    def forget(self, request_id: int) -> None:
        self._waiting.pop(request_id, None)

    def part(self, payload: dict[str, Any]) -> None:
        """One NotifyReport (already checked against the schema)."""
        report = self._waiting.get(payload["requestId"])
        if report is None or report.done.done():
            return
        seq_no: int = payload["seqNo"]
        items = list(payload.get("reportData") or [])
        if seq_no in report.parts:
            return  # a part sent again: the first one counts
        report.parts[seq_no] = items
        report.items += len(items)
        if not payload.get("tbc", False):
            report.last = seq_no
        if report.items > self._max_items or seq_no >= self._max_parts:
            report.done.set_exception(
                UpstreamFailed(
                    f"the report has more than {self._max_items} variables or "
                    f"{self._max_parts} parts"
                )
            )
            self.forget(payload["requestId"])
            return
        last = report.last
        if last is not None and all(n in report.parts for n in range(last + 1)):
            report.done.set_result([i for n in range(last + 1) for i in report.parts[n]])
            self.forget(payload["requestId"])

    def gone(self) -> None:
        """The connection closed: every report still awaited fails now."""
        for report in self._waiting.values():
            if not report.done.done():
                report.done.set_exception(Unavailable("the station went offline mid-report"))
        self._waiting.clear()
