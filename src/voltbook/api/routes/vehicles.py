"""The driver's vehicles: describe them and report their state; chargers to go to."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from voltbook.api.deps import PrincipalDep, ServicesDep
from voltbook.api.driver_schemas import (
    RecommendationList,
    RecommendationOut,
    VehicleIn,
    VehicleList,
    VehicleOut,
    VehiclePatch,
    VehicleStateIn,
)
from voltbook.api.problems import problem_responses
from voltbook.drivers.vehicle_model import VehicleSpec
from voltbook.recommendations.service import MAX_RECOMMENDATIONS
from voltbook.stations.standards import parse_standard

router = APIRouter(prefix="/api/v1", tags=["vehicles"])
VehiclePath = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9_-]+$")]


def _standards(names: list[str]) -> tuple[str, ...]:
    return tuple(parse_standard(name).value for name in names)


@router.get("/vehicles", response_model=VehicleList, responses=problem_responses(401))
async def list_vehicles(services: ServicesDep, principal: PrincipalDep) -> VehicleList:
    found = await services.vehicles.list(principal.driver_id)
    return VehicleList(items=[VehicleOut.of(v) for v in found])


@router.post(
    "/vehicles",
    status_code=201,
    response_model=VehicleOut,
    responses=problem_responses(401, 409, 422),
    summary="Describe a vehicle: battery, plugs, charging limits (at most 20 per driver)",
)
async def create_vehicle(
    body: VehicleIn, services: ServicesDep, principal: PrincipalDep
) -> VehicleOut:
    spec = VehicleSpec(
        body.name, body.battery_kwh, _standards(body.standards), body.max_ac_kw, body.max_dc_kw
    )
    return VehicleOut.of(await services.vehicles.create(principal.driver_id, spec))


@router.get(
    "/vehicles/{vehicle_id}", response_model=VehicleOut, responses=problem_responses(401, 404)
)
async def get_vehicle(
    services: ServicesDep, principal: PrincipalDep, vehicle_id: VehiclePath
) -> VehicleOut:
    return VehicleOut.of(await services.vehicles.get(principal.driver_id, vehicle_id))


@router.patch(
    "/vehicles/{vehicle_id}",
    response_model=VehicleOut,
    responses=problem_responses(401, 404, 422),
    summary="Change a vehicle's description (only the fields sent)",
)
async def update_vehicle(
    body: VehiclePatch, services: ServicesDep, principal: PrincipalDep, vehicle_id: VehiclePath
) -> VehicleOut:
    current = await services.vehicles.get(principal.driver_id, vehicle_id)
    sent = body.model_fields_set
    spec = VehicleSpec(
        name=body.name if body.name is not None else current.name,
        battery_kwh=body.battery_kwh if body.battery_kwh is not None else current.battery_kwh,
        standards=(_standards(body.standards) if body.standards is not None else current.standards),
        max_ac_kw=body.max_ac_kw if "max_ac_kw" in sent else current.max_ac_kw,
        max_dc_kw=body.max_dc_kw if "max_dc_kw" in sent else current.max_dc_kw,
    )
    return VehicleOut.of(await services.vehicles.update(principal.driver_id, vehicle_id, spec))


@router.delete("/vehicles/{vehicle_id}", status_code=204, responses=problem_responses(401, 404))
async def delete_vehicle(
    services: ServicesDep, principal: PrincipalDep, vehicle_id: VehiclePath
) -> Response:
    await services.vehicles.delete(principal.driver_id, vehicle_id)
    return Response(status_code=204)


@router.post(
    "/vehicles/{vehicle_id}/state",
    response_model=VehicleOut,
    responses=problem_responses(401, 404, 422),
    summary="Report the state of charge and/or range (the app; the live channel does the same)",
)
async def report_state(
    body: VehicleStateIn, services: ServicesDep, principal: PrincipalDep, vehicle_id: VehiclePath
) -> VehicleOut:
    vehicle = await services.vehicles.report(
        principal.driver_id, vehicle_id, body.soc_percent, body.range_km, body.at
    )
    return VehicleOut.of(vehicle)


@router.get(
    "/recommendations",
    response_model=RecommendationList,
    responses=problem_responses(401, 404, 409, 422),
    summary="Available, fitting chargers the vehicle can reach on its range, best first",
    description=(
        "Reach = range x (1 - safety margin). Candidates: connectors of the vehicle's plugs "
        "that a live station reports Available, within reach of lat/lon (default: your last "
        "shared position). Score = 0.5 x (1 - distance/reach) + 0.35 x min(power, 150 kW)/150 "
        "+ 0.15 if an offer runs there; power = min(charger, vehicle's AC/DC limit). "
        "409 range-unknown: report the vehicle's state first; 422 position-unknown: send "
        "lat and lon or share your position."
    ),
)
async def recommendations(
    services: ServicesDep,
    principal: PrincipalDep,
    vehicle_id: Annotated[str, Query(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9_-]+$")],
    lat: Annotated[float | None, Query(ge=-90, le=90, allow_inf_nan=False)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, allow_inf_nan=False)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_RECOMMENDATIONS)] = 10,
) -> RecommendationList:
    found = await services.recommendations.recommend(
        principal.driver_id, vehicle_id, lat, lon, limit
    )
    forecasts = services.forecasts
    return RecommendationList(
        items=[
            RecommendationOut.of(
                item, forecasts.likely_free(item.point.station_id) if forecasts else None
            )
            for item in found
        ]
    )
