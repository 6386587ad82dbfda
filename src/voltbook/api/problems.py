"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException

from voltbook.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    StorageBusy,
    TimedOut,
    Unauthenticated,
    UpstreamFailed,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
_log = structlog.get_logger("voltbook.api")

_STATUS: dict[type[DomainError], int] = {
    StorageBusy: 503,
    InvalidInput: 422,
    NotFound: 404,
    Conflict: 409,
    Unauthenticated: 401,
    Forbidden: 403,
    RateLimited: 429,
    UpstreamFailed: 502,
    TimedOut: 504,
}
_TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    502: "Bad answer from a station",
    503: "Not ready",
    504: "No answer in time",
}


class Problem(BaseModel):
    """An error, as RFC 9457 problem details. `type` is stable; `detail` is for people."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


def problem_type(code: str) -> str:
    return f"urn:voltbook:problem:{code}"


def problem_response(
    status: int,
    code: str,
    detail: str | None,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": _TITLES.get(status, "Error"),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def problem_responses(
    *statuses: int, models: dict[int, type[Problem]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI description of the problem responses a route may give; `models` names a
    richer problem (one with extension members) for some of the statuses."""
    described: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        model = (models or {}).get(status, Problem)
        described[status] = {
            "model": model,
            "description": _TITLES.get(status, "Error"),
            "content": {
                PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        }
    return described


def status_of(error: DomainError) -> int:
    """The HTTP status a use case's refusal is answered with."""
    return next((s for t, s in _STATUS.items() if isinstance(error, t)), 400)


def domain_problem(error: DomainError, path: str) -> JSONResponse:
    """The answer to a use case's refusal, for a request to `path`."""
    status = status_of(error)
    headers: dict[str, str] = {}
    if isinstance(error, RateLimited | StorageBusy):
        headers["Retry-After"] = str(error.retry_after_s)
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    return problem_response(
        status,
        error.code,
        error.detail,
        instance=path,
        headers=headers,
        **jsonable_encoder(error.details),
    )


def install_problem_handlers(app: FastAPI) -> None:
    async def domain_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, DomainError)
        return domain_problem(error, request.url.path)

    async def validation_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        errors = [
            {
                "loc": [str(part) for part in item.get("loc", ())],
                "msg": str(item.get("msg", "")),
                "type": str(item.get("type", "")),
            }
            for item in error.errors()
        ]
        where = ", ".join(".".join(e["loc"]) for e in errors) or "the request"
        return problem_response(
            422,
            "validation-error",
            f"invalid value in {where}",
            instance=request.url.path,
            errors=errors,
        )

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        headers = dict(error.headers) if error.headers else None
        detail = error.detail if isinstance(error.detail, str) else None
        return problem_response(
            error.status_code,
            f"http-{error.status_code}",
            detail,
            instance=request.url.path,
            headers=headers,
        )

    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        _log.error("unhandled error", path=request.url.path, error=type(error).__name__)
        return problem_response(
            500, "internal-error", "the server failed", instance=request.url.path
        )

    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
