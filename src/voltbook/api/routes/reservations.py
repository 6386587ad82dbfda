"""Booking a charger now or for a later slot."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response

from voltbook.api.cursors import decode_int_cursor, encode_cursor
from voltbook.api.deps import PrincipalDep, ServicesDep, StationPath
from voltbook.api.problems import problem_responses
from voltbook.api.request_rules import IDEMPOTENCY_KEY_MAX, IDEMPOTENCY_KEY_PATTERN
from voltbook.api.reservation_schemas import (
    AvailabilityOut,
    ConnectorAvailability,
    FreeInterval,
    ReservationIn,
    ReservationOut,
    ReservationPage,
    SlotTakenProblem,
)
from voltbook.core import bounded
from voltbook.reservations.model import Reservation

router = APIRouter(prefix="/api/v1", tags=["reservations"])
ReservationPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post(
    "/reservations",
    status_code=201,
    response_model=ReservationOut,
    responses=problem_responses(401, 404, 409, 422, models={409: SlotTakenProblem}),
    summary="Book a connector now or for a later slot",
)
async def book(
    body: ReservationIn,
    services: ServicesDep,
    principal: PrincipalDep,
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=IDEMPOTENCY_KEY_MAX,
            pattern=IDEMPOTENCY_KEY_PATTERN,
            description=(
                "Required. A key of the client's choice, new for each booking: the same key "
                "and body return the same reservation, the same key with another body is 422, "
                "and the same key while its first request is still being decided is 409"
            ),
        ),
    ],
) -> Response:
    booked = await services.reservations.book(principal.driver_id, body.booking(), idempotency_key)
    return booked_response(*booked)


book_route = next(r for r in router.routes if getattr(r, "endpoint", None) is book)


def booked_response(reservation: Reservation, created: bool) -> Response:
    """201 with the reservation; a replay (the same Idempotency-Key and body) says so."""
    # Serialised here, not through response_model (which validates the model once more).
    return Response(
        ReservationOut.of(reservation).model_dump_json(),
        status_code=201,
        media_type="application/json",
        headers=None if created else {"Idempotent-Replayed": "true"},
    )


@router.get(
    "/reservations",
    response_model=ReservationPage,
    responses=problem_responses(401, 422),
    summary="Your reservations (operators: everyone's), newest first",
)
async def list_reservations(
    services: ServicesDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> ReservationPage:
    found = await services.reservations.page(
        principal.driver_id,
        staff=principal.role.is_staff,
        after=decode_int_cursor(cursor),
        limit=limit,
    )
    next_cursor = encode_cursor(found[-1].id) if len(found) == limit else None
    return ReservationPage(items=[ReservationOut.of(r) for r in found], next_cursor=next_cursor)


@router.get(
    "/reservations/{reservation_id}",
    response_model=ReservationOut,
    responses=problem_responses(401, 404),
)
async def get_reservation(
    services: ServicesDep, principal: PrincipalDep, reservation_id: ReservationPath
) -> ReservationOut:
    found = await services.reservations.get(
        reservation_id, principal.driver_id, staff=principal.role.is_staff
    )
    return ReservationOut.of(found)


@router.delete(
    "/reservations/{reservation_id}",
    response_model=ReservationOut,
    responses=problem_responses(401, 404, 409),
    summary="Cancel a reservation (the charger is told to release the connector)",
)
async def cancel_reservation(
    services: ServicesDep, principal: PrincipalDep, reservation_id: ReservationPath
) -> ReservationOut:
    cancelled = await services.reservations.cancel(
        reservation_id, principal.driver_id, staff=principal.role.is_staff
    )
    return ReservationOut.of(cancelled)


@router.get(
    "/stations/{station_id}/availability",
    response_model=AvailabilityOut,
    responses=problem_responses(404, 422),
    summary="Free intervals per connector of a station",
)
async def availability(
    services: ServicesDep,
    station_id: StationPath,
    start: Annotated[datetime | None, Query(alias="from", description="Default: now")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="Default: from + 1 day")] = None,
) -> AvailabilityOut:
    begin, finish, free = await services.reservations.availability(
        station_id, _utc(start), _utc(end)
    )
    return AvailabilityOut(
        station_id=station_id,
        start=begin,
        end=finish,
        connectors=[
            ConnectorAvailability(
                connector_id=evse, free=[FreeInterval(start=a, end=b) for a, b in intervals]
            )
            for evse, intervals in sorted(free.items())
        ],
    )


def _utc(value: datetime | None) -> datetime | None:
    """A time without an offset is taken as UTC, as the API's conventions say."""
    return None if value is None else bounded.instant(value, naive_is_utc=True)
