"""The console without a network: its own service worker opens it offline with a clear notice,
and the driver app's worker (scope /) never answers for it with the driver app."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, expect

from tests.browser.console.conftest import (
    Network,
    no_serious_accessibility_violation,
    screenshot,
    sign_in,
)

OFFLINE = re.compile(r"^Offline: the server cannot be reached\. Anything shown may be out of date")


async def controlled(page: Page) -> None:
    """A service worker answers the page's requests: it is active, so its files are kept."""
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")


async def test_an_operator_reloads_the_console_offline_and_it_says_so_then_signs_back_in(
    page: Page, network: Network
) -> None:
    await sign_in(page, network)
    await expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    await controlled(page)
    # Online, through the worker: axe-core is a vendored file, so the worker keeps it too.
    await no_serious_accessibility_violation(page, "overview")
    await expect(page.locator("#net-state")).to_be_empty()

    await page.context.set_offline(True)
    await expect(page.locator("#net-state")).to_have_text(OFFLINE)
    await expect(page.get_by_role("heading", name="Overview")).to_be_visible()  # what was read
    await screenshot(page, "offline-overview")

    await page.reload()
    await expect(page.get_by_role("heading", name="The console is offline")).to_be_visible()
    await expect(page).to_have_title("Offline · voltbook console")
    await expect(page.locator(".brand")).to_have_text("voltbook console")
    await expect(page.get_by_role("status").filter(has_text="Offline")).to_have_text(OFFLINE)
    await expect(page.get_by_role("button", name="Try again")).to_be_visible()
    await no_serious_accessibility_violation(page, "offline")
    await screenshot(page, "offline")

    # The connection returns: the refresh cookie signs the operator back in, unasked.
    await page.context.set_offline(False)
    await expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    await expect(page.get_by_role("navigation", name="Console")).to_be_visible()
    await expect(page.locator("#net-state")).to_be_empty()


async def test_the_driver_apps_worker_leaves_the_console_alone(
    page: Page, network: Network
) -> None:
    await page.goto(f"{network.url}/")
    await controlled(page)
    await page.context.set_offline(True)
    # The app's worker does not answer for /console with the app: the network does (and fails).
    with pytest.raises(PlaywrightError, match="ERR_INTERNET_DISCONNECTED"):
        await page.goto(f"{network.url}/console/")

    await page.context.set_offline(False)
    await page.goto(f"{network.url}/console/")
    await expect(
        page.get_by_role("heading", name="Sign in to the operator console")
    ).to_be_visible()
    await controlled(page)
    await page.goto(f"{network.url}/")  # the app again, with its worker
    await expect(page).to_have_title(re.compile("^voltbook"))
    await page.context.set_offline(True)
    # Offline, /console (without its slash, as an operator types it) is the console's.
    await page.goto(f"{network.url}/console")
    await expect(page).to_have_url(f"{network.url}/console/")
    await expect(page.get_by_role("heading", name="The console is offline")).to_be_visible()
    await expect(page.locator(".brand")).to_have_text("voltbook console")
    await screenshot(page, "offline-after-the-app")
