"""The signed-in account: its consents, quiet hours and last shared position."""

from __future__ import annotations

from fastapi import APIRouter, Response

from voltbook.api.deps import PrincipalDep, ServicesDep
from voltbook.api.driver_schemas import MeOut, MePatch, PositionIn, PositionOut
from voltbook.api.problems import problem_responses
from voltbook.api.schemas import PasswordChangeIn
from voltbook.core.errors import NotFound
from voltbook.drivers.privacy_model import Preferences

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.get("/me", response_model=MeOut, responses=problem_responses(401, 404))
async def me(services: ServicesDep, principal: PrincipalDep) -> MeOut:
    return MeOut.of(await services.privacy.preferences(principal.driver_id))


@router.delete(
    "/me",
    status_code=204,
    responses=problem_responses(401),
    summary="Delete your account",
    description="Your live bookings are cancelled (their chargers released); your vehicles, "
    "push subscriptions, consents and position are deleted; your past charging sessions stay "
    "without a link to you; every sign-in ends and open live channels close.",
)
async def delete_me(services: ServicesDep, principal: PrincipalDep) -> Response:
    await services.accounts.close(principal.driver_id, principal)
    return Response(status_code=204)


@router.put(
    "/me/password",
    status_code=204,
    responses=problem_responses(401, 403, 422),
    summary="Change your password; every other sign-in of your account ends",
)
async def change_password(
    body: PasswordChangeIn, services: ServicesDep, principal: PrincipalDep
) -> Response:
    await services.accounts.change_password(principal, body.current_password, body.new_password)
    return Response(status_code=204)


@router.patch(
    "/me",
    response_model=MeOut,
    responses=problem_responses(401, 404, 422),
    summary="Consents (both off until you turn them on), quiet hours and time zone",
)
async def update_me(body: MePatch, services: ServicesDep, principal: PrincipalDep) -> MeOut:
    current = await services.privacy.preferences(principal.driver_id)
    sent = body.model_fields_set
    wanted = Preferences(
        consent_location=(
            body.consent_location if body.consent_location is not None else current.consent_location
        ),
        consent_offers=(
            body.consent_offers if body.consent_offers is not None else current.consent_offers
        ),
        quiet_hours=body.quiet_hours if "quiet_hours" in sent else current.quiet_hours,
        time_zone=body.time_zone if "time_zone" in sent else current.time_zone,
    )
    driver = await services.privacy.update_me(principal.driver_id, wanted)
    return MeOut.of(driver)


@router.put(
    "/me/location",
    response_model=PositionOut,
    responses=problem_responses(401, 403, 422),
    summary="Share your position (kept as the last one only, forgotten after a while)",
    description="Needs consent_location. The live channel's `location` message does the same.",
)
async def put_location(
    body: PositionIn, services: ServicesDep, principal: PrincipalDep
) -> PositionOut:
    position = await services.privacy.record_position(
        principal.driver_id, body.lat, body.lon, body.accuracy_m, body.at
    )
    return PositionOut.of(position)


@router.get(
    "/me/location",
    response_model=PositionOut,
    responses=problem_responses(401, 404),
    summary="Your last shared position, while it has not expired",
)
async def get_location(services: ServicesDep, principal: PrincipalDep) -> PositionOut:
    position = await services.privacy.last_position(principal.driver_id)
    if position is None:
        raise NotFound("no position is stored for you")
    return PositionOut.of(position)


@router.delete(
    "/me/location",
    status_code=204,
    responses=problem_responses(401),
    summary="Forget your position now",
)
async def delete_location(services: ServicesDep, principal: PrincipalDep) -> Response:
    await services.privacy.forget_position(principal.driver_id)
    return Response(status_code=204)
