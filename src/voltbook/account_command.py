"""`voltbook account delete|demote|promote|block|unblock EMAIL`: the operator's hand on an
account from the server's own machine (no actor: the command line may do anything). Each
is kept in the audit log, as the API's actions are."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

import typer
from rich.console import Console

from voltbook.config import Settings
from voltbook.core.errors import DomainError
from voltbook.drivers.model import Role
from voltbook.services import Services

account_app = typer.Typer(help="End or change an account.", no_args_is_help=True)
console = Console(stderr=True)
Email = Annotated[str, typer.Argument(help="The account's e-mail address")]


def _act(
    email: str, action: Callable[[Services, str], Awaitable[object]], done: str, name: str
) -> None:
    from voltbook.bootstrap import open_services
    from voltbook.cli_audit import audited
    from voltbook.logs import configure_logging

    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)

    async def run() -> None:
        async with open_services(settings, upgrade=True, serving=False) as services:
            driver = await services.accounts.find(email)
            await audited(
                services,
                f"voltbook account {name}",
                f"driver_id={driver.id}",
                lambda s: action(s, driver.id),
            )

    try:
        asyncio.run(run())
    except DomainError as error:
        console.print(f"[red]{error.detail}[/]")
        raise typer.Exit(code=1) from None
    console.print(f"{email}: {done}")


@account_app.command("delete")
def delete(email: Email) -> None:
    """Delete the account as DELETE /api/v1/me does."""
    _act(email, lambda s, i: s.accounts.close(i), "deleted", "delete")


@account_app.command("demote")
def demote(email: Email) -> None:
    """Make the account a driver account."""
    _act(email, lambda s, i: s.accounts.set_role(i, Role.DRIVER), "now a driver", "demote")


@account_app.command("promote")
def promote(
    email: Email,
    role: Annotated[Role, typer.Option(case_sensitive=False)] = Role.OPERATOR,
) -> None:
    """Make the account an operator (or, with --role admin, an admin)."""
    _act(email, lambda s, i: s.accounts.set_role(i, role), f"now {role.value}", "promote")


@account_app.command("block")
def block(email: Email) -> None:
    """End every sign-in of the account and refuse new ones."""
    _act(email, lambda s, i: s.accounts.set_blocked(i, True), "blocked", "block")


@account_app.command("unblock")
def unblock(email: Email) -> None:
    _act(email, lambda s, i: s.accounts.set_blocked(i, False), "unblocked", "unblock")
