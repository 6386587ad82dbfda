"""The FastAPI application factory. Nothing happens at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import CollectorRegistry
from starlette.types import Receive, Scope, Send

import voltbook
from voltbook.api.audit import AuditTrail
from voltbook.api.body_guard import DEFAULT_LIMIT, BodyGuard
from voltbook.api.console_web import mount_console
from voltbook.api.fast_lane import FastLane
from voltbook.api.metrics import (
    BackgroundErrors,
    HttpMetrics,
    MetricsMiddleware,
    TelemetryCollector,
)
from voltbook.api.problems import Problem, install_problem_handlers
from voltbook.api.routes import (
    accounts,
    audit,
    auth,
    browser_auth,
    charging,
    figures,
    forecasts,
    health,
    id_tokens,
    journal,
    me,
    network,
    offers,
    operator,
    places,
    push,
    reservations,
    sessions_admin,
    station_tools,
    stations,
    utilisation,
    vehicles,
)
from voltbook.api.web import WebOptions, install_web
from voltbook.services import Services

ServicesFactory = Callable[[], AbstractAsyncContextManager[Services]]


def create_app(
    services: ServicesFactory,
    *,
    fast_lane: bool = True,
    web: WebOptions | None = None,
    cors_origins: Sequence[str] = (),
    body_limit: int = DEFAULT_LIMIT,
    body_limits: Mapping[str, int] | None = None,
) -> FastAPI:
    """An app whose lifespan opens the services (storage, …) and closes them on shutdown.

    `fast_lane=False` leaves every request to FastAPI's routes (tests compare the two).
    `web`: what the browser ends are told (tile URL); `cors_origins`: other origins whose
    apps may call the API (none by default). `body_limit` bytes is the most a request body
    may have; `body_limits` sets it per path prefix."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with services() as opened:
            app.state.services = opened
            collector = TelemetryCollector(opened.telemetry)
            registry.register(collector)
            try:
                yield
            finally:
                registry.unregister(collector)

    app = _App(
        title="voltbook",
        version=voltbook.__version__,
        description="Find, reserve and fill electric-vehicle chargers.",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load from a CDN: web.py serves its own
        redoc_url=None,
    )
    registry = CollectorRegistry()
    app.state.registry = registry

    def failure_counts() -> dict[str, int]:
        running = getattr(app.state, "services", None)
        return {} if running is None else dict(running.failures.counts)

    registry.register(BackgroundErrors(failure_counts))
    app.add_middleware(AuditTrail)  # innermost: only requests that reach the routes
    if fast_lane:  # inside the metrics middleware: its answers are counted too
        app.add_middleware(FastLane, nearby=stations.nearby_route, booking=reservations.book_route)
    # Outside the fast lanes: they read only bodies that the guard let through.
    app.add_middleware(BodyGuard, limit=body_limit, limits=body_limits)
    app.add_middleware(MetricsMiddleware, metrics=HttpMetrics(registry))
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            expose_headers=["Location", "Idempotent-Replayed", "Retry-After"],
            max_age=600,
        )
    install_problem_handlers(app)
    # Routes are matched in the order they are included, one by one: the busiest first.
    for router in (
        health.router,
        stations.router,
        forecasts.router,
        reservations.router,
        auth.router,
        browser_auth.router,
        operator.router,
        accounts.router,
        network.router,
        id_tokens.router,
        journal.router,
        audit.router,
        utilisation.router,
        figures.router,
        sessions_admin.router,
        station_tools.router,
        push.router,
        offers.router,
        offers.drivers_router,
        me.router,
        vehicles.router,
        charging.router,
        places.router,
    ):
        app.include_router(router)
    browser_ends = web or WebOptions()
    install_web(app, browser_ends)
    mount_console(app, browser_ends)

    original_openapi = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            schema = original_openapi()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["Problem"] = Problem.model_json_schema()
            # Validation errors are problem+json too, not FastAPI's default shape.
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    _document_query_text(operation)
                    _document_busy_storage(operation)
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


def _document_busy_storage(operation: dict[str, Any]) -> None:
    """Any operation may find storage busy (no connection free in time, the write lock held
    too long): 503 problem+json with Retry-After, and nothing changed."""
    operation.setdefault("responses", {}).setdefault(
        "503",
        {
            "description": "Storage busy: nothing was changed; try again after Retry-After",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        },
    )


def _document_query_text(operation: dict[str, Any]) -> None:
    """A text query parameter keeps out NUL (the body guard refuses it): say so."""
    for parameter in operation.get("parameters", []):
        options = [parameter.get("schema", {})]
        options += options[0].get("anyOf", [])
        for option in options:
            if option.get("type") == "string" and "pattern" not in option:
                option["pattern"] = "^[^\\u0000]*$"


class _App(FastAPI):
    """FastAPI, except that the two WebSocket endpoints are reached directly (docs/adr/0013).

    A station or an app keeps its socket for hours and every frame it is sent went through
    each middleware's send wrapper; the live channel fans one status out to thousands of
    sockets. These endpoints need none of the HTTP middleware (they authenticate and answer
    in their own protocols), so they skip it: less memory per socket, less CPU per frame.
    They are reached only here: FastAPI has no route for them, and any other WebSocket
    request (or one before the services are open) finds none and is refused.
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
