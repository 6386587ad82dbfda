"""What `voltbook demo` prepares beside the operator: a ready driver account with a vehicle,
and a running offer near the simulated chargers, so a newcomer receives one."""

from __future__ import annotations

import contextlib
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from voltbook.core.errors import Conflict
from voltbook.drivers.privacy_model import Preferences
from voltbook.drivers.vehicle_model import VehicleSpec
from voltbook.offers.model import Area, OfferKind, Trigger
from voltbook.offers.rules import OfferSpec
from voltbook.services import Services

DOWNTOWN_BOSTON = (42.3555, -71.0605)
DRIVER_EMAIL = "driver@voltbook.example"
OFFER_TITLE = "20% off at an idle charger downtown"


def demo_password(data_dir: Path, name: str) -> str:
    """A password made once for the demo account `name`, kept in the data directory."""
    path = data_dir / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(secrets.token_urlsafe(12), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()


async def demo_driver(services: Services, data_dir: Path) -> tuple[str, str]:
    """The demo driver (consents on, one vehicle), made once; its e-mail and password."""
    password = demo_password(data_dir, "demo-driver")
    with contextlib.suppress(Conflict):  # made by an earlier demo, with this password
        driver = await services.accounts.register(DRIVER_EMAIL, password)
        await services.privacy.update_me(
            driver.id,
            Preferences(consent_location=True, consent_offers=True, time_zone="America/New_York"),
        )
        await services.vehicles.create(
            driver.id,
            VehicleSpec(
                "Demo car", 64.0, ("CCS1", "J1772", "NACS"), max_ac_kw=11.0, max_dc_kw=150.0
            ),
        )
    return DRIVER_EMAIL, password


async def demo_offer(services: Services, operator_id: str | None = None) -> None:
    """A running offer around downtown Boston: a charger idle for a few minutes is offered to
    the drivers nearby who share their position (so a newcomer receives one soon)."""
    now = datetime.now(UTC)
    running = [
        o
        for o in await services.offers.page(None, 100)
        if o.title == OFFER_TITLE and o.live(now) and o.ends_at - now > timedelta(days=1)
    ]
    if running:
        return
    lat, lon = DOWNTOWN_BOSTON
    await services.offers.create(
        operator_id,
        OfferSpec(
            title=OFFER_TITLE,
            kind=OfferKind.PERCENT_OFF,
            value=20,
            area=Area(lat, lon, 5_000),
            trigger=Trigger.IDLE_STATION,
            idle_minutes=2,
            ends_at=now + timedelta(days=30),
            max_per_driver=1,
        ),
    )
