"""Facts the alarms area publishes."""

from __future__ import annotations

from dataclasses import dataclass

from voltbook.alarms.model import Alarm
from voltbook.core.bus import Event


@dataclass(frozen=True, slots=True)
class AlarmRaised(Event):
    alarm: Alarm


@dataclass(frozen=True, slots=True)
class AlarmCleared(Event):
    alarm: Alarm


@dataclass(frozen=True, slots=True)
class AlarmAcknowledged(Event):
    """An operator took the alarm in hand: the others' consoles show it so."""

    alarm: Alarm
