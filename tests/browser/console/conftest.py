"""The operator console in a real browser (the shared `browser` fixture: Debian's Chromium
driven by Playwright) on a desktop-sized page, against a voltbook server of its own with
simulated chargers near downtown Boston that the tests hold by the hand: they fault, recover
and charge when a test says so."""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.browser.conftest import AXE, SCREENSHOTS
from tests.e2e.conftest import running_app, server_settings
from voltbook.drivers.model import Role
from voltbook.services import Services
from voltbook.sim import SimOptions, SimulatedStation, fetch_station_specs
from voltbook.storage.database import create_engine
from voltbook.storage.tables import id_tokens, sites

OPERATOR_EMAIL = "operator@console.example"
OPERATOR_PASSWORD = "operator password 123"
DRIVER_EMAIL = "driver@console.example"
DRIVER_PASSWORD = "driver password 123"
CARD = "CONSOLE-CARD"
# Three places downtown: the stations the simulator runs stand there.
PLACES = [
    ("Harbour Garage", 42.3601, -71.0589),
    ("Common Lot", 42.3550, -71.0656),
    ("Station Square", 42.3522, -71.0552),
]


@dataclass
class Network:
    url: str
    services: Services
    engine: AsyncEngine
    stations: dict[str, SimulatedStation]
    operator: dict[str, str]

    def station(self, version: str) -> SimulatedStation:
        return next(s for s in self.stations.values() if s.options.version == version)


@pytest.fixture(scope="session")
async def network(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Network]:
    """One server for every console test: SQLite, three sites, three simulated chargers
    (two OCPP 1.6, one 2.0.1), an operator and a driver account."""
    data = tmp_path_factory.mktemp("console")
    url = f"sqlite+aiosqlite:///{data / 'console.sqlite3'}"
    settings = server_settings(url, data)
    async with running_app(settings) as (base, app):
        services: Services = app.state.services
        engine = create_engine(url)
        await services.accounts.register(OPERATOR_EMAIL, OPERATOR_PASSWORD, Role.OPERATOR)
        await services.accounts.register(DRIVER_EMAIL, DRIVER_PASSWORD, Role.DRIVER)
        now = datetime.now(UTC)
        async with engine.begin() as connection:
            await connection.execute(
                id_tokens.insert().values(token=CARD, status="Accepted", created_at=now)
            )
        async with httpx.AsyncClient(base_url=base) as http:
            token = await http.post(
                "/api/v1/auth/token",
                data={"username": OPERATOR_EMAIL, "password": OPERATOR_PASSWORD},
            )
            operator = {"Authorization": f"Bearer {token.json()['access_token']}"}
            for n, (name, lat, lon) in enumerate(PLACES):
                async with engine.begin() as connection:
                    site_id = (
                        await connection.execute(
                            sites.insert()
                            .values(
                                source="test", source_id=secrets.token_hex(4), name=name,
                                city="Boston", country="US", lat=lat, lon=lon,
                                created_at=now, updated_at=now,
                            )
                            .returning(sites.c.id)
                        )
                    ).scalar_one()  # fmt: skip
                made = await http.post(
                    "/api/v1/operator/stations",
                    json={"id": f"BOS-{n + 1}", "site_id": site_id},
                    headers=operator,
                )
                assert made.status_code == 201, made.text
        specs = await fetch_station_specs(
            base, OPERATOR_EMAIL, OPERATOR_PASSWORD, 10, take_over=True
        )
        stations: dict[str, SimulatedStation] = {}
        for spec in specs:
            options = SimOptions(
                version="2.0.1" if spec.id == "BOS-3" else "1.6",
                session_rate=0, meter_interval=1.0, speed=60, id_tags=(CARD,), auto_stop=False,
                seed=3, reconnect_base=0.1, reconnect_cap=0.5, reboot_delay=0.2,
            )  # fmt: skip
            stations[spec.id] = SimulatedStation(base, spec, options)
        running = [asyncio.create_task(s.run()) for s in stations.values()]
        try:
            async with asyncio.timeout(20):
                while not all(s.booted for s in stations.values()):
                    await asyncio.sleep(0.05)
            yield Network(base, services, engine, stations, operator)
        finally:
            for station in stations.values():
                await station.stop()
            for task in running:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await engine.dispose()


@pytest.fixture
async def page(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    """A desktop-sized page; any script error or Content-Security-Policy violation fails the
    test."""
    context: BrowserContext = await browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = await context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(f"script error: {error.stack or error}"))
    opened.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}")
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    yield opened
    await context.close()
    assert not problems, problems


async def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"console-{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def no_serious_accessibility_violation(page: Page, screen: str) -> None:
    """axe-core (vendored) on the page as it is: no serious or critical violation."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(url=AXE)  # same origin: allowed by the CSP
    found: dict[str, Any] = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in found["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{screen}: {bad}"


async def sign_in(page: Page, network: Network, email: str = OPERATOR_EMAIL,
                  password: str = OPERATOR_PASSWORD) -> None:  # fmt: skip
    await page.goto(f"{network.url}/console/")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


def exact(text: str) -> re.Pattern[str]:
    return re.compile(f"^{re.escape(text)}$")
