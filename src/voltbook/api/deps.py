"""Request dependencies: the use cases, and who is calling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from voltbook.api.audit import mark_staff
from voltbook.api.request_rules import BearerToken
from voltbook.core.errors import Unauthenticated
from voltbook.drivers.model import Principal
from voltbook.drivers.service import require_staff
from voltbook.services import Services
from voltbook.stations.fleet import STATION_ID_PATTERN

oauth2 = BearerToken(tokenUrl="/api/v1/auth/token", auto_error=False)


# Both are `async def`: FastAPI runs a plain `def` dependency in a worker thread.
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def current_principal(
    services: ServicesDep, token: Annotated[str | None, Depends(oauth2)], request: Request
) -> Principal:
    if not token:
        raise Unauthenticated("this needs a bearer token")
    # The account and its role as stored now, not as the token says (one indexed read).
    principal = await services.accounts.authenticate(token)
    if principal.role.is_staff:  # what staff write is kept in the audit log (api/audit.py)
        mark_staff(request.scope.setdefault("state", {}), principal)
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def staff_principal(principal: PrincipalDep) -> Principal:
    """The signed-in operator (or admin); a driver gets 403."""
    require_staff(principal)
    return principal


StaffDep = Annotated[Principal, Depends(staff_principal)]
StationPath = Annotated[str, Path(min_length=1, max_length=48, pattern=STATION_ID_PATTERN)]
