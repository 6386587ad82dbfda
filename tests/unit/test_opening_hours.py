"""Opening hours as the data set writes them, and bookings inside them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from voltbook.core.hours import ALWAYS, parse_opening_hours, zone_of

NEW_YORK = ZoneInfo("America/New_York")
EVENINGS = (
    "Mon: 12:00am-7:00am, 4:00pm-12:00am; Tue: 12:00am-7:00am, 4:00pm-12:00am; "
    "Wed: 12:00am-7:00am, 4:00pm-12:00am; Thu: 12:00am-7:00am, 4:00pm-12:00am; "
    "Fri: 12:00am-7:00am, 4:00pm-12:00am; Sat: 12:00am-12:00am; Sun: 12:00am-12:00am"
)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in New York during the week of Monday 2026-11-30."""
    monday = datetime(2026, 11, 30, tzinfo=NEW_YORK)
    return monday + timedelta(days=day, hours=hour, minutes=minute)


@pytest.mark.parametrize(
    "text",
    ["24 hours daily", "24 hours daily; pay lot", "24 hours daily. Please check the map."],
)
def test_round_the_clock_sites_are_always_open(text: str) -> None:
    assert parse_opening_hours(text) is ALWAYS


@pytest.mark.parametrize(
    "text", [None, "", "Dealership business hours", "Contact station for hours of availability."]
)
def test_hours_that_say_nothing_usable_restrict_nothing(text: str | None) -> None:
    assert parse_opening_hours(text) is None


def test_weekday_lists_with_split_days_are_understood() -> None:
    hours = parse_opening_hours(EVENINGS)
    assert hours is not None
    assert hours.week[0] == ((0, 420), (960, 1440))
    assert hours.week[6] == ((0, 1440),)
    assert hours.open_throughout(local(0, 17), local(0, 18), NEW_YORK)
    assert not hours.open_throughout(local(0, 6, 30), local(0, 7, 30), NEW_YORK)
    assert not hours.open_throughout(local(0, 12), local(0, 13), NEW_YORK)


def test_a_slot_across_midnight_stays_open_when_both_days_are() -> None:
    hours = parse_opening_hours(EVENINGS)
    assert hours is not None
    assert hours.open_throughout(local(0, 23, 30), local(1, 0, 30), NEW_YORK)


def test_daily_ranges_and_spaced_day_entries() -> None:
    daily = parse_opening_hours("8am-4:30pm daily")
    assert daily is not None
    assert daily.week[3] == ((480, 990),)
    spaced = parse_opening_hours("Mon 6:00am - 11:59pm; Tue 6:00am - 11:59pm")
    assert spaced is not None
    assert spaced.week[0] == ((360, 1440),)
    assert spaced.week[2] == ()  # Wednesday not listed: closed
    assert not spaced.open_throughout(local(2, 10), local(2, 11), NEW_YORK)


def test_zones_come_from_the_site_or_its_region() -> None:
    assert zone_of("Europe/Berlin", "MA") == ZoneInfo("Europe/Berlin")
    assert zone_of(None, "ny") == NEW_YORK
    assert zone_of(None, "ZZ") is None
    assert zone_of("Not/AZone", None) is None


def test_the_whole_window_must_be_open_even_when_only_its_end_is_closed() -> None:
    hours = parse_opening_hours("8am-4:30pm daily")
    assert hours is not None
    start = local(2, 15, 45)
    assert hours.open_throughout(start, start + timedelta(minutes=45), NEW_YORK)
    assert not hours.open_throughout(start, start + timedelta(minutes=46), NEW_YORK)
