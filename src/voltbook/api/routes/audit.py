"""The operator's API for the audit log: every operator action, newest first (docs/adr/0026)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, Field

from voltbook.api.cursors import decode_int_cursor, encode_cursor
from voltbook.api.deps import ServicesDep, staff_principal
from voltbook.api.problems import problem_responses
from voltbook.audit.model import AuditEntry, AuditFilter
from voltbook.stations.fleet import STATION_ID_PATTERN

router = APIRouter(
    prefix="/api/v1/operator",
    tags=["operator"],
    dependencies=[Depends(staff_principal)],
    responses=problem_responses(401, 403, 422),
)


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor_id: str = Field(
        description="The operator's (or admin's) account id; for the command line, cli: and"
        " the machine's account it ran under"
    )
    actor_email: str | None = Field(description="The account's e-mail; null once it is deleted")
    actor_role: str
    action: str = Field(
        description="The route: its method and path template (or the command, e.g. voltbook"
        " tag block)"
    )
    target: str = Field(description="The path's parameters, e.g. station_id=BOS-1")
    station_id: str | None = Field(description="The station concerned, if any")
    status_code: int = Field(description="The HTTP status of the answer")
    outcome: str | None = Field(
        description="The station's status word for a command (Accepted, Rejected …), or the "
        "problem's title for a refusal"
    )
    request: str | None = Field(description="The request body as JSON, secrets replaced by ***")
    answer: str | None = Field(description="The answer body as JSON, secrets replaced by ***")

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditOut:
        assert entry.id is not None
        assert entry.at is not None
        return cls(
            id=entry.id,
            at=entry.at,
            actor_id=entry.actor_id,
            actor_email=entry.actor_email,
            actor_role=entry.actor_role,
            action=entry.action,
            target=entry.target,
            station_id=entry.station_id,
            status_code=entry.status_code,
            outcome=entry.outcome,
            request=entry.request,
            answer=entry.answer,
        )


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_cursor: str | None


@router.get(
    "/audit",
    response_model=AuditPage,
    summary="The audit log: every operator action, newest first",
)
async def audit_log(
    services: ServicesDep,
    actor_id: Annotated[
        str | None, Query(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9_-]+$")
    ] = None,
    station_id: Annotated[
        str | None, Query(min_length=1, max_length=48, pattern=STATION_ID_PATTERN)
    ] = None,
    since: Annotated[AwareDatetime | None, Query(description="From this moment on")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Before this moment")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> AuditPage:
    where = AuditFilter(actor_id, station_id, since, until)
    found = await services.audit.find(where, decode_int_cursor(cursor), limit)
    next_cursor = encode_cursor(found[-1].id or 0) if len(found) == limit else None
    return AuditPage(items=[AuditOut.of(e) for e in found], next_cursor=next_cursor)
