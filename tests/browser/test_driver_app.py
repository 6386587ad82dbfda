"""The driver app in a real browser, on a phone: sign up, find, book, charge, stop."""

from __future__ import annotations

import re
import secrets

from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import Phone, WebServer

PASSWORD = "a good password 123"


def tab(page: Page, name: str) -> Locator:
    """A tab of the bar at the bottom."""
    return page.get_by_role("navigation", name="Screens").get_by_role("link", name=name)


async def sign_up(phone: Phone, base: str = "") -> str:
    """A new account, made through the app; its e-mail address."""
    page = phone.page
    email = f"driver-{secrets.token_hex(4)}@example.org"
    await page.goto(f"{base}/")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await phone.check_a11y("sign in")
    await page.get_by_role("button", name="New here? Create an account").click()
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await phone.screenshot("sign-up")
    await page.get_by_role("button", name="Create account").click()
    # Two argon2id hashes (sign-up, sign-in) on a busy machine may take seconds.
    await expect(page.get_by_role("heading", name="Find a charger")).to_be_visible(timeout=30_000)
    return email


async def test_a_new_driver_finds_books_charges_and_sees_the_session(
    phone: Phone, web_server: WebServer
) -> None:
    page = phone.page
    await sign_up(phone)
    nearest = page.locator("#nearest")
    await expect(nearest).to_be_visible()
    await expect(page.locator(".leaflet-marker-icon.pin.available").first).to_be_visible()
    await phone.screenshot("find")
    await phone.check_a11y("find")

    await nearest.click()
    await expect(page.get_by_role("button", name="Reserve now").first).to_be_visible()
    await phone.screenshot("station")
    await phone.check_a11y("station")
    await page.get_by_role("button", name="Reserve now").first.click()

    await expect(page.get_by_role("heading", name="My bookings")).to_be_visible()
    await expect(page.get_by_text("Held for you").first).to_be_visible(timeout=20_000)
    await phone.screenshot("held")
    await phone.check_a11y("bookings")

    await page.get_by_role("link", name="Start charging").first.click()
    await page.get_by_role("button", name="Start charging").click()
    state = page.locator("#charge-state")
    await expect(state).to_have_attribute("data-state", "charging", timeout=20_000)
    energy = page.locator("#energy")
    await expect(energy).not_to_have_text("0.00 kWh", timeout=20_000)
    first = await energy.text_content()
    await expect(energy).not_to_have_text(first or "", timeout=20_000)
    await phone.screenshot("charging")
    await phone.check_a11y("charging")

    await page.get_by_role("button", name="Stop charging").click()
    await expect(state).to_have_attribute("data-state", "finished", timeout=20_000)
    sessions = page.locator("h3:has-text('My sessions') + ul li")
    await expect(sessions.first).to_contain_text(re.compile(r"\d+\.\d\d kWh"))
    await expect(sessions.first).to_contain_text("finished")
    await phone.screenshot("finished")


async def test_every_other_screen_is_usable_and_accessible(
    phone: Phone, web_server: WebServer
) -> None:
    page = phone.page
    await sign_up(phone)
    await expect(page.locator("#nearest")).to_be_visible()

    await page.get_by_label("Or search around a place").fill("021")
    await page.get_by_role("button", name="Search", exact=True).click()
    await expect(page.get_by_role("status").filter(has_text="places within")).to_contain_text("021")

    await tab(page, "Bookings").click()
    await expect(page.get_by_text("No bookings yet.")).to_be_visible()
    await phone.check_a11y("bookings, empty")

    await tab(page, "Charge").click()
    await expect(page.get_by_label("Charger ID")).to_be_visible()
    await phone.check_a11y("charge, typed EVSE ID")
    await page.get_by_label("Charger ID").fill(web_server.stations[2])
    await page.get_by_label("Connector number").fill("1")
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("button", name="Start charging")).to_be_visible()
    await phone.screenshot("charge-start")
    await phone.check_a11y("charge, ready to start")

    await tab(page, "Me").click()
    await expect(page.get_by_text("Signed in as")).to_be_visible()
    await phone.check_a11y("me")
    await page.get_by_role("link", name="My vehicle").click()
    await page.get_by_text("Add a vehicle").click()
    await page.get_by_label("Name").fill("Family car")
    await page.get_by_label("Battery size (kWh)").fill("60")
    await page.get_by_label("J1772").check()
    await page.get_by_label("NACS").check()
    await page.get_by_label("Max AC power (kW)").fill("11")
    await page.get_by_role("button", name="Add vehicle").click()
    await expect(
        page.get_by_role("heading", name="Family car (used for suggestions)")
    ).to_be_visible()
    await page.get_by_label("Battery level now (%)").fill("35")
    await page.get_by_role("button", name="Save level").click()
    await expect(page.locator("#toast")).to_contain_text("Battery level saved")
    await expect(page.get_by_role("heading", name="Chargers within reach")).to_be_visible()
    await expect(page.locator("a.station").first).to_be_visible()
    await phone.screenshot("vehicle")
    await phone.check_a11y("my vehicle")


async def test_a_driver_stays_signed_in_changes_password_signs_out_and_deletes_the_account(
    phone: Phone, web_server: WebServer
) -> None:
    page = phone.page
    email = await sign_up(phone)
    await page.reload()  # the refresh cookie signs the app in again; no token was stored
    await expect(page.get_by_role("heading", name="Find a charger")).to_be_visible()
    stored = await page.evaluate(
        "JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage})"
    )
    assert "eyJ" not in stored  # no token in the browser's storage
    assert "vb_app_refresh" not in await page.evaluate("document.cookie")  # HttpOnly

    await tab(page, "Me").click()
    await page.get_by_role("link", name="Privacy and account").click()
    await page.get_by_label("Current password").fill(PASSWORD)
    await page.get_by_label("New password").fill("another password 456")
    await page.get_by_role("button", name="Change password").click()
    await expect(page.locator("#toast")).to_contain_text("Password changed")
    await page.get_by_role("button", name="Forget my location").click()
    await expect(page.locator("#toast")).to_contain_text("Your location is forgotten")

    await tab(page, "Me").click()
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.reload()  # signed out for good: the sign-in was revoked
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password").fill("another password 456")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.get_by_role("heading", name="Find a charger")).to_be_visible(timeout=30_000)
    await tab(page, "Me").click()
    await page.get_by_role("link", name="Privacy and account").click()
    await page.get_by_label("Yes, delete my account for good").check()
    await page.get_by_role("button", name="Delete my account").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password").fill("another password 456")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "wrong e-mail address or password", timeout=30_000
    )
    await phone.screenshot("deleted")
