"""Forecasts on both databases: they learn from the stored status history and bookings,
keep the newest models, and answer a station's forecast from what is stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.unit.fakes import FakeClock
from voltbook.core.connectors import EvseRef
from voltbook.core.errors import NotFound
from voltbook.forecasts import synthetic
from voltbook.forecasts.service import KEEP_MODELS, ForecastService
from voltbook.reservations.model import HistoryEntry, Reservation, Status
from voltbook.storage.records import forecast_models
from voltbook.storage.tables import connectors, drivers
from voltbook.storage.unit_of_work import SqlUnitOfWork

HISTORY = synthetic.generate(synthetic.Parameters(stations=3, weeks=2, seed=3))
END = HISTORY.end


def booking(start_in: timedelta, status: Status) -> Reservation:
    created = END - timedelta(hours=1)
    return Reservation(
        id=0,
        driver_id="D1",
        station_id="SYN-0000",
        evse_id=1,
        any_evse=False,
        starts_at=END + start_in,
        ends_at=END + start_in + timedelta(hours=1),
        grace=timedelta(minutes=15),
        status=status,
        id_tag="TAG1",
        created_at=created,
        history=(HistoryEntry(created, status, None, "booked", EvseRef("SYN-0000", 1)),),
    )


@pytest.fixture
async def stored(engine: AsyncEngine) -> ForecastService:
    clock = FakeClock(END)

    def uow(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock, read_only=read_only)

    async with uow() as work:
        for number in range(3):
            await work.stations.add(f"SYN-{number:04d}", None, "not-a-real-hash")
        await work.status_history.add_many(HISTORY.rows)
        await work.commit()
    async with engine.begin() as connection:
        await connection.execute(
            drivers.insert().values(
                id="D1", email="d1@example.org", password_hash="x", role="driver", created_at=END
            )
        )
    async with uow() as work:
        await work.reservations.add(booking(timedelta(minutes=20), Status.SCHEDULED))
        await work.reservations.add(
            replace(booking(timedelta(minutes=50), Status.CANCELLED), evse_id=2)
        )
        await work.commit()
    return ForecastService(uow, clock, train_days=14, step_min=15)


async def test_the_bookings_it_reads_are_the_ones_still_standing(
    stored: ForecastService, engine: AsyncEngine
) -> None:
    async with SqlUnitOfWork(engine, FakeClock(END), read_only=True) as work:
        found = await work.forecasts.bookings(None, END, END + timedelta(hours=1))
    assert [(b.station_id, b.starts_at - END) for b in found] == [
        ("SYN-0000", timedelta(minutes=20))
    ]


async def test_without_a_model_the_last_value_answers_and_says_so(
    stored: ForecastService,
) -> None:
    forecast = await stored.forecast("SYN-0001")
    assert forecast.fallback == "last_value"
    assert forecast.model_trained_at is None
    assert {h.probability_free for h in forecast.horizons} <= {0.0, 1.0}


async def test_a_model_trained_on_stored_history_is_kept_and_answers(
    stored: ForecastService, engine: AsyncEngine
) -> None:
    model = await stored.train(force=True)
    assert model is not None
    assert model.trained_at == END
    assert sorted(model.horizons) == [15, 30, 60]
    for _ in range(KEEP_MODELS + 1):
        await stored.train(force=True)
    async with SqlUnitOfWork(engine, FakeClock(END), read_only=True) as work:
        kept = await work.forecasts.latest()
    async with engine.connect() as connection:
        rows = await connection.scalar(sa.select(sa.func.count()).select_from(forecast_models))
    assert rows == KEEP_MODELS
    assert kept is not None
    assert kept.horizons == model.horizons  # the same history, the same weights

    forecast = await stored.forecast("SYN-0000")
    assert forecast.fallback is None
    assert [h.minutes for h in forecast.horizons] == [15, 30, 60]
    assert all(0.0 <= h.probability_free <= 1.0 for h in forecast.horizons)

    assert await stored.refresh() == 3
    assert stored.likely_free("SYN-0000") == forecast.likely_free
    assert stored.likely_free_sites == {}  # none of these stations is at a known site


async def test_a_forecast_for_a_standard_reads_the_evses_that_have_it(
    stored: ForecastService, engine: AsyncEngine
) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            connectors.insert(),
            [
                {
                    "station_id": "SYN-0000",
                    "evse_id": 1,
                    "connector_id": 1,
                    "standard": "IEC_62196_T1",
                },
                {
                    "station_id": "SYN-0000",
                    "evse_id": 2,
                    "connector_id": 1,
                    "standard": "IEC_62196_T1_COMBO",
                },
                {"station_id": "SYN-0000", "evse_id": 2, "connector_id": 2, "standard": "CHADEMO"},
            ],
        )
    async with SqlUnitOfWork(engine, FakeClock(END), read_only=True) as work:
        assert await work.forecasts.evses_fitting("SYN-0000", frozenset({"CHADEMO"})) == {2}
        both = frozenset({"IEC_62196_T1", "IEC_62196_T1_COMBO"})
        assert await work.forecasts.evses_fitting("SYN-0000", both) == {1, 2}
    none = await stored.forecast("SYN-0000", frozenset({"TESLA_S"}))
    assert none.fallback == "no_fitting_connector"


async def test_a_station_that_does_not_exist_has_no_forecast(stored: ForecastService) -> None:
    with pytest.raises(NotFound):
        await stored.forecast("NOPE")
