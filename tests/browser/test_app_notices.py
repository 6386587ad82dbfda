"""Offers and notices in the driver app: live while it is open, Web Push while it is closed
(the push handler fired through the DevTools protocol, as headless Chromium refuses
`pushManager.subscribe()`)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.async_api import expect

from tests.browser.conftest import (
    DOWNTOWN,
    OPERATOR_EMAIL,
    OPERATOR_PASSWORD,
    Phone,
    WebServer,
    eventually,
)
from tests.browser.test_driver_app import sign_up, tab
from tests.local_push_service import local_push_service
from voltbook.core.errors import Unavailable
from voltbook.offers.model import Area, OfferKind, Trigger
from voltbook.offers.service import OfferSpec


async def test_an_offer_nearby_arrives_while_the_app_is_open(
    phone: Phone, web_server: WebServer
) -> None:
    page = phone.page
    await sign_up(phone)
    await tab(page, "Me").click()
    await page.get_by_role("link", name="Privacy and account").click()
    await page.get_by_label("Share my location").check()
    await expect(page.locator("#toast")).to_contain_text("Share my location: on")
    await page.get_by_label("Send me offers").check()
    await expect(page.locator("#toast")).to_contain_text("Send me offers: on")
    await phone.screenshot("privacy")
    await phone.check_a11y("privacy and account")
    await web_server.services.offers.create(
        None,
        OfferSpec(
            title="Half price this hour",
            kind=OfferKind.PERCENT_OFF,
            value=50,
            area=Area(DOWNTOWN["latitude"], DOWNTOWN["longitude"], 2_000),
            trigger=Trigger.AREA_ENTRY,
            ends_at=datetime.now(UTC) + timedelta(hours=1),
            station_ids=(web_server.stations[0],),
        ),
    )

    await tab(page, "Find").click()
    locate = page.get_by_role("button", name="Use my location")
    await phone.context.set_geolocation({"latitude": 42.30, "longitude": -71.25})  # outside
    await locate.click()
    await expect(page.get_by_role("status").filter(has_text="places within")).to_be_visible()
    await phone.context.set_geolocation(DOWNTOWN)  # the driver comes into the offer's area
    await locate.click()
    toast = page.locator("#toast")
    await expect(toast).to_contain_text("Offer: Half price this hour (50% off)")
    await expect(page.locator("#inbox-count")).to_have_text("1")
    await expect(page.locator(".offer").first).to_contain_text("Half price this hour")
    await phone.screenshot("offer-arrived")

    await tab(page, "Inbox").click()
    await expect(
        page.locator("main").get_by_text("Offer: Half price this hour (50% off)")
    ).to_be_visible()
    await expect(page.locator("#inbox-count")).to_be_hidden()
    await phone.screenshot("inbox")
    await phone.check_a11y("inbox")


async def test_a_notice_for_a_closed_app_comes_by_web_push_and_opens_its_screen(
    phone: Phone, web_server: WebServer
) -> None:
    page = phone.page
    await sign_up(phone)
    state = await page.evaluate("navigator.serviceWorker.ready.then(r => r.active.state)")
    assert state in ("activating", "activated")
    station_id = web_server.stations[1]
    site = await page.evaluate(
        "(id) => fetch('/api/v1/stations/nearby?lat=42.3555&lon=-71.0605&radius_m=5000&limit=50')"
        ".then(r => r.json()).then(b => b.items.find(s => s.stations.some(x => x.id === id)).id)",
        station_id,
    )
    await page.goto(f"/#/station/{site}")
    await page.get_by_role("button", name="Reserve now").first.click()
    await expect(page.get_by_role("heading", name="My bookings")).to_be_visible()
    booking_id = int(page.url.rsplit("/", 1)[1])
    await expect(page.get_by_text("Held for you").first).to_be_visible(timeout=20_000)

    async with local_push_service() as pushes:
        key = web_server.services.push.public_key
        endpoint, keys = pushes.subscribe(application_server_key=key)
        # Stands in for pushManager.subscribe(): the app keeps this subscription as its own.
        await page.evaluate(
            """async ([endpoint, p256dh, auth]) => {
                const api = await import(`/assets/${document.documentElement.dataset.build}/js/api.js`);
                await api.pushSubscribe({endpoint, keys: {p256dh, auth}});
            }""",
            [endpoint, keys.p256dh, keys.auth],
        )
        await page.goto("about:blank")  # the app is closed: notices go by Web Push

        async with httpx.AsyncClient(base_url=web_server.url) as http:
            signed = await http.post(
                "/api/v1/auth/token",
                data={"username": OPERATOR_EMAIL, "password": OPERATOR_PASSWORD},
            )
            operator = {"Authorization": f"Bearer {signed.json()['access_token']}"}
            cancelled = await http.delete(f"/api/v1/reservations/{booking_id}", headers=operator)
            assert cancelled.status_code == 200, cancelled.text

        def received() -> list[dict[str, Any]]:
            return [json.loads(r.plaintext) for r in pushes.to(endpoint)]

        async def pushed() -> bool:
            return any(n.get("event") == "cancelled" for n in received())

        await eventually(pushed)
        notice = next(n for n in received() if n.get("event") == "cancelled")
        assert notice["type"] == "reservation.updated"

    await page.goto("/")
    cdp = await phone.context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(e["registrations"]),
    )
    await cdp.send("ServiceWorker.enable")

    async def registered() -> bool:
        return any(not r["isDeleted"] for r in registrations)

    await eventually(registered)
    registration = next(r for r in registrations if not r["isDeleted"])
    await cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": web_server.url,
            "registrationId": registration["registrationId"],
            "data": json.dumps(notice),
        },
    )

    async def shown() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await page.evaluate(
            "navigator.serviceWorker.ready.then(r => r.getNotifications())"
            ".then(ns => ns.map(n => ({title: n.title, body: n.body, data: n.data})))"
        )
        return found

    async def one_shown() -> bool:
        return bool(await shown())

    await eventually(one_shown)
    [notification] = await shown()
    assert notification["title"] == "Booking cancelled"
    assert notification["data"]["screen"] == f"#/reservations/{booking_id}"

    # A tap opens the screen the notification names: the booking, cancelled.
    await page.goto("/" + notification["data"]["screen"])
    await expect(page.locator(f"#r-{booking_id}")).to_contain_text("Cancelled", timeout=15_000)
    await phone.screenshot("opened-from-push")
    await asyncio.sleep(0)


async def test_the_open_app_answers_the_servers_location_and_vehicle_queries(
    phone: Phone, web_server: WebServer
) -> None:
    page = phone.page
    await sign_up(phone)
    driver_id: str = await page.evaluate(
        """async () => {
            const api = await import(`/assets/${document.documentElement.dataset.build}/js/api.js`);
            await api.updateMe({consent_location: true});
            await api.addVehicle({name: "Van", battery_kwh: 75, standards: ["CCS1"]});
            return (await api.me()).id;
        }"""
    )
    await page.reload()  # the app loads the account (consent) and the saved vehicle
    await expect(page.get_by_role("heading", name="Find a charger")).to_be_visible()

    async def connected() -> bool:
        try:
            await web_server.services.live.ask(driver_id, "location", timeout_s=10)
        except Unavailable:  # the live channel is not open yet
            return False
        return True

    await eventually(connected)
    where = await web_server.services.live.ask(driver_id, "location", timeout_s=10)
    assert abs(where["lat"] - DOWNTOWN["latitude"]) < 1e-6
    assert abs(where["lon"] - DOWNTOWN["longitude"]) < 1e-6
    vehicle = await web_server.services.live.ask(driver_id, "vehicle", timeout_s=10)
    assert vehicle["vehicle_id"]
