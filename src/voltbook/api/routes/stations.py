"""Finding chargers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from voltbook.api.deps import ServicesDep
from voltbook.api.problems import problem_responses
from voltbook.api.schemas import NearbyOut, SiteOut, nearby_json
from voltbook.stations.model import MAX_NEARBY_LIMIT, MAX_RADIUS_M, NearbyQuery, PowerType
from voltbook.stations.standards import accepted_names, parse_standard

router = APIRouter(prefix="/api/v1", tags=["stations"])


@router.get(
    "/stations/nearby",
    response_model=NearbyOut,
    responses=problem_responses(422),
    summary="Sites with matching connectors around a point, nearest first",
)
async def nearby(
    services: ServicesDep,
    lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False)],
    lon: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False)],
    radius_m: Annotated[float, Query(ge=0, le=MAX_RADIUS_M, allow_inf_nan=False)] = 5000,
    limit: Annotated[int, Query(ge=1, le=MAX_NEARBY_LIMIT)] = 10,
    connector: Annotated[
        list[str] | None,
        Query(
            description="Connector standard, OCPI name or common name (J1772, CCS1, CCS2, "
            "Type 2, CHAdeMO, NACS …); repeat for any of several. Other spellings of these "
            "(case, spaces, a comma-separated list) are accepted too.",
            max_length=20,
            json_schema_extra={"items": {"type": "string", "enum": accepted_names()}},
        ),
    ] = None,
    min_power_kw: Annotated[float | None, Query(ge=0, le=5000, allow_inf_nan=False)] = None,
    power_type: PowerType | None = None,
    available: Annotated[
        bool, Query(description="Only connectors an online station reports Available")
    ] = False,
) -> Response:
    names = [part for item in connector or [] for part in item.split(",") if part.strip()]
    query = NearbyQuery(
        lat=lat,
        lon=lon,
        radius_m=radius_m,
        limit=limit,
        standards=frozenset(parse_standard(name) for name in names),
        min_power_kw=min_power_kw,
        power_type=power_type,
        available_only=available,
    )
    found = await services.stations.nearby(query)
    # Serialised directly (the same JSON as NearbyOut's, which documents it): building and
    # validating the models cost more than the search itself.
    return Response(
        nearby_json((item.site, item.distance_m) for item in found),
        media_type="application/json",
    )


@router.get("/sites/{site_id}", response_model=SiteOut, responses=problem_responses(404, 422))
async def get_site(
    services: ServicesDep, site_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> SiteOut:
    return SiteOut.of(await services.stations.get_site(site_id))
