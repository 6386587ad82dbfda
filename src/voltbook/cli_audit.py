"""Operator actions taken on the command line, kept in the audit log as the API's are
(docs/adr/0026): the actor is the command line and the account of the machine it ran under,
the action the command as typed, the status the API would have answered."""

from __future__ import annotations

import getpass
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog

from voltbook.api.problems import status_of
from voltbook.audit.model import AuditEntry, clean_value, storable
from voltbook.core.errors import DomainError
from voltbook.services import Services

T = TypeVar("T")
_log = structlog.get_logger("voltbook.audit")


def cli_actor() -> str:
    """ "cli:" and the name of the machine's account that ran the command (36 characters)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for the process's user id (a bare container)
        user = "unknown"
    return storable(f"cli:{user}")[:36]


async def audited(
    services: Services,
    action: str,
    target: str,
    work: Callable[[Services], Awaitable[T]],
    answer: Callable[[T], object] | None = None,
) -> T:
    """Run `work` and keep an entry of it, done or refused; a failing write of the entry is
    logged, never taken for a failure of the action (it is done)."""
    try:
        result = await work(services)
    except DomainError as error:
        await _keep(services, action, target, status_of(error), error.code, error.detail)
        raise
    said = None if answer is None else answer(result)
    await _keep(services, action, target, 200, "done", said)
    return result


async def _keep(
    services: Services, action: str, target: str, status: int, outcome: str, said: object
) -> None:
    entry = AuditEntry(
        at=None,
        actor_id=cli_actor(),
        actor_role="cli",
        action=storable(action)[:200],
        target=storable(target)[:300],
        station_id=None,
        status_code=status,
        outcome=outcome,
        answer=None if said is None else clean_value(said),
    )
    try:
        await services.audit.record(entry)
    except Exception as error:  # the action stands; the gap in the log is said loudly
        _log.error("audit entry not kept", action=action, error=type(error).__name__)
