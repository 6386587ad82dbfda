"""The operator's API for utilisation: time in each charger state, a station's status
history (one row per change), and where chargers sit available longest (the places for
offers)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, Field

from voltbook.api.buckets import Bucket
from voltbook.api.deps import ServicesDep, staff_principal
from voltbook.api.problems import problem_responses
from voltbook.stations.fleet import STATION_ID_PATTERN
from voltbook.stations.history import IdlePlace, Usage
from voltbook.stations.states import ChargerState, StateChange

router = APIRouter(
    prefix="/api/v1/operator",
    tags=["operator"],
    dependencies=[Depends(staff_principal)],
    responses=problem_responses(401, 403, 422),
)


class UsageOut(BaseModel):
    station_id: str
    evse_id: int
    connector_id: int | None
    bucket_start: datetime
    seconds: dict[ChargerState, float] = Field(description="Seconds in each state")
    charging_share: float = Field(description="Share of the known time spent charging")

    @classmethod
    def of(cls, usage: Usage) -> UsageOut:
        return cls(
            station_id=usage.station_id,
            evse_id=usage.evse_id,
            connector_id=usage.connector_id,
            bucket_start=usage.bucket,
            seconds=usage.seconds,
            charging_share=round(usage.charging_share, 4),
        )


class UsageList(BaseModel):
    items: list[UsageOut]


class ChangeOut(BaseModel):
    station_id: str
    evse_id: int = Field(description="0: the station itself (offline, or back online)")
    connector_id: int | None
    at: datetime = Field(description="From this moment on, the connector was in `state`")
    state: ChargerState
    status: str | None = Field(description="The station's own word (OCPP status), if it said one")

    @classmethod
    def of(cls, change: StateChange) -> ChangeOut:
        return cls(
            station_id=change.station_id,
            evse_id=change.evse_id,
            connector_id=change.connector_id,
            at=change.at,
            state=change.state,
            status=change.status,
        )


class ChangeList(BaseModel):
    items: list[ChangeOut] = Field(description="Newest first")


class IdlePlaceOut(BaseModel):
    site_id: int | None
    station_ids: list[str]
    connectors: int
    available_seconds: float
    available_share: float = Field(description="Share of the observed time spent available")

    @classmethod
    def of(cls, place: IdlePlace) -> IdlePlaceOut:
        return cls(
            site_id=place.site_id,
            station_ids=list(place.station_ids),
            connectors=place.connectors,
            available_seconds=place.available_seconds,
            available_share=round(place.available_share, 4),
        )


class IdlePlaceList(BaseModel):
    items: list[IdlePlaceOut]


From = Annotated[AwareDatetime, Query(alias="from", description="Start of the range")]
To = Annotated[AwareDatetime, Query(description="End of the range (at most 31 days on)")]


@router.get(
    "/utilisation",
    response_model=UsageList,
    summary="Seconds each connector spent in each state, by hour or day (UTC)",
)
async def utilisation(
    services: ServicesDep,
    start: From,
    to: To,
    bucket: Bucket = Bucket.HOUR,
    station_id: Annotated[
        list[str] | None, Query(max_length=100, description="Repeat for several stations")
    ] = None,
) -> UsageList:
    for value in station_id or []:
        _check_station(value)
    found = await services.status_history.utilisation(station_id, start, to, bucket.size)
    return UsageList(items=[UsageOut.of(u) for u in found])


@router.get(
    "/utilisation/status-history",
    response_model=ChangeList,
    summary="A station's status history in the range: one row per change, newest first",
)
async def status_history(
    services: ServicesDep,
    station_id: Annotated[str, Query(max_length=48, pattern=STATION_ID_PATTERN)],
    start: From,
    to: To,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> ChangeList:
    found = await services.status_history.changes(station_id, start, to, limit)
    return ChangeList(items=[ChangeOut.of(c) for c in found])


@router.get(
    "/utilisation/idle-places",
    response_model=IdlePlaceList,
    summary="Sites whose chargers sat available longest in the range: where offers help",
)
async def idle_places(
    services: ServicesDep,
    start: From,
    to: To,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> IdlePlaceList:
    found = await services.status_history.idle_places(start, to, limit)
    return IdlePlaceList(items=[IdlePlaceOut.of(p) for p in found])


def _check_station(value: str) -> None:
    import re

    from voltbook.core.errors import InvalidInput

    if not re.match(STATION_ID_PATTERN, value):
        raise InvalidInput("a station id has 1 to 48 letters, digits or ._~:*+|@-")
