"""A station's availability forecast."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from voltbook.api.deps import ServicesDep, StationPath
from voltbook.api.forecast_schemas import ForecastOut
from voltbook.api.problems import problem_responses
from voltbook.core.errors import NotFound
from voltbook.stations.standards import accepted_names, parse_standard

router = APIRouter(prefix="/api/v1", tags=["stations"])


@router.get(
    "/stations/{station_id}/forecast",
    response_model=ForecastOut,
    responses=problem_responses(404, 422),
    summary="Chance that at least one fitting connector of the station is free in 15, 30, 60 min",
    description=(
        "Learned from the station's status history and the bookings known for it "
        "(docs/forecasts.md). `connector` narrows it to the EVSEs with a connector of one of "
        "these standards (a station with none: `fallback` `no_fitting_connector`). Until a "
        "model has been trained the last value answers and `fallback` says so."
    ),
)
async def station_forecast(
    services: ServicesDep,
    station_id: StationPath,
    connector: Annotated[
        list[str] | None,
        Query(
            description="Connector standard, OCPI name or common name (J1772, CCS1, CCS2, "
            "Type 2, CHAdeMO, NACS …); repeat for any of several",
            max_length=20,
            json_schema_extra={"items": {"type": "string", "enum": accepted_names()}},
        ),
    ] = None,
) -> ForecastOut:
    if services.forecasts is None:
        raise NotFound("forecasts are not served here")
    names = [part for item in connector or [] for part in item.split(",") if part.strip()]
    standards = frozenset(parse_standard(name).value for name in names)
    forecast = await services.forecasts.forecast(station_id, standards)
    return ForecastOut.of(forecast, services.forecasts.now())
