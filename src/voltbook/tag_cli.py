"""`voltbook tag …`: id tokens (RFID cards, app tokens) from the command line.

A change is kept with the card for the stations (ADR 0035): a running server clears their
caches and brings their lists in line within seconds, as it does for a change made in the
console. Each change is in the audit log, as the API's are."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from voltbook.config import Settings
from voltbook.core.errors import DomainError, InvalidInput
from voltbook.idtokens.model import IdToken, Standing, TokenFilter, TokenKind
from voltbook.services import Services

tag_app = typer.Typer(help="Id tokens: RFID cards and app tokens.", no_args_is_help=True)
console = Console(stderr=True)
T = TypeVar("T")


def _run(work: Callable[[Services], Awaitable[T]]) -> T:
    from voltbook.bootstrap import open_services
    from voltbook.logs import configure_logging

    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)

    async def run() -> T:
        async with open_services(settings, upgrade=True, serving=False) as services:
            return await work(services)

    try:
        return asyncio.run(run())
    except DomainError as error:
        console.print(f"[red]{error.detail}[/]")
        raise typer.Exit(code=1) from None


def _change(command: str, token: str, work: Callable[[Services], Awaitable[IdToken]]) -> None:
    """A change of `token`, shown when done, and kept in the audit log (done or refused) as
    `voltbook tag <command>`."""
    from voltbook.cli_audit import audited

    def answer(done: IdToken) -> object:
        return {"token": done.token, "blocked": done.blocked, "driver_id": done.driver_id}

    _show(_run(lambda s: audited(s, f"voltbook tag {command}", f"token={token}", work, answer)))


def _line(token: IdToken, now: datetime) -> str:
    expires = token.expires_at.isoformat() if token.expires_at else "-"
    return "\t".join(
        [token.token, token.kind.value, token.standing(now).value, token.driver_id or "-", expires]
    )


def _show(token: IdToken) -> None:
    typer.echo(_line(token, datetime.now().astimezone()))


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput("give the time as ISO 8601 with its offset, e.g. 2027-01-31T00:00Z")
    return moment


@tag_app.command("list")
def tag_list(
    standing: Annotated[Standing | None, typer.Option(case_sensitive=False)] = None,
    kind: Annotated[TokenKind | None, typer.Option(case_sensitive=False)] = None,
    driver: Annotated[str | None, typer.Option(help="Only this driver's tokens")] = None,
    prefix: Annotated[str | None, typer.Option(help="Tokens starting with this")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
    after: Annotated[str | None, typer.Option(help="Tokens after this one (next page)")] = None,
) -> None:
    """Tokens by value: token, kind, standing, driver, expiry (tab-separated)."""
    where = TokenFilter(standing, kind, driver, prefix)

    async def work(services: Services) -> tuple[list[IdToken], datetime]:
        return await services.id_tokens.page(after, limit, where), services.id_tokens.now()

    tokens, now = _run(work)
    for token in tokens:
        typer.echo(_line(token, now))


@tag_app.command("add")
def tag_add(
    token: str,
    kind: Annotated[TokenKind, typer.Option(case_sensitive=False)] = TokenKind.RFID,
    driver: Annotated[str | None, typer.Option(help="The driver it belongs to")] = None,
    expires: Annotated[str | None, typer.Option(help="ISO 8601 time it expires at")] = None,
) -> None:
    """Register a card or app token; it is accepted from now on."""
    _change("add", token, lambda s: s.id_tokens.add(token, kind, driver, _when(expires)))


@tag_app.command("block")
def tag_block(token: str) -> None:
    """Refuse the token everywhere (a running server clears stations' caches of it)."""
    _change("block", token, lambda s: s.id_tokens.block(token))


@tag_app.command("unblock")
def tag_unblock(token: str) -> None:
    _change("unblock", token, lambda s: s.id_tokens.unblock(token))


@tag_app.command("expire")
def tag_expire(
    token: str,
    at: Annotated[str | None, typer.Option(help="ISO 8601 time; now when left out")] = None,
) -> None:
    """Let the token expire now, or at a given time."""
    _change("expire", token, lambda s: s.id_tokens.expire(token, _when(at)))


@tag_app.command("assign")
def tag_assign(
    token: str,
    driver: Annotated[str | None, typer.Argument(help="Driver id; left out: nobody")] = None,
) -> None:
    """Give the token to a driver, or to nobody."""
    _change("assign", token, lambda s: s.id_tokens.assign(token, driver))
