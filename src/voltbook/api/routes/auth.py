"""Accounts and sign-in: access tokens, refresh tokens, sign-out (docs/adr/0014)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from voltbook.api.deps import PrincipalDep, ServicesDep
from voltbook.api.problems import problem_responses
from voltbook.api.schemas import AccountOut, RefreshIn, RegisterIn, TokenOut
from voltbook.drivers.service import IssuedToken

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post(
    "/auth/register",
    status_code=201,
    response_model=AccountOut,
    responses=problem_responses(409, 422),
    summary="Create a driver account",
)
async def register(body: RegisterIn, services: ServicesDep) -> AccountOut:
    driver = await services.accounts.register(body.email, body.password)
    return AccountOut.of(driver)


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses=problem_responses(401, 422, 429),
    summary="Sign in (OAuth2 password form): a short-lived access token and a refresh token",
)
async def token(
    request: Request,
    services: ServicesDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> TokenOut:
    address = request.client.host if request.client else "unknown"
    return _out(await services.accounts.sign_in(form.username, form.password, address))


@router.post(
    "/auth/refresh",
    response_model=TokenOut,
    responses=problem_responses(401, 422),
    summary="Trade a refresh token for a new access token and a new refresh token",
    description="Each refresh token works once. Showing one that was used already ends "
    "the whole sign-in (every token it produced) and answers 401.",
)
async def refresh(body: RefreshIn, services: ServicesDep) -> TokenOut:
    return _out(await services.accounts.refresh(body.refresh_token))


@router.post(
    "/auth/logout",
    status_code=204,
    responses=problem_responses(401),
    summary="Sign out: this sign-in's access and refresh tokens stop working at once",
)
async def logout(services: ServicesDep, principal: PrincipalDep) -> Response:
    await services.accounts.sign_out(principal)
    return Response(status_code=204)


def _out(issued: IssuedToken) -> TokenOut:
    return TokenOut(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        refresh_token=issued.refresh_token,
    )
