"""An operator runs the network from /console in a real browser: signs in, watches alarms
arrive and clear live, resets a station and reads its answer, draws an offer on the map that
reaches a driver, and manages bookings; axe-core finds no serious violation on any screen."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from datetime import UTC, datetime, timedelta

import httpx
import websockets
from playwright.async_api import Locator, Page, Route, expect

from tests.browser.console.conftest import (
    CARD,
    DRIVER_EMAIL,
    DRIVER_PASSWORD,
    OPERATOR_EMAIL,
    Network,
    exact,
    no_serious_accessibility_violation,
    screenshot,
    sign_in,
)
from tests.polling import eventually
from voltbook.charging.model import SessionFilter
from voltbook.storage.tables import drivers

SECONDS = 1000  # Playwright waits in milliseconds


def stations_counted(page: Page, status: str) -> Locator:
    """The cell that counts the stations of one status on the overview."""
    row = page.locator("#station-counts tbody tr").filter(
        has=page.get_by_role("rowheader", name=exact(status))
    )
    return row.locator("td")


async def test_a_drivers_account_gets_nothing_and_an_operator_sees_the_network(
    page: Page, network: Network
) -> None:
    await page.goto(f"{network.url}/console/")
    await no_serious_accessibility_violation(page, "sign-in")
    await screenshot(page, "sign-in")

    await sign_in(page, network, DRIVER_EMAIL, DRIVER_PASSWORD)
    await expect(page.get_by_role("alert")).to_contain_text("driver's account")
    await expect(page.get_by_role("navigation", name="Console")).to_be_hidden()
    # The driver's sign-in was ended at once: a reload does not resume it.
    await page.reload()
    await expect(
        page.get_by_role("heading", name="Sign in to the operator console")
    ).to_be_visible()
    await expect(page.get_by_role("navigation", name="Console")).to_be_hidden()

    await sign_in(page, network)
    await expect(stations_counted(page, "Available")).to_have_text("3")
    await expect(page.locator("#fig-online")).to_have_text("3")
    await expect(page.locator("#live-state")).to_have_text("Live: connected")
    # The map draws one marker per station on a canvas, with no tile server configured.
    await expect(page.locator("#overview-map canvas")).to_have_count(1)
    await no_serious_accessibility_violation(page, "overview")
    await screenshot(page, "overview")


async def test_a_reload_keeps_the_operator_signed_in_until_they_sign_out(
    page: Page, network: Network
) -> None:
    await sign_in(page, network)
    await expect(page.locator("#who")).to_have_text(OPERATOR_EMAIL)
    await page.goto(f"{network.url}/console/#/stations/BOS-2")
    await page.reload()  # the access token lived in memory only: the cookie signs in again
    await expect(page.get_by_role("heading", name="Station BOS-2")).to_be_visible()
    await expect(page.locator("#who")).to_have_text(OPERATOR_EMAIL)
    await expect(page.locator("#live-state")).to_have_text("Live: connected")
    # The refresh token is an HttpOnly cookie scoped to the console's refresh route.
    assert "vb_console_refresh" not in await page.evaluate("document.cookie")
    cookies = {c["name"]: c for c in await page.context.cookies()}
    refresh = cookies["vb_console_refresh"]
    assert refresh["httpOnly"]
    assert refresh["secure"]
    assert refresh["sameSite"] == "Strict"
    assert refresh["path"] == "/api/v1/auth/browser/console/refresh"

    # An access token the server no longer takes (a 401): the console refreshes and asks again.
    refreshes: list[str] = []
    page.on(
        "request",
        lambda r: refreshes.append(r.url) if r.url.endswith("/console/refresh") else None,
    )
    refused: list[str] = []

    async def refuse_once(route: Route) -> None:
        if refused:
            await route.continue_()
            return
        refused.append(route.request.url)
        await route.fulfill(
            status=401,
            content_type="application/problem+json",
            body='{"title": "Unauthorized", "status": 401, "detail": "token expired"}',
        )

    await page.route("**/api/v1/operator/stations/BOS-1", refuse_once)
    await page.evaluate("location.hash = '#/stations/BOS-1'")  # no reload: the same token
    await expect(page.get_by_role("heading", name="Station BOS-1")).to_be_visible()
    await expect(page.locator("#connectors tbody tr").first).to_be_visible()
    assert refused
    assert len(refreshes) == 1
    await expect(page.locator("#who")).to_have_text(OPERATOR_EMAIL)

    await page.get_by_role("button", name="Sign out").click()
    await expect(
        page.get_by_role("heading", name="Sign in to the operator console")
    ).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text="You signed out.")).to_be_visible()
    assert "vb_console_refresh" not in {c["name"] for c in await page.context.cookies()}
    await page.reload()  # signed out for good: the sign-in was ended on the server
    await expect(
        page.get_by_role("heading", name="Sign in to the operator console")
    ).to_be_visible()
    await expect(page.get_by_role("navigation", name="Console")).to_be_hidden()
    await screenshot(page, "signed-out")


async def test_a_faulted_chargers_alarm_arrives_and_clears_live(
    page: Page, network: Network
) -> None:
    await sign_in(page, network)
    await expect(page.locator("#live-state")).to_have_text("Live: connected")
    charger = network.stations["BOS-2"]

    charger.fault(1, "GroundFailure")
    try:
        feed = page.locator("#alarm-feed")
        raised = feed.locator("li", has_text="BOS-2").filter(has_text="Raised")
        await expect(raised.first).to_contain_text("GroundFailure", timeout=10 * SECONDS)
        await expect(page.locator("#active-alarms")).to_contain_text("BOS-2 connector 1")
        await expect(stations_counted(page, "Faulted")).to_have_text("1", timeout=10 * SECONDS)
        await screenshot(page, "alarm-raised")
        await no_serious_accessibility_violation(page, "overview with an alarm")
        # The operator takes it in hand: the others would see who did (live), and so does
        # the feed; the alarm stays active until the charger recovers.
        await page.get_by_role(
            "button", name="Acknowledge the GroundFailure alarm of BOS-2"
        ).click()
        active = page.locator("#active-alarms li", has_text="BOS-2")
        await expect(active).to_contain_text("acknowledged by you")
        taken = feed.locator("li", has_text="BOS-2").filter(has_text="Acknowledged")
        await expect(taken).to_have_count(1)  # the answer and the live notice: one entry
        await no_serious_accessibility_violation(page, "overview with an acknowledged alarm")
    finally:
        charger.recover(1)  # the charger is shared with the next tests
    cleared = feed.locator("li", has_text="BOS-2").filter(has_text="Cleared")
    await expect(cleared.first).to_contain_text("GroundFailure", timeout=10 * SECONDS)
    await expect(page.locator("#active-alarms")).not_to_contain_text("BOS-2")
    await screenshot(page, "alarm-cleared")


async def test_an_operator_finds_a_station_resets_it_and_reads_its_answer(
    page: Page, network: Network
) -> None:
    await sign_in(page, network)
    await page.get_by_role("link", name="Stations").click()
    await page.get_by_label("Search").fill("square")
    rows = page.locator("#stations-table tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("BOS-3")
    await no_serious_accessibility_violation(page, "stations")
    await screenshot(page, "stations")

    await rows.first.get_by_role("link", name="BOS-3").click()
    await expect(page.get_by_role("heading", name="Station BOS-3")).to_be_visible()
    await expect(page.locator("#connectors tbody tr").first).to_contain_text("Available")
    await page.get_by_role("button", name=exact("Reset")).click()
    # The 2.0.1 station answers Reset with its own words.
    await expect(page.locator("#answer-status")).to_have_text(
        "Reset: Accepted", timeout=10 * SECONDS
    )
    await expect(page.locator("#answer pre")).to_contain_text('"status": "Accepted"')
    # The journal shows the Reset that went out and the station's answer, as plain text.
    await expect(page.locator("#journal tbody")).to_contain_text("Reset", timeout=10 * SECONDS)
    await expect(page.locator("#journal tbody")).to_contain_text("to station")
    # One printable label per EVSE, opening the driver app on that connector: the code is the
    # API's own SVG, fetched with the operator's token and shown as an image the CSP allows.
    await expect(page.locator("#labels figure")).to_have_count(1)
    await expect(page.locator("#labels figcaption")).to_contain_text(
        f"{network.url}/#/charge/BOS-3/1"
    )
    code = page.locator("#labels img")
    await expect(code).to_have_attribute("alt", re.compile("QR code for BOS-3 · EVSE 1"))
    assert await code.evaluate("img => img.complete && img.naturalWidth > 100")
    async with httpx.AsyncClient(base_url=network.url) as http:
        served = await http.get(
            "/api/v1/operator/stations/BOS-3/evses/1/qr.svg", headers=network.operator
        )
    assert served.status_code == 200, served.text
    shown = await code.get_attribute("src") or ""
    assert shown.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(shown.split(",", 1)[1]) == served.content
    await no_serious_accessibility_violation(page, "station")
    await screenshot(page, "station-reset")
    # Printing the labels prints them alone (the button sets the class around window.print()).
    await page.evaluate("document.body.classList.add('printing-labels')")
    await page.emulate_media(media="print")
    await expect(page.get_by_role("heading", name="Station BOS-3")).to_be_hidden()
    await expect(page.get_by_role("button", name="Print the labels")).to_be_hidden()
    await expect(code).to_be_visible()
    await screenshot(page, "station-labels-printed")


async def test_a_command_that_would_interrupt_a_session_asks_first(
    page: Page, network: Network
) -> None:
    charger = network.stations["BOS-1"]
    assert await charger.start_session(1, CARD)
    try:
        await sign_in(page, network)
        await page.goto(f"{network.url}/console/#/stations/BOS-1")
        await expect(page.locator("#connectors tbody tr[data-evse='1']").first).to_contain_text(
            "Charging", timeout=10 * SECONDS
        )
        await page.get_by_role("button", name=exact("Reset")).click()
        dialog = page.get_by_role("dialog", name="This interrupts a running session")
        await expect(dialog).to_contain_text("connector 1 (Charging)")
        await no_serious_accessibility_violation(page, "confirm dialog")
        await screenshot(page, "station-confirm")
        await dialog.get_by_role("button", name="Cancel").click()
        await expect(dialog).to_be_hidden()
        await expect(page.locator("#answer")).to_contain_text("Send a command")
        assert any(s.evse_id == 1 for s in charger.sessions.values())
    finally:
        await charger.stop_session(1)


async def test_an_offer_drawn_on_the_map_reaches_a_driver_who_enters_its_area(
    page: Page, network: Network
) -> None:
    await sign_in(page, network)
    await page.get_by_role("link", name="Offers").click()
    await no_serious_accessibility_violation(page, "offers")
    await page.get_by_role("link", name="New offer").click()
    await page.get_by_label("Title (drivers see it)").fill("Quiet hour: 30 % off downtown")
    await page.get_by_label("Value").fill("30")
    await page.get_by_label("Radius (metres)").fill("1500")
    map_box = page.locator("#offer-map")
    await expect(map_box.locator("canvas")).to_have_count(1)
    await page.wait_for_timeout(300)  # the stations' markers fit the map
    box = await map_box.bounding_box()
    assert box is not None
    await map_box.click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    lat = float(await page.get_by_label("Centre latitude").input_value())
    lon = float(await page.get_by_label("Centre longitude").input_value())
    assert 42.30 < lat < 42.40, lat
    assert -71.10 < lon < -71.00, lon
    await expect(page.locator("#area-summary")).to_have_text(
        f"Area: 1,500 m around {lat:.5f}, {lon:.5f}"
    )
    await no_serious_accessibility_violation(page, "new offer")
    await screenshot(page, "offer-drawn")
    await page.get_by_role("button", name="Create offer").click()
    await expect(
        page.get_by_role("heading", name="Offer: Quiet hour: 30 % off downtown")
    ).to_be_visible()
    await expect(page.locator("#fig-sent")).to_contain_text("0")

    async with httpx.AsyncClient(base_url=network.url) as http:
        email = "nearby-driver@console.example"
        await http.post(
            "/api/v1/auth/register", json={"email": email, "password": "driver pw 12345"}
        )
        token = (
            await http.post(
                "/api/v1/auth/token", data={"username": email, "password": "driver pw 12345"}
            )
        ).json()["access_token"]
        me = {"Authorization": f"Bearer {token}"}
        consent = await http.patch(
            "/api/v1/me", json={"consent_location": True, "consent_offers": True}, headers=me
        )
        assert consent.status_code == 200, consent.text
    await network.services.offers.refresh()  # the engine learns consents on its periodic refresh
    url = network.url.replace("http://", "ws://") + "/api/v1/live"
    async with websockets.connect(url) as app:
        await app.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(await app.recv())["type"] == "welcome"
        # The driver comes from 20 km north into the area.
        await app.send(json.dumps({"type": "location", "id": 1, "lat": lat + 0.2, "lon": lon}))
        assert json.loads(await app.recv()) == {"type": "ok", "id": 1}
        await app.send(json.dumps({"type": "location", "id": 2, "lat": lat + 0.001, "lon": lon}))
        async with asyncio.timeout(10):
            while (message := json.loads(await app.recv()))["type"] != "offer":
                pass
    assert message["title"] == "Quiet hour: 30 % off downtown"
    assert message["value"] == 30

    await page.goto(f"{network.url}/console/#/offers")
    await page.reload()  # still signed in: the refresh cookie gives a new access token
    await page.get_by_role("link", name="Quiet hour: 30 % off downtown").click()
    await expect(page.locator("#fig-sent")).to_contain_text("1")
    await no_serious_accessibility_violation(page, "offer")
    await screenshot(page, "offer-figures")

    # The operator edits it: a deeper discount over a larger area, read back as saved.
    await page.get_by_label("Value").fill("40")
    await page.get_by_label("Radius (metres)").fill("2500")
    await page.get_by_role("button", name="Save changes").click()
    async with httpx.AsyncClient(base_url=network.url) as http:

        async def saved() -> bool:
            found = await http.get("/api/v1/operator/offers", headers=network.operator)
            [offer] = [o for o in found.json()["items"] if o["title"].startswith("Quiet hour")]
            return offer["value"] == 40 and offer["area"]["radius_m"] == 2500

        await eventually(saved, timeout=10)
    await page.reload()
    await expect(page.get_by_label("Value")).to_have_value("40")
    await expect(page.get_by_label("Radius (metres)")).to_have_value("2500")


async def test_an_operator_reads_a_bookings_history_and_cancels_it(
    page: Page, network: Network
) -> None:
    async with httpx.AsyncClient(base_url=network.url) as http:
        token = (
            await http.post(
                "/api/v1/auth/token", data={"username": DRIVER_EMAIL, "password": DRIVER_PASSWORD}
            )
        ).json()["access_token"]
        start = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
        booked = await http.post(
            "/api/v1/reservations",
            json={"station_id": "BOS-1", "connector_id": 1, "start": start, "minutes": 30},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "console-test-1"},
        )
        assert booked.status_code == 201, booked.text
    booking = booked.json()["id"]
    await sign_in(page, network)
    await page.get_by_role("link", name="Reservations").click()
    await page.get_by_label("Status").select_option("scheduled")
    item = page.locator(f"details[data-id='{booking}']")
    await item.locator("summary").click()
    await expect(item.get_by_role("table")).to_contain_text("scheduled")
    await no_serious_accessibility_violation(page, "reservations")
    await screenshot(page, "reservations")
    await item.get_by_role("button", name="Cancel booking").click()
    await page.get_by_role("dialog").get_by_role("button", name="Cancel booking").click()
    await page.get_by_label("Status").select_option("")
    cancelled = page.locator(f"details[data-id='{booking}']")
    await expect(cancelled.locator(".badge")).to_have_text("cancelled")
    async with network.engine.connect() as connection:
        assert await connection.scalar(drivers.select().where(drivers.c.email == DRIVER_EMAIL))


async def test_an_operator_finds_a_stuck_session_exports_it_and_closes_it_with_a_reason(
    page: Page, network: Network
) -> None:
    charger = network.stations["BOS-2"]
    assert await charger.start_session(1, CARD)
    try:
        async with asyncio.timeout(10):
            while not (running := await network.services.charging.find(
                SessionFilter(station_id="BOS-2", active=True), None, 10
            )):  # fmt: skip
                await asyncio.sleep(0.1)
        stuck = running[0].id
        await sign_in(page, network)
        await page.get_by_role("link", name="Sessions").click()
        await page.get_by_label("Station").fill("BOS-2")
        await page.get_by_label("State").select_option("true")
        await page.get_by_role("button", name="Show sessions").click()
        row = page.locator(f"#sessions-table tbody tr[data-id='{stuck}']")
        await expect(row).to_contain_text("running")
        await expect(page.locator("#sessions-table tbody tr")).to_have_count(1)
        await no_serious_accessibility_violation(page, "sessions")
        await screenshot(page, "sessions")

        # The export is the API's CSV for the same filters, fetched with the operator's token.
        async with page.expect_download() as downloading:
            await page.get_by_role("button", name="Export these sessions as CSV").click()
        exported = await (await downloading.value).path()
        lines = exported.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("id,station_id,evse_id")
        assert [line.split(",")[0] for line in lines[1:]] == [str(stuck)]

        await row.get_by_role("link", name=f"#{stuck}").click()
        await expect(page.get_by_role("heading", name=f"Session #{stuck}")).to_be_visible()
        await expect(page.locator("#session-facts")).to_contain_text(CARD)
        await page.get_by_label("Reason (kept as its stop reason)").fill("stuck: no StopTx")
        await page.get_by_role("button", name="Close session").click()
        dialog = page.get_by_role("dialog", name=f"Close session #{stuck}?")
        await expect(dialog).to_contain_text("never reported the end")
        await no_serious_accessibility_violation(page, "close a session")
        await screenshot(page, "session-close")
        await dialog.get_by_role("button", name="Close session").click()
        await expect(page.locator("#session-facts")).to_contain_text("stuck: no StopTx")
        state = page.locator("#session-facts div").filter(
            has=page.locator("dt", has_text=exact("State"))
        )
        await expect(state.locator("dd")).to_have_text("ended")
        await expect(page.locator("#close-session")).to_be_hidden()
        await no_serious_accessibility_violation(page, "session")
        await screenshot(page, "session-closed")
        closed = await network.services.charging.by_id(stuck)
        assert closed.stopped_at is not None
        assert closed.stop_reason == "stuck: no StopTx"
    finally:
        await charger.stop_session(1)


async def test_the_sessions_list_shows_one_drivers_sessions_by_email_or_account_id(
    page: Page, network: Network
) -> None:
    async with network.engine.connect() as connection:
        driver = await connection.scalar(
            drivers.select().with_only_columns(drivers.c.id).where(drivers.c.email == DRIVER_EMAIL)
        )
    card = "DRIVERS-OWN-CARD"
    async with httpx.AsyncClient(base_url=network.url) as http:
        added = await http.post(
            "/api/v1/operator/id-tokens",
            json={"token": card, "driver_id": driver},
            headers=network.operator,
        )
        assert added.status_code == 201, added.text
    charger = network.stations["BOS-1"]
    for tag in (card, CARD):  # one session of the driver's, one of a card nobody holds
        assert await charger.start_session(1, tag)
        try:
            async with asyncio.timeout(10):
                while not await network.services.charging.find(
                    SessionFilter(id_tag=tag, active=True), None, 1
                ):
                    await asyncio.sleep(0.1)
        finally:
            await charger.stop_session(1, "EVDisconnected")  # unplugged: free for the next
    theirs = {s.id for s in await network.services.charging.find(
        SessionFilter(driver_id=driver), None, 100
    )}  # fmt: skip
    others = {s.id for s in await network.services.charging.find(
        SessionFilter(id_tag=CARD), None, 100
    )}  # fmt: skip
    assert theirs
    assert others
    assert not theirs & others

    await sign_in(page, network)
    await page.get_by_role("link", name="Sessions").click()
    rows = page.locator("#sessions-table tbody tr")
    await expect(rows.first).to_be_visible()
    for given in (DRIVER_EMAIL, driver):
        await page.get_by_label("Driver").fill(given)
        await page.get_by_role("button", name="Show sessions").click()
        await expect(rows).to_have_count(len(theirs))
        assert {int(str(await r.get_attribute("data-id"))) for r in await rows.all()} == theirs
        await expect(rows.first).to_contain_text(card)
    await no_serious_accessibility_violation(page, "sessions of a driver")
    await screenshot(page, "sessions-of-a-driver")
    await page.get_by_label("Driver").fill("nobody@console.example")
    await page.get_by_role("button", name="Show sessions").click()
    await expect(page.locator(".result")).to_have_text(
        "No account has the e-mail address nobody@console.example."
    )
