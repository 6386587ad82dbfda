"""Bodies of the availability forecasts (docs/adr/0028)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from voltbook.forecasts.model import Forecast


class HorizonOut(BaseModel):
    minutes: int = Field(description="How far ahead: 15, 30 or 60")
    probability_free: float = Field(
        ge=0, le=1, description="Chance that at least one connector is Available then"
    )
    likely_free: bool = Field(description="probability_free at or above the model's threshold")


class ForecastOut(BaseModel):
    station_id: str
    as_of: datetime = Field(description="The minute the forecast starts from")
    horizons: list[HorizonOut]
    model_trained_at: datetime | None = Field(
        description="When the model answering was trained; null when none has been yet"
    )
    model_age_s: float | None = Field(description="Seconds since then; null without a model")
    fallback: str | None = Field(
        description="null when the model answered; `last_value` when no model is trained "
        "yet (free later as now: probability 1 or 0); `no_history` when nothing is known "
        "of the station's connectors yet (probability 0); `no_fitting_connector` when the "
        "station has no connector of the standards asked for (probability 0)"
    )

    @classmethod
    def of(cls, forecast: Forecast, now: datetime) -> ForecastOut:
        trained = forecast.model_trained_at
        return cls(
            station_id=forecast.station_id,
            as_of=forecast.as_of,
            horizons=[
                HorizonOut(
                    minutes=h.minutes,
                    probability_free=h.probability_free,
                    likely_free=h.likely_free,
                )
                for h in forecast.horizons
            ],
            model_trained_at=trained,
            model_age_s=None if trained is None else round((now - trained).total_seconds(), 1),
            fallback=forecast.fallback,
        )
