"""Bodies of the offers API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field

from voltbook.api.inputs import Input
from voltbook.offers.model import (
    MAX_IDLE_MINUTES,
    MAX_RADIUS_M,
    MAX_STATIONS,
    MAX_TITLE,
    MIN_RADIUS_M,
    Area,
    Offer,
    OfferStats,
)
from voltbook.stations.fleet import STATION_ID_PATTERN

INT32 = 2**31 - 1
TITLE_PATTERN = r"^[^\x00-\x1f\x7f]+$"
Kind = Literal["percent_off", "price_per_kwh"]
TriggerName = Literal["area_entry", "idle_station", "low_soc"]
StationId = Annotated[str, Field(min_length=1, max_length=48, pattern=STATION_ID_PATTERN)]


class AreaIn(Input):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    radius_m: float = Field(ge=MIN_RADIUS_M, le=MAX_RADIUS_M, allow_inf_nan=False)

    def area(self) -> Area:
        return Area(self.lat, self.lon, self.radius_m)


class OfferIn(Input):
    title: str = Field(min_length=1, max_length=MAX_TITLE, pattern=TITLE_PATTERN)
    kind: Kind
    value: float = Field(
        ge=0,
        le=1_000_000,
        allow_inf_nan=False,
        description="percent_off: percent taken off (above 0, at most 100); "
        "price_per_kwh: the price per kWh during the offer",
    )
    area: AreaIn
    station_ids: list[StationId] | None = Field(
        default=None,
        max_length=MAX_STATIONS,
        description="The stations the offer is for; left out: every station in the area",
    )
    trigger: TriggerName
    idle_minutes: int | None = Field(
        default=None, ge=1, le=MAX_IDLE_MINUTES, description="idle_station: minutes Available"
    )
    soc_below: float | None = Field(
        default=None, gt=0, le=100, allow_inf_nan=False, description="low_soc: SoC threshold %"
    )
    starts_at: AwareDatetime | None = Field(default=None, description="Left out: now")
    ends_at: AwareDatetime
    max_per_driver: int = Field(default=1, ge=1, le=1000)
    max_redemptions: int | None = Field(
        default=None, ge=1, le=INT32, description="Left out: no limit"
    )


class OfferPatch(Input):
    """Fields to change; those left out stay. station_ids, idle_minutes, soc_below and
    max_redemptions may be set to null (every station in the area; no limit)."""

    title: str | None = Field(
        default=None, min_length=1, max_length=MAX_TITLE, pattern=TITLE_PATTERN
    )
    kind: Kind | None = None
    value: float | None = Field(default=None, ge=0, le=1_000_000, allow_inf_nan=False)
    area: AreaIn | None = None
    station_ids: list[StationId] | None = Field(default=None, max_length=MAX_STATIONS)
    trigger: TriggerName | None = None
    idle_minutes: int | None = Field(default=None, ge=1, le=MAX_IDLE_MINUTES)
    soc_below: float | None = Field(default=None, gt=0, le=100, allow_inf_nan=False)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    max_per_driver: int | None = Field(default=None, ge=1, le=1000)
    max_redemptions: int | None = Field(default=None, ge=1, le=INT32)


class AreaOut(BaseModel):
    lat: float
    lon: float
    radius_m: float


class OfferStatsOut(BaseModel):
    sent: int
    opened: int
    redeemed: int
    idle_minutes_filled: float = Field(
        description="Sum over redemptions of how long the connector had sat Available (since "
        "the later of going Available and the offer's start) when the redeeming session took it"
    )

    @classmethod
    def of(cls, stats: OfferStats) -> OfferStatsOut:
        return cls(
            sent=stats.sent,
            opened=stats.opened,
            redeemed=stats.redeemed,
            idle_minutes_filled=round(stats.idle_minutes_filled, 3),
        )


class OfferOut(BaseModel):
    id: int
    title: str
    kind: Kind
    value: float
    area: AreaOut
    station_ids: list[str]
    trigger: TriggerName
    idle_minutes: int | None
    soc_below: float | None
    starts_at: datetime
    ends_at: datetime
    max_per_driver: int
    max_redemptions: int | None
    status: Literal["scheduled", "active", "ended", "expired"]
    created_at: datetime | None
    ended_at: datetime | None
    stats: OfferStatsOut | None = Field(default=None, description="On single-offer answers")

    @classmethod
    def of(cls, offer: Offer, now: datetime, stats: OfferStats | None = None) -> OfferOut:
        assert offer.id is not None
        return cls(
            id=offer.id,
            title=offer.title,
            kind=offer.kind.value,
            value=offer.value,
            area=AreaOut(lat=offer.area.lat, lon=offer.area.lon, radius_m=offer.area.radius_m),
            station_ids=list(offer.station_ids),
            trigger=offer.trigger.value,
            idle_minutes=offer.idle_minutes,
            soc_below=offer.soc_below,
            starts_at=offer.starts_at,
            ends_at=offer.ends_at,
            max_per_driver=offer.max_per_driver,
            max_redemptions=offer.max_redemptions,
            status=offer.state(now).value,
            created_at=offer.created_at,
            ended_at=offer.ended_at,
            stats=OfferStatsOut.of(stats) if stats is not None else None,
        )


class OfferPage(BaseModel):
    items: list[OfferOut]
    next_cursor: str | None
