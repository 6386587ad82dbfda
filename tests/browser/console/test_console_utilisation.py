"""An operator reads a station's utilisation in a real browser: the share of its time in each
of the seven charger states by hour of the day and by day, charted hour by hour, and its
status history one row per change, after a charger faulted and recovered; axe-core finds no
serious violation on the screen."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.async_api import Locator, Page, expect

from tests.browser.console.conftest import (
    Network,
    no_serious_accessibility_violation,
    screenshot,
    sign_in,
)
from tests.polling import eventually
from voltbook.stations.states import ChargerState

STATES = [
    "Available",
    "Reserved",
    "Charging",
    "Plugged in, not charging",
    "Faulted",
    "Unavailable",
    "Offline",
]


async def shares(row: Locator) -> dict[str, float]:
    """A table row's share per state column, in per cent."""
    cells = await row.locator("td[data-state]").all()
    found: dict[str, float] = {}
    for cell in cells:
        state = await cell.get_attribute("data-state")
        text = await cell.inner_text()
        assert state
        assert re.fullmatch(r"[\d.,]+ %", text), text
        found[state] = float(text.rstrip(" %").replace(",", ""))
    return found


async def test_an_operator_reads_when_a_charger_was_faulted_by_hour_by_day_and_by_change(
    page: Page, network: Network
) -> None:
    history = network.services.status_history
    charger = network.stations["BOS-2"]  # OCPP 1.6, one EVSE
    began = datetime.now(UTC) - timedelta(seconds=1)  # stations send milliseconds
    charger.fault(1, "GroundFailure")
    try:
        await asyncio.sleep(3)  # three seconds faulted
    finally:
        charger.recover(1)  # the charger is shared with the other tests

    async def recovered_in_the_history() -> bool:
        await history.flush()
        rows = await history.changes("BOS-2", began, datetime.now(UTC), 10)
        return [r.state for r in rows if r.evse_id == 1][:2] == [
            ChargerState.AVAILABLE,
            ChargerState.FAULTED,
        ]

    await eventually(recovered_in_the_history, timeout=15)
    ended = datetime.now(UTC)

    await sign_in(page, network)
    await page.get_by_role("link", name="Utilisation").click()
    await page.get_by_label("Station id").fill("BOS-2")
    await page.get_by_label("Period").select_option(label="The last 24 hours")
    await page.get_by_role("button", name="Show utilisation").click()
    await expect(page.locator(".result")).to_contain_text("BOS-2:")
    await page.get_by_label("Connector").select_option(label="EVSE 1 · connector 1")
    await page.get_by_role("button", name="Show utilisation").click()
    await expect(page.locator(".result")).to_contain_text("BOS-2, EVSE 1 · connector 1")

    # The history: the fault and the recovery, one row each, newest first, in the station's
    # own words, at the moments they happened.
    changes = page.locator("#status-history tbody tr[data-evse='1']")
    await expect(changes.nth(1).locator("td").nth(1)).to_have_text("Faulted")
    newest = [
        [await cell.inner_text() for cell in await row.locator("td").all()]
        for row in (changes.nth(0), changes.nth(1))
    ]
    assert newest == [
        ["EVSE 1 · connector 1", "Available", "Available"],
        ["EVSE 1 · connector 1", "Faulted", "Faulted"],
    ]
    moments = [
        datetime.fromisoformat(str(await changes.nth(i).get_attribute("data-at"))) for i in (1, 0)
    ]
    assert began <= moments[0] < moments[1] <= ended
    assert timedelta(seconds=2) < moments[1] - moments[0] < timedelta(seconds=10)

    # Every state has its column; the hour and the day of the fault show time faulted, and
    # each row's shares make the whole of its observed time.
    by_hour = page.locator("#utilisation-by-hour")
    headers = by_hour.locator("thead th[data-state]")
    await expect(headers).to_have_text(STATES)
    zone = ZoneInfo(await page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone"))
    local = moments[0].astimezone(zone)
    hour = await shares(by_hour.locator(f"tbody tr[data-hour='{local.hour}']"))
    assert hour["faulted"] > 0
    assert hour["offline"] < 100
    day = await shares(page.locator(f"#utilisation-by-day tbody tr[data-day='{local.date()}']"))
    assert day["faulted"] > 0
    for row in await page.locator(".shares tbody tr").all():
        assert abs(sum((await shares(row)).values()) - 100) < 0.5
    await expect(page.locator("#chart-utilisation canvas")).to_have_count(1)
    await expect(page.locator("#chart-utilisation figcaption")).to_contain_text(
        "Time in each state, hour by hour"
    )
    await no_serious_accessibility_violation(page, "utilisation")
    await screenshot(page, "utilisation")

    # A charger that never faulted: no time faulted in any hour.
    await page.get_by_label("Station id").fill("BOS-1")
    await page.get_by_role("button", name="Show utilisation").click()
    await expect(page.locator(".result")).to_contain_text("BOS-1:")
    await expect(page.get_by_label("Connector")).to_have_value("")
    rows = await page.locator("#utilisation-by-hour tbody tr").all()
    assert rows
    assert [(await shares(row))["faulted"] for row in rows] == [0] * len(rows)
