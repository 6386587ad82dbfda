"""The FastAPI application factory. Nothing happens at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send

import voltbook
from voltbook.api.metrics import HttpMetrics, MetricsMiddleware
from voltbook.api.problems import Problem, install_problem_handlers
from voltbook.api.routes import auth, health, me, operator, reservations, stations, vehicles
from voltbook.services import Services

ServicesFactory = Callable[[], AbstractAsyncContextManager[Services]]


def create_app(services: ServicesFactory) -> FastAPI:
    """An app whose lifespan opens the services (storage, …) and closes them on shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with services() as opened:
            app.state.services = opened
            yield

    app = FastAPI(
        title="voltbook",
        version=voltbook.__version__,
        description="Find, reserve and fill electric-vehicle chargers.",
        lifespan=lifespan,
    )
    registry = CollectorRegistry()
    app.state.registry = registry
    app.add_middleware(MetricsMiddleware, metrics=HttpMetrics(registry))
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(stations.router)
    app.include_router(auth.router)
    app.include_router(operator.router)
    app.include_router(reservations.router)
    app.include_router(me.router)
    app.include_router(vehicles.router)
    app.router.routes.append(WebSocketRoute("/ocpp/{station_id}", _OcppEndpoint()))

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


class _OcppEndpoint:
    """Hands station WebSockets to the OCPP gateway the services were opened with."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services: Services = scope["app"].state.services
        await services.ocpp_endpoint(scope, receive, send)
