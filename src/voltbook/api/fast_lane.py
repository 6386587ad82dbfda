"""The busiest read answered without FastAPI's routing and dependency solving.

`GET /api/v1/stations/nearby` is what every driver app asks most, and FastAPI spent about a
third of the server's CPU on it before the search began (matching routes one by one, solving
the dependencies, validating parameter by parameter, its exception and exit-stack layers).
This middleware sits inside the metrics middleware and answers that request itself when its
query is plain: every key known and given once, and valid for `NearbyParams`, the very model
the route declares. Anything else (an unknown or repeated key, a value the model refuses, a
connector name nobody knows) goes on to the route, which answers it as documented,
problem+json included; the lane has sent nothing by then. The OpenAPI document still comes
from the route, and the tests hold both ways to the same answers.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from pydantic import ValidationError
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from voltbook.api.nearby_params import NearbyParams
from voltbook.api.schemas import nearby_json
from voltbook.core.errors import InvalidInput
from voltbook.services import Services

_KEYS = frozenset(NearbyParams.model_fields)
_JSON = (b"content-type", b"application/json")


class FastLane:
    """Pure ASGI middleware; `route` is the route it stands in for (its answers carry it in
    the scope, as the route's own do, so the metrics label them alike)."""

    def __init__(self, app: ASGIApp, route: BaseRoute) -> None:
        self.app = app
        self.route = route
        self.path: str = getattr(route, "path", "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == self.path
            and scope["method"] == "GET"
            and (body := await self._nearby(scope)) is not None
        ):
            scope["route"] = self.route
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [_JSON, (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)

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
        return nearby_json((item.site, item.distance_m) for item in found)


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
