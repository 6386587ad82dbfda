"""The operator's figures: today's across the network (the console's overview), and each
offer's over time (the console's offers page)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AwareDatetime, BaseModel, Field

from voltbook.api.buckets import Bucket
from voltbook.api.deps import ServicesDep, staff_principal
from voltbook.api.problems import problem_responses
from voltbook.console_figures import DayFigures, IdleSpot, OfferBucket

router = APIRouter(
    prefix="/api/v1/operator",
    tags=["operator"],
    dependencies=[Depends(staff_principal)],
    responses=problem_responses(401, 403, 422),
)


class TodayOut(BaseModel):
    day_start: datetime = Field(description="Midnight in the console's time zone")
    until: datetime = Field(description="Now: the figures cover day_start to this")
    time_zone: str = Field(description="VOLTBOOK_CONSOLE_TIME_ZONE (UTC unless set)")
    sessions: int = Field(description="Sessions begun today")
    energy_wh: float = Field(
        description="Energy of the sessions begun today (running ones as of their last "
        "written reading)"
    )
    charging_share: float = Field(
        description="Of the time today's connectors were known in, the share spent charging"
    )
    connectors: int = Field(description="Connectors the status history knows of today")
    idle_connectors: int = Field(description="Connectors that have not charged today")
    bookings: int = Field(description="Bookings made today")
    no_shows: int = Field(description="Bookings that expired unused today")
    offers_sent: int
    offers_opened: int
    offers_redeemed: int
    idle_minutes_filled: float = Field(description="Idle minutes filled by today's redemptions")

    @classmethod
    def of(cls, f: DayFigures) -> TodayOut:
        c = f.counts
        return cls(
            day_start=f.start,
            until=f.until,
            time_zone=f.time_zone,
            sessions=c.sessions,
            energy_wh=round(c.energy_wh, 1),
            charging_share=round(f.charging_share, 4),
            connectors=f.connectors,
            idle_connectors=f.idle_connectors,
            bookings=c.bookings,
            no_shows=c.no_shows,
            offers_sent=c.offers_sent,
            offers_opened=c.offers_opened,
            offers_redeemed=c.offers_redeemed,
            idle_minutes_filled=round(c.idle_minutes_filled, 1),
        )


@router.get(
    "/figures/today",
    response_model=TodayOut,
    summary="Today's figures across the network (from midnight in the console's time zone)",
)
async def today(services: ServicesDep) -> TodayOut:
    return TodayOut.of(await services.figures.today())


class OfferBucketOut(BaseModel):
    bucket_start: datetime
    sent: int
    opened: int
    redeemed: int
    idle_minutes_filled: float

    @classmethod
    def of(cls, b: OfferBucket) -> OfferBucketOut:
        return cls(
            bucket_start=b.start,
            sent=b.sent,
            opened=b.opened,
            redeemed=b.redeemed,
            idle_minutes_filled=b.idle_minutes_filled,
        )


class OfferFiguresOut(BaseModel):
    offer_id: int
    time_zone: str
    items: list[OfferBucketOut] = Field(
        description="Every bucket of the range, oldest first; each delivery is counted when "
        "it was sent, opened and redeemed"
    )


@router.get(
    "/offers/{offer_id}/figures",
    response_model=OfferFiguresOut,
    responses=problem_responses(404),
    summary="An offer's figures over time: sent, opened, redeemed, idle minutes filled",
)
async def offer_figures(
    services: ServicesDep,
    offer_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    start: Annotated[AwareDatetime, Query(alias="from", description="Start of the range")],
    to: Annotated[AwareDatetime, Query(description="End of the range (at most 92 days on)")],
    bucket: Bucket = Bucket.DAY,
) -> OfferFiguresOut:
    await services.offers.get(offer_id)  # 404 for an offer that does not exist
    found = await services.figures.offer_series(offer_id, start, to, bucket.size)
    return OfferFiguresOut(
        offer_id=offer_id,
        time_zone=services.figures.time_zone,
        items=[OfferBucketOut.of(b) for b in found],
    )


class IdleSpotOut(BaseModel):
    site_id: int | None
    name: str | None = Field(description="The site's name")
    lat: float
    lon: float
    station_ids: list[str]
    connectors: int
    available_seconds: float
    available_share: float = Field(description="Share of the observed time spent available")

    @classmethod
    def of(cls, s: IdleSpot) -> IdleSpotOut:
        return cls(
            site_id=s.site_id,
            name=s.name,
            lat=s.lat,
            lon=s.lon,
            station_ids=list(s.station_ids),
            connectors=s.connectors,
            available_seconds=round(s.available_seconds, 1),
            available_share=round(s.available_share, 4),
        )


class IdleMapOut(BaseModel):
    items: list[IdleSpotOut] = Field(description="Longest available first")


@router.get(
    "/utilisation/idle-map",
    response_model=IdleMapOut,
    summary="Every placed site with the share of its chargers' time spent available in the "
    "range (the map an operator places offers by)",
)
async def idle_map(
    services: ServicesDep,
    start: Annotated[AwareDatetime, Query(alias="from", description="Start of the range")],
    to: Annotated[AwareDatetime, Query(description="End of the range (at most 31 days on)")],
) -> IdleMapOut:
    found = await services.figures.idle_map(start, to)
    return IdleMapOut(items=[IdleSpotOut.of(s) for s in found])
