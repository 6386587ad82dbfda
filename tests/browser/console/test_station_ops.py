"""On a station's page an operator sends the charger a new password over its connection
(the charger reconnects with it, the old one then refused) and reads a 2.0.1 station's whole
configuration, put together from its report's parts."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
import websockets
from playwright.async_api import Page, expect

from tests.browser.console.conftest import (
    Network,
    no_serious_accessibility_violation,
    screenshot,
    sign_in,
)
from tests.e2e.ocpp_client import connect
from voltbook.storage.tables import stations

SECONDS = 1000


async def test_an_operator_rotates_a_password_and_reads_a_whole_configuration(
    page: Page, network: Network
) -> None:
    await sign_in(page, network)
    await expect(page.get_by_role("navigation", name="Console")).to_be_visible()

    charger = network.stations["BOS-2"]
    old = charger.spec.password
    await page.goto(f"{network.url}/console/#/stations/BOS-2")
    await page.get_by_role("button", name="Send the charger a new password").click()
    dialog = page.get_by_role("dialog", name="Send the charger a new password?")
    await expect(dialog).to_contain_text("The old one keeps working")
    await dialog.get_by_role("button", name="Send it").click()
    await expect(page.locator("#answer-status")).to_have_text(
        "ChangeConfiguration: Accepted", timeout=10 * SECONDS
    )
    shown = page.locator(".secret code.password")
    await expect(shown).to_have_count(1)
    new = await shown.text_content()
    assert new is not None
    assert len(new) == 20
    await no_serious_accessibility_violation(page, "password rotated")
    await screenshot(page, "station-password-rotated")

    # The simulated charger reconnects with the new password; the old one then fails.
    async def rotated() -> bool:
        async with network.engine.connect() as connection:
            pending = await connection.scalar(
                sa.select(stations.c.pending_password_hash).where(stations.c.id == "BOS-2")
            )
        return pending is None and charger.booted

    async with asyncio.timeout(20):
        while not await rotated():
            await asyncio.sleep(0.1)
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(network.url, "BOS-2", old):
            pass
    assert refused.value.response.status_code == 401

    await page.goto(f"{network.url}/console/#/stations/BOS-3")
    await page.get_by_role("button", name="Read the whole configuration (2.0.1)").click()
    await expect(page.locator("#answer-status")).to_have_text(
        "GetBaseReport: Accepted", timeout=10 * SECONDS
    )
    table = page.locator("#configuration")
    await expect(
        table.get_by_role("rowheader", name="OCPPCommCtrlr.HeartbeatInterval")
    ).to_be_visible()
    await expect(
        table.get_by_role("rowheader", name="EVSE (EVSE 1).AvailabilityState")
    ).to_be_visible()
    await no_serious_accessibility_violation(page, "whole configuration")
    await screenshot(page, "station-whole-configuration")


async def test_an_operators_command_shows_in_the_audit_log_with_the_stations_answer(
    page: Page, network: Network
) -> None:
    await sign_in(page, network)
    await page.goto(f"{network.url}/console/#/stations/BOS-1")
    await page.get_by_role("button", name="Clear cache").click()
    await expect(page.locator("#answer-status")).to_have_text(
        "ClearCache: Accepted", timeout=10 * SECONDS
    )

    await page.get_by_role("navigation", name="Console").get_by_role("link", name="Audit").click()
    await expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    await page.get_by_label("Only my actions").check()
    await page.get_by_label("Station").fill("BOS-1")
    await page.get_by_role("button", name="Show").click()
    newest = page.locator("#audit tbody tr").first
    await expect(newest).to_contain_text(
        "POST /api/v1/operator/stations/{station_id}/commands/clear_cache"
    )
    await expect(newest.locator("td.outcome")).to_have_text("Accepted")
    await expect(newest).to_contain_text("(you)")
    await newest.get_by_text("Request and answer").click()
    await expect(newest.get_by_label("Answer of entry", exact=False)).to_contain_text(
        '"action":"ClearCache"'
    )
    await no_serious_accessibility_violation(page, "audit log")
    await screenshot(page, "audit")


async def test_an_operator_makes_a_station_hold_a_connector_and_lets_it_go(
    page: Page, network: Network
) -> None:
    """ReserveNow and CancelReservation from the station's page: the station's own hold,
    its answer shown, and the connector Reserved, then Available again."""
    await sign_in(page, network)
    await page.evaluate("location.hash = '#/stations/BOS-1'")
    await expect(page.get_by_role("heading", name="Station BOS-1")).to_be_visible()
    connector = page.locator("#connectors tbody tr").first
    await expect(connector).to_contain_text("Available")
    hold = page.get_by_role("form", name="Reserve now")
    await hold.get_by_label("Reservation id").fill("900001")
    await hold.get_by_label("Id tag").fill("OPS-HOLD")
    await hold.get_by_label("Until").fill("2099-01-01T12:00")
    await hold.get_by_label("EVSE (empty: any)").fill("1")
    await hold.get_by_role("button", name="Reserve").click()
    await expect(page.locator("#answer-status")).to_have_text(
        "ReserveNow: Accepted", timeout=10 * SECONDS
    )
    await expect(connector).to_contain_text("Reserved", timeout=10 * SECONDS)
    await no_serious_accessibility_violation(page, "station with a held connector")
    await screenshot(page, "station-reserve-now")

    release = page.get_by_role("form", name="Cancel reservation")
    await release.get_by_label("Reservation id").fill("900001")
    await release.get_by_role("button", name="Cancel reservation").click()
    await expect(page.locator("#answer-status")).to_have_text(
        "CancelReservation: Accepted", timeout=10 * SECONDS
    )
    await expect(connector).to_contain_text("Available", timeout=10 * SECONDS)
