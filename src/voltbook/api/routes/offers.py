"""Location-based offers: operators make and end them; drivers' apps say when one was opened."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from voltbook.api.cursors import decode_int_cursor, encode_cursor
from voltbook.api.deps import PrincipalDep, ServicesDep, StaffDep, staff_principal
from voltbook.api.offer_schemas import OfferIn, OfferOut, OfferPage, OfferPatch
from voltbook.api.problems import problem_responses
from voltbook.core.errors import InvalidInput
from voltbook.offers.model import OfferKind, Trigger
from voltbook.offers.rules import OfferSpec

router = APIRouter(
    prefix="/api/v1/operator/offers",
    tags=["offers"],
    dependencies=[Depends(staff_principal)],
    responses=problem_responses(401, 403, 422),
)
drivers_router = APIRouter(prefix="/api/v1/offers", tags=["offers"])
OfferPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
_NOT_NULL = ("title", "kind", "value", "area", "trigger", "starts_at", "ends_at", "max_per_driver")


@router.post(
    "",
    status_code=201,
    response_model=OfferOut,
    summary="Make an offer: a discount or price for drivers near the chargers it is for",
)
async def create_offer(
    body: OfferIn, services: ServicesDep, staff: StaffDep, request: Request, response: Response
) -> OfferOut:
    spec = OfferSpec(
        title=body.title,
        kind=OfferKind(body.kind),
        value=body.value,
        area=body.area.area(),
        trigger=Trigger(body.trigger),
        ends_at=body.ends_at,
        starts_at=body.starts_at,
        station_ids=tuple(body.station_ids or ()),
        idle_minutes=body.idle_minutes,
        soc_below=body.soc_below,
        max_per_driver=body.max_per_driver,
        max_redemptions=body.max_redemptions,
    )
    offer = await services.offers.create(staff.driver_id, spec)
    response.headers["Location"] = f"{request.url.path.rstrip('/')}/{offer.id}"
    return OfferOut.of(offer, services.offers.now())


@router.get("", response_model=OfferPage, summary="Offers, newest first")
async def list_offers(
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> OfferPage:
    found = await services.offers.page(decode_int_cursor(cursor), limit)
    now = services.offers.now()
    next_cursor = encode_cursor(found[-1].id or 0) if len(found) == limit else None
    return OfferPage(items=[OfferOut.of(o, now) for o in found], next_cursor=next_cursor)


@router.get(
    "/{offer_id}",
    response_model=OfferOut,
    responses=problem_responses(404),
    summary="One offer with its figures: sent, opened, redeemed, idle minutes filled",
)
async def get_offer(services: ServicesDep, offer_id: OfferPath) -> OfferOut:
    offer = await services.offers.get(offer_id)
    stats = await services.offers.stats(offer_id)
    return OfferOut.of(offer, services.offers.now(), stats)


@router.patch(
    "/{offer_id}",
    response_model=OfferOut,
    responses=problem_responses(404, 409),
    summary="Change an offer that has not ended or expired",
)
async def update_offer(services: ServicesDep, offer_id: OfferPath, body: OfferPatch) -> OfferOut:
    changes: dict[str, Any] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is None and name in _NOT_NULL:
            raise InvalidInput(f"{name} cannot be null")
        changes[name] = value
    if body.area is not None:
        changes["area"] = body.area.area()
    if body.kind is not None:
        changes["kind"] = OfferKind(body.kind)
    if body.trigger is not None:
        changes["trigger"] = Trigger(body.trigger)
    if "station_ids" in changes:
        changes["station_ids"] = tuple(body.station_ids or ())
    offer = await services.offers.update(offer_id, changes)
    stats = await services.offers.stats(offer_id)
    return OfferOut.of(offer, services.offers.now(), stats)


@router.post(
    "/{offer_id}/end",
    response_model=OfferOut,
    responses=problem_responses(404),
    summary="End an offer now: it is sent no more and no longer redeems",
)
async def end_offer(services: ServicesDep, offer_id: OfferPath) -> OfferOut:
    offer = await services.offers.end(offer_id)
    stats = await services.offers.stats(offer_id)
    return OfferOut.of(offer, services.offers.now(), stats)


@drivers_router.post(
    "/deliveries/{delivery_id}/opened",
    status_code=204,
    responses=problem_responses(401, 404, 422),
    summary="The app showed an offer to its driver (counts once)",
)
async def offer_opened(
    services: ServicesDep,
    principal: PrincipalDep,
    delivery_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> Response:
    await services.offers.opened(principal.driver_id, delivery_id)
    return Response(status_code=204)
