"""The operator's API for a station's message journal."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from voltbook.api.cursors import decode_int_cursor, encode_cursor
from voltbook.api.deps import ServicesDep, StationPath, staff_principal
from voltbook.api.problems import problem_responses
from voltbook.journal.model import Direction, JournalEntry, Kind

router = APIRouter(
    prefix="/api/v1/operator",
    tags=["operator"],
    dependencies=[Depends(staff_principal)],
    responses=problem_responses(401, 403, 422),
)


class MessageOut(BaseModel):
    id: int
    at: datetime
    direction: Direction = Field(description="in: from the station; out: to it")
    kind: Kind
    unique_id: str | None
    action: str | None = Field(description="The call's action; for an answer, the call's")
    text: str = Field(description="The frame as sent, secrets replaced by ***")

    @classmethod
    def of(cls, entry: JournalEntry) -> MessageOut:
        return cls(
            id=entry.id or 0,
            at=entry.at,
            direction=entry.direction,
            kind=entry.kind,
            unique_id=entry.unique_id,
            action=entry.action,
            text=entry.text,
        )


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None


@router.get(
    "/stations/{station_id}/messages",
    response_model=MessagePage,
    responses=problem_responses(404),
    summary="The station's last OCPP messages, newest first (written about once a second)",
)
async def station_messages(
    services: ServicesDep,
    station_id: StationPath,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
    action: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9]+$")] = None,
    direction: Direction | None = None,
) -> MessagePage:
    await services.fleet.get(station_id)  # 404 for a station that does not exist
    found = await services.journal.recent(
        station_id, decode_int_cursor(cursor), limit, action, direction
    )
    next_cursor = encode_cursor(found[-1].id or 0) if len(found) == limit else None
    return MessagePage(items=[MessageOut.of(e) for e in found], next_cursor=next_cursor)
