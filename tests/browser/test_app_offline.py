"""The driver app with its server down: the service worker's shell and last results, and
recovery when the server is back."""

from __future__ import annotations

import io
from pathlib import Path

from playwright.async_api import expect

from tests.browser.conftest import Phone, WebServer, boston_rows, serve_app
from tests.browser.test_driver_app import sign_up
from tests.e2e.conftest import free_port, server_settings
from voltbook.bootstrap import open_services
from voltbook.stations.importing import RowProblem, read_site_rows


async def test_the_app_reloads_from_its_offline_shell_while_the_server_is_down_and_recovers(
    phone: Phone, web_server: WebServer, tmp_path: Path
) -> None:
    settings = server_settings(f"sqlite+aiosqlite:///{tmp_path / 'own.sqlite3'}", tmp_path)
    async with open_services(settings, upgrade=True) as services:
        rows = read_site_rows(io.StringIO(boston_rows()), "afdc")
        await services.stations.import_sites(
            (r for r in rows if not isinstance(r, RowProblem)), source="afdc"
        )
    port = free_port()
    page = phone.page
    url = f"http://127.0.0.1:{port}"
    async with serve_app(settings, port):
        await sign_up(phone, url)
        await expect(page.locator("#main li").first).to_be_visible()
        first_place = await page.locator("#main li strong").first.text_content()
        await page.evaluate("navigator.serviceWorker.ready")

    await page.reload()  # the server is down: the shell and the last results, kept
    await expect(page.get_by_role("heading", name="Find a charger")).to_be_visible()
    await expect(page.locator("#net")).to_contain_text("Offline")
    await expect(page.get_by_text("Offline: these are the last results you saw.")).to_be_visible()
    await expect(page.locator("#main li strong").first).to_have_text(first_place or "")
    await phone.screenshot("offline-shell")

    async with serve_app(settings, port):
        await page.reload()  # signed in still: the refresh cookie, not a stored token
        await expect(page.get_by_role("heading", name="Find a charger")).to_be_visible()
        await expect(page.locator("#main li strong").first).to_have_text(first_place or "")
        await expect(page.locator("#net")).not_to_contain_text("Offline")
        await phone.screenshot("recovered")
