"""A station's availability forecast."""

from __future__ import annotations

from fastapi import APIRouter

from voltbook.api.deps import ServicesDep, StationPath
from voltbook.api.forecast_schemas import ForecastOut
from voltbook.api.problems import problem_responses
from voltbook.core.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["stations"])


@router.get(
    "/stations/{station_id}/forecast",
    response_model=ForecastOut,
    responses=problem_responses(404, 422),
    summary="Chance that at least one connector of the station is free in 15, 30, 60 min",
    description=(
        "Learned from the station's status history and the bookings known for it "
        "(docs/forecasts.md). Until a model has been trained the last value answers and "
        "`fallback` says so."
    ),
)
async def station_forecast(services: ServicesDep, station_id: StationPath) -> ForecastOut:
    if services.forecasts is None:
        raise NotFound("forecasts are not served here")
    forecast = await services.forecasts.forecast(station_id)
    return ForecastOut.of(forecast, services.forecasts.now())
