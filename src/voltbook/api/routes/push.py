"""Web Push: drivers register their browsers so notices reach them while the app is closed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from voltbook.api.deps import PrincipalDep, ServicesDep
from voltbook.api.problems import problem_responses
from voltbook.api.push_schemas import PushKeyOut, PushSubscriptionIn, PushSubscriptionOut

router = APIRouter(prefix="/api/v1/push", tags=["push"])


@router.get(
    "/key",
    response_model=PushKeyOut,
    summary="The server's VAPID public key (public: it is the same for everyone)",
)
async def public_key(services: ServicesDep) -> PushKeyOut:
    return PushKeyOut(public_key=services.push.public_key)


@router.post(
    "/subscriptions",
    status_code=201,
    response_model=PushSubscriptionOut,
    responses=problem_responses(401, 409, 422),
    summary="Keep this browser's push subscription for you (a known endpoint moves to you)",
)
async def subscribe(
    body: PushSubscriptionIn, services: ServicesDep, principal: PrincipalDep
) -> PushSubscriptionOut:
    saved = await services.push.subscribe(
        principal.driver_id, body.endpoint, body.keys.p256dh, body.keys.auth
    )
    return PushSubscriptionOut.of(saved)


@router.delete(
    "/subscriptions",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 404, 422),
    summary="Forget one of your push subscriptions",
)
async def unsubscribe(
    services: ServicesDep,
    principal: PrincipalDep,
    endpoint: Annotated[str, Query(min_length=1, max_length=2048)],
) -> Response:
    await services.push.unsubscribe(principal.driver_id, endpoint)
    return Response(status_code=204)
