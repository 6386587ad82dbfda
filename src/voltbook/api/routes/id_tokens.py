"""The operator's API for id tokens (RFID cards, app tokens) and authorization lists."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from voltbook.api.cursors import decode_cursor, encode_cursor
from voltbook.api.deps import ServicesDep, StationPath, staff_principal
from voltbook.api.idtoken_schemas import (
    DRIVER_ID_PATTERN,
    AssignIn,
    ExpireIn,
    IdTokenIn,
    IdTokenOut,
    IdTokenPage,
    ListRuleIo,
    ListStateOut,
    SyncOut,
)
from voltbook.api.problems import problem_responses
from voltbook.idtokens.model import TOKEN_PATTERN, IdToken, Standing, TokenFilter, TokenKind
from voltbook.services import Services

router = APIRouter(
    prefix="/api/v1/operator",
    tags=["id tokens"],
    dependencies=[Depends(staff_principal)],
    responses=problem_responses(401, 403, 422),
)
TokenPath = Annotated[str, Path(min_length=1, max_length=36, pattern=TOKEN_PATTERN)]
ONE = problem_responses(404)


def _out(services: Services, token: IdToken) -> IdTokenOut:
    return IdTokenOut.of(token, services.id_tokens.now())


@router.get("/id-tokens", response_model=IdTokenPage, summary="Id tokens by value, page by page")
async def list_id_tokens(
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
    standing: Standing | None = None,
    kind: TokenKind | None = None,
    driver_id: Annotated[str | None, Query(pattern=DRIVER_ID_PATTERN)] = None,
    prefix: Annotated[str | None, Query(max_length=36, pattern=TOKEN_PATTERN)] = None,
) -> IdTokenPage:
    where = TokenFilter(standing, kind, driver_id, prefix)
    found = await services.id_tokens.page(decode_cursor(cursor), limit, where)
    next_cursor = encode_cursor(found[-1].token) if len(found) == limit else None
    return IdTokenPage(items=[_out(services, t) for t in found], next_cursor=next_cursor)


@router.post(
    "/id-tokens",
    status_code=201,
    response_model=IdTokenOut,
    responses=problem_responses(404, 409),
    summary="Register a card or app token; accepted from now on",
)
async def add_id_token(services: ServicesDep, body: IdTokenIn) -> IdTokenOut:
    made = await services.id_tokens.add(body.token, body.kind, body.driver_id, body.expires_at)
    return _out(services, made)


@router.get("/id-tokens/{token}", response_model=IdTokenOut, responses=ONE)
async def get_id_token(services: ServicesDep, token: TokenPath) -> IdTokenOut:
    return _out(services, await services.id_tokens.get(token))


@router.post(
    "/id-tokens/{token}/block",
    response_model=IdTokenOut,
    responses=problem_responses(404, 409),
    summary="Refuse the token everywhere; stations' authorization caches are cleared",
)
async def block_id_token(services: ServicesDep, token: TokenPath) -> IdTokenOut:
    return _out(services, await services.id_tokens.block(token))


@router.post(
    "/id-tokens/{token}/unblock", response_model=IdTokenOut, responses=problem_responses(404, 409)
)
async def unblock_id_token(services: ServicesDep, token: TokenPath) -> IdTokenOut:
    return _out(services, await services.id_tokens.unblock(token))


@router.post(
    "/id-tokens/{token}/expire",
    response_model=IdTokenOut,
    responses=ONE,
    summary="Let the token expire now or at a given time",
)
async def expire_id_token(services: ServicesDep, token: TokenPath, body: ExpireIn) -> IdTokenOut:
    return _out(services, await services.id_tokens.expire(token, body.at))


@router.post(
    "/id-tokens/{token}/renew",
    response_model=IdTokenOut,
    responses=ONE,
    summary="Remove the token's expiry",
)
async def renew_id_token(services: ServicesDep, token: TokenPath) -> IdTokenOut:
    return _out(services, await services.id_tokens.renew(token))


@router.put(
    "/id-tokens/{token}/driver",
    response_model=IdTokenOut,
    responses=ONE,
    summary="Give the token to a driver (null: to nobody)",
)
async def assign_id_token(services: ServicesDep, token: TokenPath, body: AssignIn) -> IdTokenOut:
    return _out(services, await services.id_tokens.assign(token, body.driver_id))


@router.get(
    "/auth-list-rule", response_model=ListRuleIo, summary="Which cards go to which stations"
)
async def get_list_rule(services: ServicesDep) -> ListRuleIo:
    return ListRuleIo.of(await services.auth_lists.rule())


@router.put(
    "/auth-list-rule",
    response_model=ListRuleIo,
    summary="Set which stations hold authorization lists; online stations follow at once",
)
async def set_list_rule(services: ServicesDep, body: ListRuleIo) -> ListRuleIo:
    rule = await services.auth_lists.set_rule(body.rule())
    services.auth_lists.worker.submit(services.auth_lists.sync_all)
    return ListRuleIo.of(rule)


@router.get(
    "/stations/{station_id}/auth-list",
    response_model=ListStateOut,
    responses=ONE,
    summary="The station's authorization list as voltbook last set it",
)
async def get_station_list(services: ServicesDep, station_id: StationPath) -> ListStateOut:
    return ListStateOut.of(station_id, await services.auth_lists.state(station_id))


@router.post(
    "/stations/{station_id}/auth-list/sync",
    response_model=SyncOut,
    responses=ONE,
    summary="Bring the station's authorization list in line now (full: send it whole)",
)
async def sync_station_list(
    services: ServicesDep, station_id: StationPath, full: bool = False
) -> SyncOut:
    return SyncOut.of(await services.auth_lists.sync(station_id, full=full))
