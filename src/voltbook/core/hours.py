"""Opening hours as data sets write them, and whether a time window lies inside them.

Understood: "24 hours daily", "8am-4:30pm daily", and weekly lists such as
"Mon: 6:00am-11:59pm; Tue 12:00am-7:00am, 4:00pm-12:00am; …". Anything else
("Dealership business hours", "Contact station") is unknown and restricts nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)"
_RANGE = re.compile(_TIME + r"\s*-\s*" + _TIME, re.IGNORECASE)
_DAY_ENTRY = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)[a-z]*\s*:?\s*(.+)$", re.IGNORECASE)
# US states of the bundled data and their zones; other places say their own zone.
_REGION_ZONES = {"MA": "America/New_York", "NY": "America/New_York"}

Minutes = tuple[int, int]  # [from, to) in minutes after local midnight


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Open intervals per weekday (Monday = 0), in minutes after local midnight."""

    week: tuple[tuple[Minutes, ...], ...]

    def open_throughout(self, start: datetime, end: datetime, zone: ZoneInfo) -> bool:
        """Whether the site is open for the whole of [start, end)."""
        moment = start.astimezone(zone)
        finish = end.astimezone(zone)
        while moment < finish:
            minute = moment.hour * 60 + moment.minute
            interval = next((i for i in self.week[moment.weekday()] if i[0] <= minute < i[1]), None)
            if interval is None:
                return False
            day_start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
            moment = day_start + timedelta(minutes=interval[1])
        return True


ALWAYS = OpeningHours(tuple(((0, 1440),) for _ in _DAYS))


def parse_opening_hours(text: str | None) -> OpeningHours | None:
    """Parsed hours, ALWAYS for round-the-clock sites, None when the text says nothing usable."""
    if not text:
        return None
    lowered = text.strip().lower()
    if lowered.startswith("24 hours"):
        return ALWAYS
    daily = re.match(r"^(.+?)\s+daily\b", lowered)
    if daily:
        ranges = _ranges(daily.group(1))
        return OpeningHours(tuple(ranges for _ in _DAYS)) if ranges else None
    week: dict[int, tuple[Minutes, ...]] = {}
    for entry in lowered.split(";"):
        match = _DAY_ENTRY.match(entry.strip())
        if not match:
            return None
        ranges = _ranges(match.group(2))
        if not ranges:
            return None
        week[_DAYS.index(match.group(1)[:3])] = ranges
    if not week:
        return None
    return OpeningHours(tuple(week.get(day, ()) for day in range(7)))


def zone_of(timezone: str | None, region: str | None) -> ZoneInfo | None:
    name = timezone or _REGION_ZONES.get((region or "").upper())
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _ranges(text: str) -> tuple[Minutes, ...]:
    found: list[Minutes] = []
    for match in _RANGE.finditer(text):
        begin = _minutes(match.group(1), match.group(2), match.group(3))
        end = _minutes(match.group(4), match.group(5), match.group(6))
        if end in (0, 1439) or end <= begin:
            end = 1440  # "12:00am" or "11:59pm" at the end means until midnight
        found.append((begin, end))
    return tuple(sorted(found))


def _minutes(hour: str, minute: str | None, half: str) -> int:
    value = time(int(hour) % 12 + (12 if half.lower() == "pm" else 0), int(minute or 0))
    return value.hour * 60 + value.minute
