"""A session's meter values as the API answers them (operators, and a driver for a charge
of their own)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from voltbook.charging.series import MAX_POINTS, SeriesPoint


class MeterPointOut(BaseModel):
    at: datetime
    energy_wh: float | None = Field(description="The session's energy so far (Wh)")
    register_wh: float | None = Field(description="The meter's register reading (Wh)")
    power_w: float | None
    soc_percent: float | None

    @classmethod
    def of(cls, p: SeriesPoint) -> MeterPointOut:
        return cls(
            at=p.at,
            energy_wh=None if p.energy_wh is None else round(p.energy_wh, 1),
            register_wh=p.register_wh,
            power_w=p.power_w,
            soc_percent=p.soc_percent,
        )


class MeterSeriesOut(BaseModel):
    session_id: int | None = Field(description="Null while the charger has not started it")
    points: list[MeterPointOut] = Field(
        description=f"Oldest first: the start reading, then every sample the station sent "
        f"(at most the newest {MAX_POINTS:,}); a sample a field lacks is null there"
    )
