"""The station page says how likely a connector is to be free in 30 minutes."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from playwright.async_api import expect

from tests.browser.conftest import Phone, WebServer
from tests.browser.test_driver_app import sign_up
from voltbook.core.clock import SystemClock
from voltbook.forecasts import synthetic
from voltbook.storage.database import create_engine
from voltbook.storage.unit_of_work import SqlUnitOfWork


async def test_the_station_page_shows_the_chance_of_a_free_connector_in_30_minutes(
    phone: Phone, web_server: WebServer
) -> None:
    station_id = web_server.stations[-1]
    station = await web_server.services.fleet.get(station_id)
    history = synthetic.generate(synthetic.Parameters(stations=1, weeks=2, seed=4))
    shift = datetime.now(UTC).replace(second=0, microsecond=0) - history.end
    # Two weeks of this charger's (synthetic) history, up to now.
    rows = [replace(r, station_id=station_id, at=r.at + shift) for r in history.rows]
    engine = create_engine(web_server.settings.resolved_database_url())
    try:
        async with SqlUnitOfWork(engine, SystemClock()) as work:
            await work.status_history.add_many(rows)
            await work.commit()
    finally:
        await engine.dispose()
    forecasts = web_server.services.forecasts
    assert forecasts is not None
    assert await forecasts.train(force=True) is not None

    page = phone.page
    await sign_up(phone)
    await page.goto(f"{web_server.url}/#/station/{station.site_id}")
    section = page.get_by_role("region", name=f"Charger {station_id}")
    await expect(section.get_by_text(re.compile(r"Likely free in 30 min: \d+ %"))).to_be_visible()
    await expect(section.get_by_text(re.compile(r"15 min: \d+ %, 1 h: \d+ %"))).to_be_visible()
    await phone.check_a11y("station with forecast")
