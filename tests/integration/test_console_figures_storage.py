"""The console's figures from the real tables, on both databases: today's (from midnight in
the console's time zone) and one offer's by hour or day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.test_nearby import plan
from tests.unit.fakes import FakeClock
from voltbook.console_figures import FiguresService
from voltbook.stations.history import StatusHistoryService
from voltbook.stations.model import ConnectorStatus, StationPlace
from voltbook.storage.tables import (
    charging_sessions,
    drivers,
    offer_deliveries,
    offers,
    reservation_history,
    reservations,
)
from voltbook.storage.unit_of_work import SqlUnitOfWork

# 10:00 in New York is 15:00 UTC: "today" there began at 05:00 UTC.
NOW = datetime(2026, 12, 1, 15, tzinfo=UTC)
NY_MIDNIGHT = datetime(2026, 12, 1, 5, tzinfo=UTC)


async def fill(engine: AsyncEngine) -> int:
    """Two sessions, two bookings and deliveries either side of New York's midnight; the
    offer's id."""
    hour = timedelta(hours=1)
    async with SqlUnitOfWork(engine, FakeClock(NOW)) as uow:
        await uow.stations.add("FIG1", None, "not-a-real-hash")
        await uow.commit()
    async with engine.begin() as c:
        await c.execute(drivers.insert().values(
            id="d1", email="d1@example.org", password_hash="x", role="driver", created_at=NOW))  # fmt: skip
        for started, wh in [(NY_MIDNIGHT - hour, 9_000.0), (NY_MIDNIGHT + hour, 12_000.0),
                            (NOW - hour, 3_000.0)]:  # fmt: skip
            await c.execute(charging_sessions.insert().values(
                station_id="FIG1", evse_id=1, started_at=started, meter_start_wh=0.0,
                energy_wh=wh))  # fmt: skip
        for n, made in enumerate([NY_MIDNIGHT - hour, NY_MIDNIGHT + 2 * hour]):
            booking = (await c.execute(reservations.insert().values(
                driver_id="d1", station_id="FIG1", evse_id=1, any_evse=False, starts_at=made,
                ends_at=made + hour, grace_s=600, status="expired", id_tag=f"T{n}",
                created_at=made).returning(reservations.c.id))).scalar_one()  # fmt: skip
            await c.execute(reservation_history.insert().values(
                reservation_id=booking, at=made + hour, status="expired", change="expired",
                reason="no session within the grace period"))  # fmt: skip
        offer = (await c.execute(offers.insert().values(
            title="Quiet hour", kind="percent_off", value=20, lat=42.36, lon=-71.06, radius_m=900,
            trigger="area_entry", starts_at=NOW - 48 * hour, ends_at=NOW + hour,
            max_per_driver=3, created_at=NOW - 48 * hour).returning(offers.c.id))).scalar_one()  # fmt: skip
        for sent, opened, redeemed, idle in [
            (NOW - 30 * hour, NOW - 29 * hour, None, None),  # yesterday (New York)
            (NOW - 3 * hour, NOW - 3 * hour + timedelta(minutes=5), NOW - 2 * hour, 42.0),
            (NOW - 2 * hour, None, None, None),
        ]:
            await c.execute(offer_deliveries.insert().values(
                offer_id=offer, driver_id="d1", station_id="FIG1", channel="live", sent_at=sent,
                opened_at=opened, redeemed_at=redeemed, idle_minutes_filled=idle))  # fmt: skip
    return int(offer)


class Places:
    """Where stations stand, as the fleet tells it: read from the stations table."""

    def __init__(self, engine: AsyncEngine, clock: FakeClock) -> None:
        self._engine = engine
        self._clock = clock

    async def places(self) -> list[StationPlace]:
        async with SqlUnitOfWork(self._engine, self._clock, read_only=True) as uow:
            return await uow.stations.places()


def service(engine: AsyncEngine, clock: FakeClock, zone: str) -> FiguresService:
    def uow(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock, read_only=read_only)

    history = StatusHistoryService(uow, clock)
    return FiguresService(uow, clock, history, Places(engine, clock), zone)


