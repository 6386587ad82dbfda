"""Sign-in for the browser ends (the driver app, the operator console), on the token model
of docs/adr/0014: the access token goes to the page (which keeps it in memory only); the
refresh token goes into an HttpOnly, Secure, SameSite=Strict cookie that only the refresh
route ever receives, so no script, and no other page, can read or send it. Each client has
its own cookie (`vb_app_refresh`, `vb_console_refresh`), so the two can be signed in on one
origin as different accounts. Every route here checks the Origin header: only pages served
by this server may call them. See docs/adr/0016-driver-web-app.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Cookie, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from voltbook.api.deps import PrincipalDep, ServicesDep
from voltbook.api.problems import problem_responses
from voltbook.core.errors import Forbidden, Unauthenticated
from voltbook.drivers.service import IssuedToken

PREFIX = "/api/v1/auth/browser"
Client = Literal["app", "console"]
REFRESH_LIFETIME_S = 30 * 24 * 3600  # as the refresh token itself (docs/adr/0014)

router = APIRouter(prefix=PREFIX, tags=["accounts"])


class BrowserTokenOut(BaseModel):
    access_token: str = Field(description="Keep it in memory only; send as a Bearer token")
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


def cookie_name(client: Client) -> str:
    return f"vb_{client}_refresh"


def refresh_path(client: Client) -> str:
    return f"{PREFIX}/{client}/refresh"


def same_origin(request: Request) -> None:
    """Refuse a call made from a page this server did not serve (a cross-site form, another
    origin's script): the Origin header must name this very server."""
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin is None or origin != own:
        raise Forbidden("only the app served by this server may do this")


SameOrigin = Depends(same_origin)


def _answer(client: Client, issued: IssuedToken, response: Response) -> BrowserTokenOut:
    response.set_cookie(
        cookie_name(client),
        issued.refresh_token,
        max_age=REFRESH_LIFETIME_S,
        path=refresh_path(client),
        secure=True,
        httponly=True,
        samesite="strict",
    )
    response.headers["Cache-Control"] = "no-store"
    return BrowserTokenOut(access_token=issued.access_token, expires_in=issued.expires_in)


@router.post(
    "/{client}/token",
    response_model=BrowserTokenOut,
    responses=problem_responses(401, 403, 422, 429),
    dependencies=[SameOrigin],
    summary="Browser sign-in: the access token, and the refresh token as a cookie",
)
async def browser_token(
    client: Client,
    request: Request,
    response: Response,
    services: ServicesDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> BrowserTokenOut:
    address = request.client.host if request.client else "unknown"
    issued = await services.accounts.sign_in(form.username, form.password, address)
    return _answer(client, issued, response)


@router.post(
    "/{client}/refresh",
    response_model=BrowserTokenOut,
    responses=problem_responses(401, 403),
    dependencies=[SameOrigin],
    summary="A new access token for the refresh cookie (which is rotated)",
)
async def browser_refresh(
    client: Client,
    request: Request,
    response: Response,
    services: ServicesDep,
    vb_app_refresh: Annotated[str | None, Cookie()] = None,
    vb_console_refresh: Annotated[str | None, Cookie()] = None,
) -> BrowserTokenOut:
    token = vb_app_refresh if client == "app" else vb_console_refresh
    if not token:
        raise Unauthenticated("not signed in on this browser")
    # A refused one (used, expired, signed out) stays useless in the browser until the next
    # sign-in replaces it.
    return _answer(client, await services.accounts.refresh(token), response)


@router.post(
    "/{client}/logout",
    status_code=204,
    responses=problem_responses(401, 403),
    dependencies=[SameOrigin],
    summary="Sign out: the sign-in ends on the server and the cookie is removed",
)
async def browser_logout(
    client: Client, services: ServicesDep, principal: PrincipalDep
) -> Response:
    await services.accounts.sign_out(principal)
    response = Response(status_code=204)
    response.delete_cookie(
        cookie_name(client),
        path=refresh_path(client),
        secure=True,
        httponly=True,
        samesite="strict",
    )
    return response
