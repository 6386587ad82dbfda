"""An operator reads a session's meter values charted (energy, power, state of charge),
today's figures on the overview, and where chargers sit available longest, in a real
browser; axe-core finds no serious violation on any of these screens."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa
from playwright.async_api import Page, expect

from tests.browser.console.conftest import (
    CARD,
    DRIVER_EMAIL,
    Network,
    no_serious_accessibility_violation,
    screenshot,
    sign_in,
)
from voltbook.charging.model import SessionFilter
from voltbook.storage.tables import drivers, offer_deliveries

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
        rows = charts.locator("#chart-soc .chart-data tbody tr")
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


async def test_an_operator_reads_what_an_offer_did_day_by_day_and_hour_by_hour(
    page: Page, network: Network
) -> None:
    now = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=network.url) as http:
        made = await http.post(
            "/api/v1/operator/offers",
            json={
                "title": "Evening fill-up",
                "kind": "percent_off",
                "value": 15,
                "area": {"lat": 42.3555, "lon": -71.0605, "radius_m": 2000},
                "trigger": "area_entry",
                "starts_at": (now - timedelta(days=3)).isoformat(),
                "ends_at": (now + timedelta(days=1)).isoformat(),
            },
            headers=network.operator,
        )
        assert made.status_code == 201, made.text
    offer = made.json()["id"]
    async with network.engine.begin() as connection:
        driver = await connection.scalar(
            sa.select(drivers.c.id).where(drivers.c.email == DRIVER_EMAIL)
        )
        for sent, redeemed, idle in [
            (now - timedelta(hours=60), None, None),
            (now - timedelta(hours=2), now - timedelta(hours=1), 35.0),
        ]:
            await connection.execute(offer_deliveries.insert().values(
                offer_id=offer, driver_id=driver, station_id="BOS-2", channel="live",
                sent_at=sent, opened_at=sent + timedelta(minutes=3), redeemed_at=redeemed,
                idle_minutes_filled=idle))  # fmt: skip
    await sign_in(page, network)
    await page.goto(f"{network.url}/console/#/offers/{offer}")
    over_time = page.locator("#offer-over-time")
    await expect(over_time.locator("#chart-offer-counts figcaption")).to_contain_text(
        "2 sent, 2 opened, 1 redeemed"
    )
    await expect(over_time.locator("#chart-offer-counts canvas")).to_have_count(1)
    await expect(over_time.locator("#chart-offer-idle figcaption")).to_contain_text("35 minutes")
    days = over_time.locator("#chart-offer-counts .chart-data tbody tr")
    assert await days.count() in (4, 5)  # the offer's days so far (UTC), today included
    await no_serious_accessibility_violation(page, "offer over time")
    await screenshot(page, "offer-over-time")

    await page.get_by_label("Show").select_option("hour")
    await expect(over_time.locator("#chart-offer-counts figcaption")).to_contain_text(
        "1 sent, 1 opened, 1 redeemed"  # the last two days only
    )
    assert await over_time.locator("#chart-offer-counts .chart-data tbody tr").count() >= 48


async def test_the_idle_places_map_shows_where_chargers_sat_available_longest(
    page: Page, network: Network
) -> None:
    await network.services.status_history.flush()
    await sign_in(page, network)
    await page.get_by_role("link", name="Idle places").click()
    table = page.locator("#idle-table tbody")
    await expect(table.locator("tr")).to_have_count(3)
    for name in ("Harbour Garage", "Common Lot", "Station Square"):
        await expect(table).to_contain_text(name)
    shares = [
        float((await cell.inner_text()).rstrip(" %"))
        for cell in await table.locator("tr td:nth-child(4)").all()
    ]
    assert shares == sorted(shares, reverse=True)  # longest available first
    assert all(0 <= s <= 100 for s in shares)
    await expect(page.locator("#idle-map canvas")).to_have_count(1)
    await page.get_by_label("Over").select_option("1")
    await expect(page.locator(".result")).to_contain_text("the last 24 hours")
    await no_serious_accessibility_violation(page, "idle places")
    await screenshot(page, "idle-places")
