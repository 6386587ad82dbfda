"""The busiest read answered without FastAPI's routing and dependency solving.

`GET /api/v1/stations/nearby` is what every driver app asks most, and FastAPI spent about a
third of the server's CPU on it before the search began (matching routes one by one, solving
the dependencies, validating parameter by parameter, its exception and exit-stack layers).
This middleware sits inside the metrics middleware and answers that request itself when its
query is plain: every key known and given once, and valid for `NearbyParams`, the very model
the route declares. Anything else (an unknown or repeated key, a value the model refuses, a
connector name nobody knows) goes on to the route, which answers it as documented,
problem+json included; the lane has sent nothing by then. The OpenAPI document still comes
from the route, and the tests hold both ways to the same answers. `booking_lane` does the
same for `POST /api/v1/reservations`, the busiest write.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from pydantic import ValidationError
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from voltbook.api import booking_lane
from voltbook.api.deps import get_services
from voltbook.api.nearby_params import NearbyParams
from voltbook.api.request_rules import Honoured
from voltbook.api.schemas import nearby_json
from voltbook.core.errors import InvalidInput
from voltbook.services import Services

_KEYS = frozenset(NearbyParams.model_fields)
_JSON = (b"content-type", b"application/json")
# What the lane does of the route's dependencies (see request_rules.Honoured).
HONOURED = Honoured(dependencies=frozenset({get_services}), query=(NearbyParams,))


class FastLane:
    """Pure ASGI middleware; `nearby` and `booking` are the routes it stands in for (its
    answers carry them in the scope, as the routes' own do, so the metrics label them alike)."""

    def __init__(self, app: ASGIApp, nearby: BaseRoute, booking: BaseRoute) -> None:
        self.app = app
        self.nearby = nearby
        self.booking = booking
        self.nearby_path: str = getattr(nearby, "path", "")
        self.booking_path: str = getattr(booking, "path", "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif scope["method"] == "GET" and scope["path"] == self.nearby_path:
            await self._answer_nearby(scope, receive, send)
        elif scope["method"] == "POST" and scope["path"] == self.booking_path:
            await booking_lane.book(scope, receive, send, self.app, self.booking)
        else:
            await self.app(scope, receive, send)

    async def _answer_nearby(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await self._nearby(scope)
        if body is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = self.nearby
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [_JSON, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _nearby(self, scope: Scope) -> bytes | None:
        params = plain_query(scope["query_string"])
        services: Services | None = getattr(scope["app"].state, "services", None)
        if params is None or services is None:
            return None
        try:
            query = NearbyParams.model_validate(params).query()
        except (ValidationError, InvalidInput):
            return None
        found = await services.stations.nearby(query)
        flags = services.forecasts.likely_free_sites if services.forecasts else None
        return nearby_json(((item.site, item.distance_m) for item in found), flags)


def plain_query(raw: bytes) -> dict[str, str | list[str]] | None:
    """The query string as one value per key (`connector` as a list of one, as the route
    reads it), or None when a key is unknown or repeated: the route decides those."""
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    params: dict[str, str | list[str]] = dict(pairs)
    if len(params) != len(pairs) or not _KEYS.issuperset(params):
        return None
    if (connector := params.get("connector")) is not None:
        params["connector"] = [connector] if isinstance(connector, str) else connector
    return params