async def test_todays_figures_count_from_midnight_in_the_consoles_time_zone(
    engine: AsyncEngine,
) -> None:
    await fill(engine)
    clock = FakeClock(NOW)
    figures = service(engine, clock, "America/New_York")
    # Connector 1 charged from 09:00 to 10:00 New York time; connector 2 sat available.
    history = StatusHistoryService(
        lambda read_only=False: SqlUnitOfWork(engine, clock, read_only=read_only), clock
    )
    history.connector_changed(
        "FIG1", 1, 1, ConnectorStatus.AVAILABLE, NY_MIDNIGHT - timedelta(hours=3)
    )
    history.connector_changed(
        "FIG1", 2, 1, ConnectorStatus.AVAILABLE, NY_MIDNIGHT - timedelta(hours=3)
    )
    history.connector_changed("FIG1", 1, 1, ConnectorStatus.CHARGING, NOW - timedelta(hours=1))
    await history.flush()

    today = await figures.today()
    assert today.start == NY_MIDNIGHT
    assert today.time_zone == "America/New_York"
    c = today.counts
    assert (c.sessions, c.energy_wh) == (2, 15_000.0)
    assert (c.bookings, c.no_shows) == (1, 2)  # the first booking expired after midnight
    assert (c.offers_sent, c.offers_opened, c.offers_redeemed) == (2, 1, 1)
    assert c.idle_minutes_filled == 42.0
    assert (today.connectors, today.idle_connectors) == (2, 1)
    assert round(today.charging_share, 4) == round(1 / 20, 4)  # 1 h of two connectors, 10 h each

    in_utc = await service(engine, clock, "UTC").today()
    assert in_utc.start == datetime(2026, 12, 1, tzinfo=UTC)
    assert in_utc.counts.sessions == 3


async def test_an_offers_figures_by_day_and_by_hour(engine: AsyncEngine) -> None:
    offer = await fill(engine)
    figures = service(engine, FakeClock(NOW), "America/New_York")
    days = await figures.offer_series(offer, NOW - timedelta(days=2), NOW, timedelta(days=1))
    assert [(b.start.astimezone(UTC).day, b.sent, b.opened, b.redeemed, b.idle_minutes_filled)
            for b in days] == [(29, 0, 0, 0, 0.0), (30, 1, 1, 0, 0.0), (1, 2, 1, 1, 42.0)]  # fmt: skip
    hours = await figures.offer_series(offer, NOW - timedelta(hours=4), NOW, timedelta(hours=1))
    assert [(b.sent, b.opened, b.redeemed) for b in hours] == [
        (0, 0, 0), (1, 1, 0), (1, 0, 1), (0, 0, 0),
    ]  # fmt: skip


async def test_the_idle_map_puts_each_site_where_it_stands_with_its_available_share(
    engine: AsyncEngine,
) -> None:
    clock = FakeClock(NOW)
    async with SqlUnitOfWork(engine, clock) as uow:
        await uow.sites.upsert_imported([plan(1, 42.36, -71.06), plan(2, 42.35, -71.07)])
        await uow.stations.add("NOWHERE", None, "not-a-real-hash")
        await uow.commit()
    history = StatusHistoryService(
        lambda read_only=False: SqlUnitOfWork(engine, clock, read_only=read_only), clock
    )
    start = NOW - timedelta(hours=4)
    for station in ("T-1", "T-2", "NOWHERE"):
        history.connector_changed(station, 1, 1, ConnectorStatus.AVAILABLE, start)
    history.connector_changed("T-2", 1, 1, ConnectorStatus.CHARGING, NOW - timedelta(hours=3))
    await history.flush()

    spots = await service(engine, clock, "UTC").idle_map(start, NOW)
    assert [(s.station_ids, s.name, s.lat, s.lon, s.available_share) for s in spots] == [
        (("T-1",), "site 1", 42.36, -71.06, 1.0),
        (("T-2",), "site 2", 42.35, -71.07, 0.25),
    ]  # the station placed nowhere has no point on the map
