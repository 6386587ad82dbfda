"""Offers as `voltbook serve` wires them: connector status and session starts reach the
engine over the bus, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from voltbook import bootstrap
from voltbook.config import Settings
from voltbook.offers.model import Area, OfferKind, Trigger
from voltbook.offers.rules import OfferSpec
from voltbook.stations.model import ConnectorStatus
from voltbook.storage.tables import drivers, id_tokens, offer_deliveries, sites, vehicles

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
LAT, LON = 42.3601, -71.0589


class Clock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return (self.at - T0).total_seconds()


@pytest.mark.parametrize("card", ["at the start", "after the cable (2.0.1)"])
async def test_a_session_started_over_ocpp_redeems_the_offer_with_the_idle_minutes_it_filled(
    engine: AsyncEngine, tmp_path: Path, card: str
) -> None:
    clock = Clock(T0 - timedelta(minutes=30))
    async with engine.begin() as c:
        await c.execute(
            sites.insert().values(
                id=1, source="test", source_id="1", name="Garage", country="US", lat=LAT,
                lon=LON, created_at=T0, updated_at=T0,
            )
        )  # fmt: skip
        await c.execute(
            drivers.insert().values(
                id="ann", email="ann@example.org", password_hash="x", role="driver",
                consent_offers=True, created_at=T0,
            )
        )  # fmt: skip
        await c.execute(
            vehicles.insert().values(
                id="car-1", driver_id="ann", name="Car", battery_kwh=60.0,
                standards="IEC_62196_T1_COMBO", created_at=T0,
            )
        )  # fmt: skip
        await c.execute(
            id_tokens.insert().values(
                token="TAG-ANN", driver_id="ann", status="Accepted", created_at=T0
            )
        )
    settings = Settings(data_dir=tmp_path, database_url=str(engine.url))
    services = bootstrap.build_services(settings, engine, clock)
    await services.fleet.register("GARAGE-1", "a-long-station-password", 1)
    # The charger reports its connector free half an hour before the offer starts.
    await services.fleet.status_reported("GARAGE-1", 1, 1, ConnectorStatus.AVAILABLE, None)
    clock.at = T0
    offer = await services.offers.create(
        "op",
        OfferSpec(
            "Half price", OfferKind.PERCENT_OFF, 50.0, Area(LAT, LON, 2_000.0),
            Trigger.AREA_ENTRY, T0 + timedelta(hours=2),
        ),
    )  # fmt: skip
    assert offer.id is not None
    await services.offers.refresh()

    await services.offers.position_reported("ann", LAT + 0.1, LON, clock.at)
    assert await services.offers.position_reported("ann", LAT + 0.001, LON, clock.at) == 1

    clock.at = T0 + timedelta(minutes=12)
    await services.fleet.status_reported("GARAGE-1", 1, 1, ConnectorStatus.PREPARING, None)
    clock.at = T0 + timedelta(minutes=13)
    if card == "at the start":
        session, _ = await services.charging.start("GARAGE-1", 1, 1, "TAG-ANN", 0.0, clock.at)
    else:  # plugged in first; the card is shown a moment later
        session, _ = await services.charging.start(
            "GARAGE-1", 1, 1, None, 0.0, clock.at, external_id="tx-1"
        )
        assert (await services.offers.stats(offer.id)).redeemed == 0
        await services.charging.identify("GARAGE-1", "tx-1", "TAG-ANN", clock.at)

    stats = await services.offers.stats(offer.id)
    assert (stats.sent, stats.redeemed) == (1, 1)
    assert stats.idle_minutes_filled == 12.0  # from the offer's start until it was taken
    async with engine.connect() as c:
        stored = (await c.execute(sa.select(offer_deliveries.c.session_id))).scalars().all()
    assert stored == [session.id]
