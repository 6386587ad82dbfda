"""The FastAPI application factory. Nothing happens at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send

import voltbook
from voltbook.api.body_guard import DEFAULT_LIMIT, BodyGuard
from voltbook.api.fast_lane import FastLane
from voltbook.api.metrics import HttpMetrics, MetricsMiddleware
from voltbook.api.problems import Problem, install_problem_handlers
from voltbook.api.routes import (
    accounts,
    auth,
    health,
    me,
    offers,
    operator,
    push,
    reservations,
    stations,
    vehicles,
)
from voltbook.services import Services

ServicesFactory = Callable[[], AbstractAsyncContextManager[Services]]


def create_app(
    services: ServicesFactory,
    *,
    fast_lane: bool = True,
    body_limit: int = DEFAULT_LIMIT,
    body_limits: Mapping[str, int] | None = None,
) -> FastAPI:
    """An app whose lifespan opens the services (storage, …) and closes them on shutdown.

    `fast_lane=False` leaves every request to FastAPI's routes (tests compare the two).
    `body_limit` bytes is the most a request body may have; `body_limits` sets it per path
    prefix."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with services() as opened:
            app.state.services = opened
            yield

    app = _App(
        title="voltbook",
        version=voltbook.__version__,
        description="Find, reserve and fill electric-vehicle chargers.",
        lifespan=lifespan,
    )
    registry = CollectorRegistry()
    app.state.registry = registry
    if fast_lane:  # inside the metrics middleware: its answers are counted too
        app.add_middleware(FastLane, nearby=stations.nearby_route, booking=reservations.book_route)
    # Outside the fast lanes: they read only bodies that the guard let through.
    app.add_middleware(BodyGuard, limit=body_limit, limits=body_limits)
    app.add_middleware(MetricsMiddleware, metrics=HttpMetrics(registry))
    install_problem_handlers(app)
    # Routes are matched in the order they are included, one by one: the busiest first.
    app.include_router(health.router)
    app.include_router(stations.router)
    app.include_router(reservations.router)
    app.include_router(auth.router)
    app.include_router(operator.router)
    app.include_router(accounts.router)
    app.include_router(push.router)
    app.include_router(offers.router)
    app.include_router(offers.drivers_router)
    app.include_router(me.router)
    app.include_router(vehicles.router)
    app.router.routes.append(WebSocketRoute("/ocpp/{station_id}", _OcppEndpoint()))
    app.router.routes.append(WebSocketRoute("/api/v1/live", _LiveEndpoint()))

    original_openapi = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            schema = original_openapi()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["Problem"] = Problem.model_json_schema()
            # Validation errors are problem+json too, not FastAPI's default shape.
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    answer = operation.get("responses", {}).get("422")
                    if answer is not None:
                        answer["content"] = {
                            "application/problem+json": {
                                "schema": {"$ref": "#/components/schemas/Problem"}
                            }
                        }
            components.pop("HTTPValidationError", None)
            components.pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


class _App(FastAPI):
    """FastAPI, except that the two WebSocket endpoints are reached directly.

    A station or an app keeps its socket for hours and every frame it is sent went through
    each middleware's send wrapper; the live channel fans one status out to thousands of
    sockets. These endpoints need none of the HTTP middleware (they authenticate and answer
    in their own protocols), so they skip it: less memory per socket, less CPU per frame.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and hasattr(self.state, "services"):
            path: str = scope["path"]
            services: Services = self.state.services
            if path == "/api/v1/live":
                await services.live(scope, receive, send)
                return
            station_id = path[6:] if path.startswith("/ocpp/") else ""
            if station_id and "/" not in station_id:
                scope["path_params"] = {"station_id": station_id}
                await services.ocpp_endpoint(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


class _OcppEndpoint:
    """Hands station WebSockets to the OCPP gateway the services were opened with."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services: Services = scope["app"].state.services
        await services.ocpp_endpoint(scope, receive, send)


class _LiveEndpoint:
    """Hands the apps' live channels to the hub the services were opened with."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services: Services = scope["app"].state.services
        await services.live(scope, receive, send)
