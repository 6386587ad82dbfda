"""An operator registers a charger and a card from the console: the new charger connects with
the password shown once, accepts the card, and refuses it once the operator blocks it."""

from __future__ import annotations

import asyncio
import contextlib

from playwright.async_api import Page, expect

from tests.browser.console.conftest import (
    Network,
    exact,
    no_serious_accessibility_violation,
    screenshot,
    sign_in,
)
from voltbook.sim import SimOptions, SimulatedStation, StationSpec

SECONDS = 1000
CARD = "04CAFE0153"


async def test_a_card_added_in_the_console_charges_at_a_new_charger_until_it_is_blocked(
    page: Page, network: Network
) -> None:
    await sign_in(page, network)
    await page.get_by_role("link", name="Stations").click()
    await expect(page.locator("#stations-table tbody tr")).to_have_count(3)
    await page.get_by_label("Station id (its OCPP identity)").fill("BOS-NEW")
    await page.get_by_role("button", name="Register").click()
    await expect(page.locator("code.password")).to_be_visible()
    password = await page.locator("code.password").text_content()
    assert password
    await screenshot(page, "station-registered")

    options = SimOptions(
        session_rate=0, meter_interval=1.0, speed=60, auto_stop=False, seed=5,
        reconnect_base=0.1, reconnect_cap=0.5,
    )  # fmt: skip
    charger = SimulatedStation(network.url, StationSpec("BOS-NEW", password.strip()), options)
    running = asyncio.create_task(charger.run())
    try:
        async with asyncio.timeout(15):
            while not charger.booted:
                await asyncio.sleep(0.05)

        await page.get_by_role("link", name="Cards").click()
        await page.get_by_label("Card number (id tag)").fill(CARD)
        await page.get_by_role("button", name="Add card").click()
        row = page.locator(f"#cards tr[data-token='{CARD}']")
        await expect(row.locator(".badge")).to_have_text("Accepted")
        await no_serious_accessibility_violation(page, "cards")
        await screenshot(page, "cards")

        assert await charger.start_session(1, CARD), "the new card was refused"
        assert await charger.stop_session(1)

        await row.get_by_role("button", name=f"Block {CARD}").click()
        await page.get_by_role("dialog").get_by_role("button", name=exact("Block")).click()
        await expect(row.locator(".badge")).to_have_text("Blocked")
        assert not await charger.start_session(1, CARD), "the blocked card was accepted"

        await row.get_by_role("button", name=f"Unblock {CARD}").click()
        await expect(row.locator(".badge")).to_have_text("Accepted")
        await screenshot(page, "cards-unblocked")

        await page.goto(f"{network.url}/console/#/stations/BOS-NEW")
        await expect(page.locator("#auth-list")).to_contain_text("Station's last answer")
        await no_serious_accessibility_violation(page, "station with its list")
    finally:
        await charger.stop()
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await running
