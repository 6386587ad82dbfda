"""Charging from the app: start on an EVSE, follow, stop, and the driver's own charges."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response

from voltbook.api.charge_schemas import ChargeIn, ChargeOut, ChargePage
from voltbook.api.cursors import decode_cursor, encode_cursor
from voltbook.api.deps import PrincipalDep, ServicesDep
from voltbook.api.meter_schemas import MeterPointOut, MeterSeriesOut
from voltbook.api.problems import problem_responses
from voltbook.charging.remote_model import ChargeView
from voltbook.core.errors import InvalidInput

router = APIRouter(prefix="/api/v1", tags=["charging"])
ChargePath = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9A-Za-z-]+$")]
_REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` when this answers a repeated Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
_LOCATION = {
    "Location": {"description": "The charge's own URL", "schema": {"type": "string"}},
}


@router.post(
    "/sessions",
    status_code=201,
    response_model=ChargeOut,
    responses={
        201: {"description": "Asked the charger to start", "headers": _LOCATION | _REPLAYED},
        **problem_responses(401, 404, 409, 422),
    },
    summary="Start charging at an EVSE with your app token",
)
async def start(
    body: ChargeIn,
    services: ServicesDep,
    principal: PrincipalDep,
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            pattern=r"^[\x21-\x7e]+$",
            description=(
                "Required, new for each start: a repeated key with the same body returns the "
                "first charge (a double tap starts once); with another body it is 422"
            ),
        ),
    ],
) -> Response:
    """Allowed on an available connector, one where you have plugged in already (Preparing;
    2.0.1 Occupied) or the one your booking holds. The answer's `state` follows what the
    charger reports: `plug_in` or `starting` until it reports the transaction, then
    `charging`; the charger's Accepted alone is not a start."""
    view, created = await services.app_charging.start(
        principal.driver_id, body.station_id, body.evse_id, idempotency_key
    )
    headers = {"Location": f"/api/v1/sessions/{view.charge.id}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return _json(view, 201, headers)


@router.post(
    "/sessions/{charge_id}/stop",
    response_model=ChargeOut,
    responses=problem_responses(401, 404, 409, 502, 504),
    summary="Ask the charger to stop your charge",
)
async def stop(charge_id: ChargePath, services: ServicesDep, principal: PrincipalDep) -> Response:
    """The charge is `stopping` until the charger reports the stop, then `finished`."""
    view = await services.app_charging.stop(principal.driver_id, charge_id)
    return _json(view, 200)


@router.get(
    "/sessions/{charge_id}",
    response_model=ChargeOut,
    responses=problem_responses(401, 404),
    summary="One of your charges, with its live energy, power and state of charge",
)
async def one(charge_id: ChargePath, services: ServicesDep, principal: PrincipalDep) -> Response:
    return _json(await services.app_charging.view(principal.driver_id, charge_id), 200)


@router.get(
    "/sessions/{charge_id}/meter-values",
    response_model=MeterSeriesOut,
    responses=problem_responses(401, 404),
    summary="One of your charges' meter values over time: energy, power, state of charge",
)
async def meter_values(
    charge_id: ChargePath, services: ServicesDep, principal: PrincipalDep
) -> MeterSeriesOut:
    view = await services.app_charging.view(principal.driver_id, charge_id)
    if view.session is None:  # the charger has not started it (yet)
        return MeterSeriesOut(session_id=None, points=[])
    points = await services.meter_series.of_session(view.session)
    return MeterSeriesOut(session_id=view.session.id, points=[MeterPointOut.of(p) for p in points])


@router.get(
    "/me/sessions",
    response_model=ChargePage,
    responses=problem_responses(401, 422),
    summary="Your charges started from the app, newest first",
)
async def mine(
    services: ServicesDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> ChargePage:
    before = _before(cursor)
    views = await services.app_charging.of_driver(principal.driver_id, before, limit)
    next_cursor = (
        encode_cursor(views[-1].charge.created_at.isoformat()) if len(views) == limit else None
    )
    return ChargePage(items=[ChargeOut.of(v) for v in views], next_cursor=next_cursor)


def _before(cursor: str | None) -> datetime | None:
    text = decode_cursor(cursor)
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("the cursor is not one this server gave out") from None


def _json(view: ChargeView, status: int, headers: dict[str, str] | None = None) -> Response:
    body = ChargeOut.of(view).model_dump_json()
    return Response(body, status_code=status, media_type="application/json", headers=headers)
