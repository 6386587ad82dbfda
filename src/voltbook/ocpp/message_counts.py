"""`voltbook_ocpp_messages`: every OCPP frame, by direction, action and kind, counted where it
passes: the gateway as it reads a station's frame, the station's connection as it writes
ours. It counts whether or not the message journal keeps the frames (and those a flooded
journal drops). Each label combination is bound once (`Telemetry.tally`); a frame then
costs one dictionary read and an addition, and is parsed only by the gateway, once."""

from __future__ import annotations

from collections.abc import Iterable

from voltbook.telemetry import Tally, Telemetry

NAME = "voltbook_ocpp_messages"
IN, OUT = "in", "out"  # from the station, to it
CALL, RESULT, ERROR, INVALID = "call", "result", "error", "invalid"


class MessageCounts:
    def __init__(self, telemetry: Telemetry, actions: Iterable[str]) -> None:
        self._telemetry = telemetry
        # The actions of the OCPP schemas: a station's made-up action is counted under ""
        # so that no station can grow the metric's labels without end.
        self._actions = frozenset(actions)
        self._tallies: dict[tuple[str, str, str], Tally] = {}

    def count(self, direction: str, action: str, kind: str) -> None:
        tally = self._tallies.get((direction, action, kind))
        if tally is None:
            tally = self._bind(direction, action, kind)
        tally.value += 1

    def _bind(self, direction: str, action: str, kind: str) -> Tally:
        known = action if action in self._actions else ""
        tally = self._telemetry.tally(NAME, direction, known, kind)
        if known == action:
            self._tallies[direction, action, kind] = tally
        return tally
