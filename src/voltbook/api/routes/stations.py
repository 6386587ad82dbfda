"""Finding chargers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from voltbook.api.deps import ServicesDep
from voltbook.api.nearby_params import NearbyParams
from voltbook.api.problems import problem_responses
from voltbook.api.schemas import NearbyOut, SiteOut, nearby_json

router = APIRouter(prefix="/api/v1", tags=["stations"])


@router.get(
    "/stations/nearby",
    response_model=NearbyOut,
    responses=problem_responses(422),
    summary="Sites with matching connectors around a point, nearest first",
)
async def nearby(services: ServicesDep, params: Annotated[NearbyParams, Query()]) -> Response:
    query = params.query()
    found = await services.stations.nearby(query)
    # Serialised directly (the same JSON as NearbyOut's, which documents it): building and
    # validating the models cost more than the search itself.
    return Response(
        nearby_json(
            ((item.site, item.distance_m) for item in found),
            services.forecasts.likely_free_sites if services.forecasts else None,
        ),
        media_type="application/json",
    )


# The route the fast lane stands in for (api/fast_lane.py).
nearby_route = next(r for r in router.routes if getattr(r, "endpoint", None) is nearby)


@router.get("/sites/{site_id}", response_model=SiteOut, responses=problem_responses(404, 422))
async def get_site(
    services: ServicesDep, site_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> SiteOut:
    return SiteOut.of(await services.stations.get_site(site_id))
