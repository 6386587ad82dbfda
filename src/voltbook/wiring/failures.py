"""What becomes of a failure in an event handler or a background round: it is logged with
its context, counted per handler, and the last few are kept (never an unbounded list)."""

from __future__ import annotations

import traceback
from collections import Counter, deque
from dataclasses import dataclass

import structlog

from voltbook.core.bus import Event

_log = structlog.get_logger("voltbook.wiring")


@dataclass(frozen=True, slots=True)
class Failure:
    handler: str
    event: str | None
    error: str
    where: str


class HandlerFailures:
    """Failures of event handlers, background loops and background jobs.

    A log line carries the handler, the event's type, the station it concerns (when it names
    one), the error's type and where it was raised; never the error's text, the event's other
    fields or local variables (they may hold positions or secrets). `counts` feeds the
    `voltbook_background_errors_total{handler=...}` metric.
    """

    def __init__(self, keep: int = 100) -> None:
        self.counts: Counter[str] = Counter()
        self.recent: deque[Failure] = deque(maxlen=keep)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def record(self, handler: str, error: BaseException, event: Event | None = None) -> None:
        failure = Failure(
            handler, None if event is None else type(event).__name__, type(error).__name__,
            _where(error),
        )  # fmt: skip
        self.counts[handler] += 1
        self.recent.append(failure)
        context: dict[str, object] = {"handler": handler, "error": failure.error}
        if failure.event is not None:
            context["event_type"] = failure.event
        station = getattr(event, "station_id", None)
        if isinstance(station, str):
            context["station"] = station
        _log.warning("handler failed", where=failure.where, **context)


def _where(error: BaseException) -> str:
    """The file and line that raised `error` (its innermost frame)."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"
