"""Operator tools around a station: what a command would interrupt, and the QR code that
opens the driver app on one EVSE."""

from __future__ import annotations

import io
from typing import Annotated, Literal
from urllib.parse import quote

import segno
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from voltbook.api.deps import ServicesDep, StationPath, staff_principal
from voltbook.api.problems import problem_responses
from voltbook.charging.model import SessionFilter
from voltbook.core.errors import NotFound
from voltbook.services import Services
from voltbook.stations import commands
from voltbook.stations.impact import interrupted_evses

router = APIRouter(
    prefix="/api/v1/operator",
    tags=["operator"],
    dependencies=[Depends(staff_principal)],
    responses=problem_responses(401, 403, 422),
)
EvsePath = Annotated[int, Path(ge=1, le=2**31 - 1)]
CommandName = Literal["reset", "unlock_connector", "remote_stop", "change_availability"]


class InterruptionOut(BaseModel):
    interrupts: bool = Field(description="True: warn before sending, a session would end")
    evse_ids: list[int]
    session_ids: list[int]


@router.get(
    "/stations/{station_id}/interruptions",
    response_model=InterruptionOut,
    responses=problem_responses(404),
    summary="Whether a command would end a running session at the station",
)
async def interruptions(
    services: ServicesDep,
    station_id: StationPath,
    command: CommandName,
    hard: bool = False,
    evse_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    transaction_id: Annotated[str | None, Query(min_length=1, max_length=36)] = None,
) -> InterruptionOut:
    station = await services.fleet.get(station_id)
    running = await services.charging.find(
        SessionFilter(station_id=station_id, active=True), None, 500
    )
    by_evse = {s.evse_id: s.reference for s in running}
    asked: commands.Command
    if command == "reset":
        asked = commands.Reset(hard)
    elif command == "unlock_connector":
        asked = commands.UnlockConnector(evse_id or 1)
    elif command == "remote_stop":
        asked = commands.RemoteStop(transaction_id or "")
    else:
        asked = commands.ChangeAvailability(False, evse_id)
    evses = interrupted_evses(asked, station.ocpp_version, by_evse)
    sessions = sorted(s.id for s in running if s.evse_id in evses)
    return InterruptionOut(interrupts=bool(evses), evse_ids=sorted(evses), session_ids=sessions)


class QrTargetOut(BaseModel):
    url: str = Field(description="What the QR code holds: the driver app on this EVSE")


async def _target(services: Services, request: Request, station_id: str, evse_id: int) -> str:
    station = await services.fleet.get(station_id)
    if evse_id not in {c.evse_id for c in station.connectors}:
        raise NotFound(f"station {station_id} has no EVSE {evse_id}")
    return f"{str(request.base_url).rstrip('/')}/#/charge/{quote(station_id, safe='')}/{evse_id}"


@router.get(
    "/stations/{station_id}/evses/{evse_id}/qr-target",
    response_model=QrTargetOut,
    responses=problem_responses(404),
)
async def qr_target(
    services: ServicesDep, request: Request, station_id: StationPath, evse_id: EvsePath
) -> QrTargetOut:
    return QrTargetOut(url=await _target(services, request, station_id, evse_id))


@router.get(
    "/stations/{station_id}/evses/{evse_id}/qr.svg",
    response_class=Response,
    responses={
        200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}},
        **problem_responses(404),
    },
    summary="A printable QR code (SVG) that opens the driver app on this EVSE",
)
async def qr_code(
    services: ServicesDep, request: Request, station_id: StationPath, evse_id: EvsePath
) -> Response:
    url = await _target(services, request, station_id, evse_id)
    svg = io.BytesIO()
    segno.make(url, error="m").save(svg, kind="svg", scale=8, border=4, xmldecl=False)
    return Response(svg.getvalue(), media_type="image/svg+xml")
