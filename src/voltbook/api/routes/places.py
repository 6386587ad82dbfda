"""Places to search around, typed by the driver and matched offline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from voltbook.api.deps import ServicesDep
from voltbook.api.problems import problem_responses

router = APIRouter(prefix="/api/v1", tags=["stations"])


class PlaceOut(BaseModel):
    label: str
    kind: str
    lat: float
    lon: float


class PlacesOut(BaseModel):
    items: list[PlaceOut]


@router.get(
    "/places",
    response_model=PlacesOut,
    responses=problem_responses(422),
    summary="Places matching what the driver typed: postal codes, cities, addresses",
)
async def places(
    services: ServicesDep,
    q: Annotated[str, Query(min_length=2, max_length=80)],
    limit: Annotated[int, Query(ge=1, le=20)] = 8,
) -> PlacesOut:
    """Matched against the imported sites only (no geocoder, no internet): each place is
    the centre of the sites it matched."""
    found = await services.places.find(q, limit)
    return PlacesOut(
        items=[PlaceOut(label=p.label, kind=p.kind, lat=p.lat, lon=p.lon) for p in found]
    )
