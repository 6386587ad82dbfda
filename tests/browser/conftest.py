"""A real voltbook on a free loopback port with simulated chargers near downtown Boston, and
Debian's Chromium driven by Playwright on a phone-sized page with a set position.

Shared by the driver app's tests and the operator console's: `web_server` (the server, its
services, an operator account), `browser`, `phone` (a page), `screenshot` and `check_a11y`
(axe-core, vendored, on the page as it is). The browser never downloads anything: Playwright
drives /usr/bin/chromium, which `./dev test` installs when missing.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from tests.e2e.conftest import free_port, server_settings, serving
from voltbook.api.app import create_app
from voltbook.bootstrap import bundled_stations, open_services
from voltbook.config import Settings
from voltbook.drivers.model import Role
from voltbook.services import Services
from voltbook.sim import SimOptions, fetch_station_specs, run_stations
from voltbook.stations.importing import RowProblem, read_site_rows

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
PHONE = {"width": 390, "height": 844}
DOWNTOWN = {"latitude": 42.3555, "longitude": -71.0605}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
OPERATOR_EMAIL, OPERATOR_PASSWORD = "operator@browser.example", "operator password 123"
AXE = "/vendor/axe-core-4.14.1/axe.min.js"  # the pinned one (web/vendor/VENDOR.md)
SIMULATED = 4  # chargers; the nearest to downtown


@dataclass
class WebServer:
    """The running server: its URL, services, and the simulated chargers' ids."""

    url: str
    settings: Settings
    app: FastAPI
    stations: list[str] = field(default_factory=list)

    @property
    def services(self) -> Services:
        opened: Services = self.app.state.services
        return opened


def boston_rows(limit: int = 60) -> str:
    """The bundled data set's rows in Boston: enough for a city, quick to import."""
    with bundled_stations().open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        for row in reader:
            if (row.get("city") or "").strip().lower() == "boston":
                writer.writerow(row)
                limit -= 1
                if limit == 0:
                    break
    return out.getvalue()


@asynccontextmanager
async def serve_app(settings: Settings, port: int) -> AsyncIterator[FastAPI]:
    app = create_app(lambda: open_services(settings, upgrade=True))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    async with serving(config):
        yield app


@pytest.fixture(scope="session")
async def web_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebServer]:
    """One server for the browser tests (SQLite: the browser ends are what is tested here),
    with a slice of the real data set and simulated chargers that report live."""
    data = tmp_path_factory.mktemp("browser")
    settings = server_settings(
        f"sqlite+aiosqlite:///{data / 'voltbook.sqlite3'}",
        data,
        ocpp_accept_unknown_id_tags=True,
        push_allow_insecure=True,
        reservation_lead_s=60,
    )
    async with open_services(settings, upgrade=True) as services:
        plans = (
            p
            for p in read_site_rows(io.StringIO(boston_rows()), "afdc")
            if not isinstance(p, RowProblem)
        )
        await services.stations.import_sites(plans, source="afdc")
        await services.accounts.register(OPERATOR_EMAIL, OPERATOR_PASSWORD, Role.OPERATOR)
    port = free_port()
    async with serve_app(settings, port) as app:
        url = f"http://127.0.0.1:{port}"
        specs = await fetch_station_specs(
            url, OPERATOR_EMAIL, OPERATOR_PASSWORD, SIMULATED,
            near=(DOWNTOWN["latitude"], DOWNTOWN["longitude"]), take_over=True,
        )  # fmt: skip
        options = SimOptions(
            session_rate=0, meter_interval=1.0, speed=30.0, auto_stop=False, seed=7,
            reconnect_base=0.1, reconnect_cap=1.0,
        )  # fmt: skip
        chargers = asyncio.create_task(run_stations(url, specs, options))
        server = WebServer(url, settings, app, [s.id for s in specs])
        try:
            await _until_available(server)
            yield server
        finally:
            chargers.cancel()
            await asyncio.gather(chargers, return_exceptions=True)


async def _until_available(server: WebServer) -> None:
    async with asyncio.timeout(30):
        while True:
            station = await server.services.fleet.get(server.stations[0])
            if station.online and any(c.status.value == "Available" for c in station.connectors):
                return
            await asyncio.sleep(0.1)


expect.set_options(timeout=10_000)  # a shared machine: a screen may take a few seconds


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - once, before anything runs
        pytest.fail("Chromium is missing: `apt-get install chromium` (./dev test does it as root)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class Phone:
    """A phone-sized page and what it reported: console errors and CSP violations."""

    context: BrowserContext
    page: Page
    name: str
    errors: list[str] = field(default_factory=list)
    shots: int = 0

    async def screenshot(self, step: str) -> Path:
        self.shots += 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.name}-{self.shots:02d}-{step}.png"
        await self.page.screenshot(path=str(path))
        return path

    async def check_a11y(self, screen: str) -> None:
        """axe-core on the page as it is: no serious or critical violation."""
        if not await self.page.evaluate("typeof window.axe !== 'undefined'"):
            await self.page.add_script_tag(url=AXE)  # same origin: allowed by the CSP
        result = await self.page.evaluate(
            "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)"
        )
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"accessibility on {screen}: " + json.dumps(bad, indent=1)


def test_name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name)[:60]


@pytest.fixture
async def phone(
    browser: Browser, web_server: WebServer, request: pytest.FixtureRequest
) -> AsyncIterator[Phone]:
    context = await browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        geolocation=DOWNTOWN,
        permissions=["geolocation", "notifications"],
        base_url=web_server.url,
        locale="en-US",
        timezone_id="America/New_York",
    )
    context.set_default_timeout(15_000)
    page = await context.new_page()
    made = Phone(context, page, test_name(request))

    def console(message: Any) -> None:
        if message.type == "error" and "favicon" not in message.text:
            made.errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: made.errors.append(str(error)))
    try:
        yield made
    finally:
        await context.close()
    csp = [e for e in made.errors if "Content Security Policy" in e]
    assert not csp, csp


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.1)
