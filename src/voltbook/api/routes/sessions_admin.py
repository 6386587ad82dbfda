"""The operator's API for charging sessions: list, one, CSV export, close one stuck open."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, Field

from voltbook.api.cursors import decode_int_cursor, encode_cursor
from voltbook.api.deps import ServicesDep, staff_principal
from voltbook.api.idtoken_schemas import DRIVER_ID_PATTERN
from voltbook.api.inputs import Input
from voltbook.api.meter_schemas import MeterPointOut, MeterSeriesOut
from voltbook.api.problems import problem_responses
from voltbook.charging.model import ChargingSession, SessionFilter
from voltbook.idtokens.model import TOKEN_PATTERN
from voltbook.stations.fleet import STATION_ID_PATTERN

router = APIRouter(
    prefix="/api/v1/operator",
    tags=["operator"],
    dependencies=[Depends(staff_principal)],
    responses=problem_responses(401, 403, 422),
)
CSV_MAX_ROWS = 10_000


class SessionOut(BaseModel):
    id: int
    station_id: str
    evse_id: int
    connector_id: int | None
    id_tag: str | None
    transaction_id: str = Field(description="The id the station knows the session by")
    reservation_id: int | None
    started_at: datetime
    stopped_at: datetime | None
    energy_wh: float
    power_w: float | None
    soc_percent: float | None
    last_sample_at: datetime | None
    stop_reason: str | None

    @classmethod
    def of(cls, s: ChargingSession) -> SessionOut:
        return cls(
            id=s.id,
            station_id=s.station_id,
            evse_id=s.evse_id,
            connector_id=s.connector_id,
            id_tag=s.id_tag,
            transaction_id=s.reference,
            reservation_id=s.reservation_id,
            started_at=s.started_at,
            stopped_at=s.stopped_at,
            energy_wh=round(s.energy_wh, 1),
            power_w=s.power_w,
            soc_percent=s.soc_percent,
            last_sample_at=s.last_sample_at,
            stop_reason=s.stop_reason,
        )


class SessionPage(BaseModel):
    items: list[SessionOut]
    next_cursor: str | None


class CloseIn(Input):
    reason: str = Field(
        min_length=1,
        max_length=32,
        pattern=r"^[A-Za-z0-9 ._:-]+$",
        description="Why the operator closed it (kept as the session's stop reason)",
    )


def _filter(
    station_id: Annotated[str | None, Query(max_length=48, pattern=STATION_ID_PATTERN)] = None,
    id_tag: Annotated[str | None, Query(max_length=36, pattern=TOKEN_PATTERN)] = None,
    driver_id: Annotated[str | None, Query(max_length=36, pattern=DRIVER_ID_PATTERN)] = None,
    since: Annotated[AwareDatetime | None, Query(description="Started at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Started before")] = None,
    active: Annotated[bool | None, Query(description="Only running (or ended) ones")] = None,
) -> SessionFilter:
    return SessionFilter(station_id, id_tag, driver_id, since, until, active)


FilterDep = Annotated[SessionFilter, Depends(_filter)]


@router.get("/sessions", response_model=SessionPage, summary="Charging sessions, newest first")
async def list_sessions(
    services: ServicesDep,
    where: FilterDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> SessionPage:
    found = await services.charging.find(where, decode_int_cursor(cursor), limit)
    next_cursor = encode_cursor(found[-1].id) if len(found) == limit else None
    return SessionPage(items=[SessionOut.of(s) for s in found], next_cursor=next_cursor)


@router.get(
    "/sessions.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    summary=f"The same sessions as CSV (newest first, at most {CSV_MAX_ROWS:,})",
)
async def export_sessions(services: ServicesDep, where: FilterDep) -> Response:
    found = await services.charging.find(where, None, CSV_MAX_ROWS)
    out = io.StringIO()
    columns = list(SessionOut.model_fields)
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for session in found:
        row = SessionOut.of(session).model_dump(mode="json")
        writer.writerow({k: "" if row[k] is None else row[k] for k in columns})
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="sessions.csv"'},
    )


SessionPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/sessions/{session_id}", response_model=SessionOut, responses=problem_responses(404))
async def get_session(services: ServicesDep, session_id: SessionPath) -> SessionOut:
    return SessionOut.of(await services.charging.by_id(session_id))


@router.get(
    "/sessions/{session_id}/meter-values",
    response_model=MeterSeriesOut,
    responses=problem_responses(404),
    summary="The session's meter values over time: energy, power, state of charge",
)
async def session_meter_values(services: ServicesDep, session_id: SessionPath) -> MeterSeriesOut:
    session = await services.charging.by_id(session_id)
    points = await services.meter_series.of_session(session)
    return MeterSeriesOut(session_id=session.id, points=[MeterPointOut.of(p) for p in points])


@router.post(
    "/sessions/{session_id}/close",
    response_model=SessionOut,
    responses=problem_responses(404, 409),
    summary="Close a session the station never reported the end of",
)
async def close_session(
    services: ServicesDep, session_id: SessionPath, body: CloseIn
) -> SessionOut:
    return SessionOut.of(await services.charging.close(session_id, body.reason))
