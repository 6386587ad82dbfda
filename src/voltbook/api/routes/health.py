"""Liveness, readiness and metrics for the people and machines that run voltbook."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from voltbook.api.deps import ServicesDep
from voltbook.api.problems import problem_response, problem_responses

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz", summary="Storage is reachable and migrated", responses=problem_responses(503)
)
async def readyz(services: ServicesDep) -> Response:
    problem = await services.ready()
    if problem is not None:
        return problem_response(503, "not-ready", problem)
    return JSONResponse({"status": "ready"})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)
