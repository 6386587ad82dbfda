"""The operator's network at a glance: every station's place and live connector status."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from voltbook.api.deps import ServicesDep, staff_principal
from voltbook.api.problems import problem_responses
from voltbook.stations.model import ConnectorStatus, StationPlace

router = APIRouter(
    prefix="/api/v1/operator",
    tags=["operator"],
    dependencies=[Depends(staff_principal)],
    responses=problem_responses(401, 403),
)


class PlaceOut(BaseModel):
    id: str = Field(description="The station's OCPP identity")
    site_id: int | None
    name: str | None = Field(description="The site's name; null without a site")
    city: str | None
    lat: float | None
    lon: float | None
    online: bool
    connectors: list[ConnectorStatus] = Field(
        description="Each connector's live status, by EVSE and connector number"
    )

    @classmethod
    def of(cls, place: StationPlace) -> PlaceOut:
        return cls(
            id=place.station_id,
            site_id=place.site_id,
            name=place.name,
            city=place.city,
            lat=place.lat,
            lon=place.lon,
            online=place.online,
            connectors=list(place.statuses),
        )


class NetworkOut(BaseModel):
    items: list[PlaceOut]


@router.get(
    "/network",
    response_model=NetworkOut,
    summary="Every station, where it stands and its connectors' status (the console's map)",
)
async def network(services: ServicesDep) -> NetworkOut:
    return NetworkOut(items=[PlaceOut.of(p) for p in await services.fleet.places()])
