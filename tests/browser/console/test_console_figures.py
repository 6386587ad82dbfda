"""An operator reads a session's meter values charted (energy, power, state of charge),
today's figures on the overview, and where chargers sit available longest, in a real
browser; axe-core finds no serious violation on any of these screens."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Page, expect

from tests.browser.console.conftest import (
    CARD,
    Network,
    no_serious_accessibility_violation,
    screenshot,
    sign_in,
)
from voltbook.charging.model import SessionFilter

SECONDS = 1000  # Playwright waits in milliseconds


async def test_an_operator_reads_a_sessions_chart_of_energy_power_and_charge(
    page: Page, network: Network
) -> None:
    charger = network.stations["BOS-3"]  # OCPP 2.0.1, a meter value every second
    assert await charger.start_session(1, CARD)
    try:
        async with asyncio.timeout(15):
            while not (running := await network.services.charging.find(
                SessionFilter(station_id="BOS-3", active=True), None, 10
            )):  # fmt: skip
                await asyncio.sleep(0.1)
        session = running[0]
        async with asyncio.timeout(15):  # a few readings to draw
            while len(await network.services.meter_series.of_session(session)) < 4:
                await asyncio.sleep(0.2)
        await sign_in(page, network)
        await page.goto(f"{network.url}/console/#/sessions/{session.id}")
        charts = page.locator("#session-charts")
        for chart, title in [
            ("#chart-energy", "Energy"),
            ("#chart-power", "Power"),
            ("#chart-soc", "State of charge"),
        ]:
            figure = charts.locator(chart)
            await expect(figure.locator("figcaption")).to_contain_text(title)
            await expect(figure.locator("canvas")).to_have_count(1)
        await expect(page.locator("#chart-summary")).to_contain_text("readings from")
        await expect(charts.locator("#chart-energy figcaption")).to_contain_text("kWh delivered")
        # The figures behind the chart, for those who cannot see it.
        await charts.locator("#chart-soc summary").click()
        rows = charts.locator("#chart-soc tbody tr")
        assert await rows.count() >= 4
        await expect(rows.last.locator("td")).to_have_text(re.compile(r"^\d+(\.\d)?$"))
        await no_serious_accessibility_violation(page, "session chart")
        await screenshot(page, "session-chart")
    finally:
        await charger.stop_session(1)


async def test_the_overview_shows_todays_figures_and_follows_a_session_live(
    page: Page, network: Network
) -> None:
    before = await network.services.figures.today()
    await sign_in(page, network)
    panel = page.locator("#today")
    await expect(panel.locator("#today-sessions")).to_have_text(str(before.counts.sessions))
    await expect(panel).to_contain_text("Since midnight UTC")
    charger = network.stations["BOS-1"]
    assert await charger.start_session(1, CARD)
    try:
        # The charger's status change reloads the figures, without a reload of the page.
        await expect(panel.locator("#today-sessions")).to_have_text(
            str(before.counts.sessions + 1), timeout=15 * SECONDS
        )
        await expect(panel.locator("#today-utilisation")).to_have_text(re.compile(r"^[\d.]+ %$"))
        await no_serious_accessibility_violation(page, "overview with today's figures")
        await screenshot(page, "overview-today")
    finally:
        await charger.stop_session(1)
