"""Accounts and sign-in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from voltbook.api.deps import ServicesDep
from voltbook.api.problems import problem_responses
from voltbook.api.schemas import AccountOut, RegisterIn, TokenOut

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
    summary="Sign in (OAuth2 password form) and get a bearer token",
)
async def token(
    request: Request,
    services: ServicesDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> TokenOut:
    address = request.client.host if request.client else "unknown"
    issued = await services.accounts.sign_in(form.username, form.password, address)
    return TokenOut(access_token=issued.access_token, expires_in=issued.expires_in)
