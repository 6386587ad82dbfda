"""Staff operations that end or change an account: find, delete, demote, block, unblock.

Staff act on drivers; only admins act on operators and admins; nobody acts here on their own
account. Each change holds from the account's next request on every node (docs/adr/0014).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel

from voltbook.api.deps import PrincipalDep, ServicesDep, staff_principal
from voltbook.api.problems import problem_responses
from voltbook.drivers.model import EMAIL_PATTERN, Driver, Role

router = APIRouter(
    prefix="/api/v1/operator/accounts",
    tags=["operator"],
    dependencies=[Depends(staff_principal)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
AccountPath = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9_-]+$")]


class StaffAccountOut(BaseModel):
    id: str
    email: str
    role: Role
    blocked: bool

    @classmethod
    def of(cls, driver: Driver) -> StaffAccountOut:
        return cls(id=driver.id, email=driver.email, role=driver.role, blocked=driver.blocked)


@router.get("", response_model=StaffAccountOut, summary="The account with this e-mail address")
async def find_account(
    services: ServicesDep,
    email: Annotated[str, Query(max_length=254, pattern=EMAIL_PATTERN)],
) -> StaffAccountOut:
    return StaffAccountOut.of(await services.accounts.find(email))


@router.delete("/{account_id}", status_code=204, summary="Delete an account (as DELETE /me does)")
async def delete_account(
    services: ServicesDep, staff: PrincipalDep, account_id: AccountPath
) -> Response:
    await services.accounts.close(account_id, staff)
    return Response(status_code=204)


@router.post(
    "/{account_id}/demote",
    response_model=StaffAccountOut,
    summary="Make a staff account a driver account (admins only)",
)
async def demote(
    services: ServicesDep, staff: PrincipalDep, account_id: AccountPath
) -> StaffAccountOut:
    return StaffAccountOut.of(await services.accounts.set_role(account_id, Role.DRIVER, staff))


@router.post(
    "/{account_id}/block",
    response_model=StaffAccountOut,
    summary="Block an account: its sign-ins end and it cannot sign in again",
)
async def block(
    services: ServicesDep, staff: PrincipalDep, account_id: AccountPath
) -> StaffAccountOut:
    return StaffAccountOut.of(await services.accounts.set_blocked(account_id, True, staff))


@router.post("/{account_id}/unblock", response_model=StaffAccountOut, summary="Unblock an account")
async def unblock(
    services: ServicesDep, staff: PrincipalDep, account_id: AccountPath
) -> StaffAccountOut:
    return StaffAccountOut.of(await services.accounts.set_blocked(account_id, False, staff))
