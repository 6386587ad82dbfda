"""Bodies of the charging-from-the-app API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from voltbook.api.inputs import Input
from voltbook.charging.remote_model import ChargeView
from voltbook.stations.fleet import STATION_ID_PATTERN

INT32 = 2**31 - 1
ChargeStateName = Literal[
    "requested", "plug_in", "starting", "charging", "stopping", "finished", "failed"
]


class ChargeIn(Input):
    station_id: str = Field(min_length=1, max_length=48, pattern=STATION_ID_PATTERN)
    evse_id: int = Field(ge=1, le=INT32, description="The EVSE (1.6: connector) number")


class ChargeOut(BaseModel):
    id: str
    station_id: str
    evse_id: int
    state: ChargeStateName = Field(
        description=(
            "requested: asked, no answer yet; plug_in: the charger waits for the cable; "
            "starting: the cable is in; charging: the charger reported the transaction; "
            "stopping; finished; failed (see reason)"
        )
    )
    reason: str | None = Field(description="Why it failed or stopped, in words")
    created_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None
    energy_wh: float = Field(description="Delivered so far (or in all, once finished)")
    power_w: float | None
    soc_percent: float | None
    duration_s: float | None = Field(description="Charging time so far (or in all)")
    site_name: str | None
    address: str | None

    @classmethod
    def of(cls, view: ChargeView) -> ChargeOut:
        charge, session = view.charge, view.session
        return cls(
            id=charge.id,
            station_id=charge.station_id,
            evse_id=charge.evse_id,
            state=charge.state.value,
            reason=charge.reason,
            created_at=charge.created_at,
            started_at=session.started_at if session else None,
            stopped_at=session.stopped_at if session else None,
            energy_wh=session.energy_wh if session else 0.0,
            power_w=session.power_w if session and session.active else None,
            soc_percent=session.soc_percent if session else None,
            duration_s=view.duration_s,
            site_name=view.site_name,
            address=view.address,
        )


class ChargePage(BaseModel):
    items: list[ChargeOut]
    next_cursor: str | None
