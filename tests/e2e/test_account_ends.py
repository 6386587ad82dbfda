"""The token model over HTTP and the live channel (docs/adr/0014): refresh rotation and reuse,
sign-out, password change, and accounts deleted, demoted or blocked, all holding from the
account's next request, with its open live channels closed within 5 s."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import websockets
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from tests.e2e.conftest import open_services, server_settings
from tests.e2e.test_reservations import Site, book, eventually, site
from voltbook.cli import app as cli
from voltbook.drivers.model import Role
from voltbook.storage.tables import drivers, id_tokens, vehicles

__all__ = ["site"]  # the booking tests' station fixture, used here too
PROBLEM = "application/problem+json"
PASSWORD = "correct horse battery staple"
Headers = dict[str, str]


async def account(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path, role: Role = Role.DRIVER
) -> tuple[str, dict[str, str]]:
    """A new account of `role` and its sign-in's tokens (access and refresh)."""
    email = f"{role.value}-{secrets.token_hex(4)}@example.org"
    if role is Role.DRIVER:
        made = await client.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
        )
        assert made.status_code == 201
    else:
        async with open_services(server_settings(database_url, tmp_path)) as services:
            await services.accounts.register(email, PASSWORD, role)
    return email, await sign_in(client, email)


async def sign_in(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    token = await client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert token.status_code == 200, token.text
    body: dict[str, str] = token.json()
    return body


def bearer(tokens: dict[str, str]) -> Headers:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def refused(client: httpx.AsyncClient, tokens: dict[str, str]) -> None:
    answer = await client.get("/api/v1/me", headers=bearer(tokens))
    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"] == PROBLEM


async def closed_within(socket: websockets.ClientConnection, seconds: float = 5.0) -> int:
    """The close code the server sends within `seconds`."""
    async with asyncio.timeout(seconds):
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await socket.recv()
    assert socket.close_code is not None
    return socket.close_code


def live_url(server_url: str) -> str:
    return server_url.replace("http://", "ws://") + "/api/v1/live"


async def test_sign_in_answers_a_short_access_token_and_a_refresh_token(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    _, tokens = await account(client, database_url, tmp_path)
    assert tokens["token_type"] == "bearer"
    assert int(tokens["expires_in"]) == 900
    assert len(tokens["refresh_token"]) >= 43


async def test_a_refresh_rotates_and_a_reused_refresh_token_ends_the_sign_in(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    _, first = await account(client, database_url, tmp_path)
    renewed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert renewed.status_code == 200, renewed.text
    second = renewed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await client.get("/api/v1/me", headers=bearer(second))).status_code == 200

    reused = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert reused.status_code == 401
    assert reused.headers["content-type"] == PROBLEM
    await refused(client, second)
    await refused(client, first)
    again = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert again.status_code == 401


async def test_logout_ends_the_tokens_and_closes_the_live_channel(
    client: httpx.AsyncClient, server_url: str, database_url: str, tmp_path: Path
) -> None:
    email, tokens = await account(client, database_url, tmp_path)
    other = await sign_in(client, email)
    async with (
        websockets.connect(live_url(server_url), additional_headers=bearer(tokens)) as mine,
        websockets.connect(live_url(server_url), additional_headers=bearer(other)) as theirs,
    ):
        await mine.recv()  # welcome
        await theirs.recv()
        out = await client.post("/api/v1/auth/logout", headers=bearer(tokens))
        assert out.status_code == 204
        assert await closed_within(mine) == 4401
        await theirs.send('{"type": "ping", "id": 1}')
        assert "pong" in str(await theirs.recv())  # the other sign-in is untouched
    await refused(client, tokens)
    again = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert again.status_code == 401


async def test_a_password_change_ends_the_other_sign_ins(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    email, here = await account(client, database_url, tmp_path)
    elsewhere = await sign_in(client, email)
    wrong = await client.put(
        "/api/v1/me/password",
        json={"current_password": "not it at all", "new_password": "a new passphrase"},
        headers=bearer(here),
    )
    assert wrong.status_code == 403
    changed = await client.put(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a new passphrase"},
        headers=bearer(here),
    )
    assert changed.status_code == 204, changed.text
    assert (await client.get("/api/v1/me", headers=bearer(here))).status_code == 200
    await refused(client, elsewhere)


async def test_a_deleted_account_is_gone_its_bookings_cancelled_and_its_token_refused(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    server_url: str,
    database_url: str,
    tmp_path: Path,
    site: Site,
) -> None:
    email, tokens = await account(client, database_url, tmp_path)
    driver_id = (await client.get("/api/v1/me", headers=bearer(tokens))).json()["id"]
    made_vehicle = await client.post(
        "/api/v1/vehicles",
        json={"name": "Van", "battery_kwh": 60, "standards": ["CCS1"], "max_dc_kw": 50},
        headers=bearer(tokens),
    )
    assert made_vehicle.status_code == 201, made_vehicle.text
    booked = await book(
        client, bearer(tokens), {"station_id": site.id, "connector_id": 1, "minutes": 30}
    )
    assert booked.status_code == 201, booked.text
    reservation = booked.json()
    await eventually(lambda: _async(bool(site.calls("ReserveNow"))))

    async with websockets.connect(live_url(server_url), additional_headers=bearer(tokens)) as app:
        await app.recv()
        gone = await client.delete("/api/v1/me", headers=bearer(tokens))
        assert gone.status_code == 204, gone.text
        assert await closed_within(app) == 4401

    # The charger is told to let the connector go; the booking is cancelled.
    await eventually(lambda: _async(bool(site.calls("CancelReservation"))))
    assert [c["reservationId"] for c in site.calls("CancelReservation")] == [reservation["id"]]
    # Writes and reads alike: 401, never 500.
    write = await client.post(
        "/api/v1/vehicles", json={"name": "X", "battery_kwh": 10}, headers=bearer(tokens)
    )
    assert write.status_code == 401
    assert write.headers["content-type"] == PROBLEM
    async with engine.connect() as connection:
        by_email = await connection.execute(sa.select(drivers).where(drivers.c.email == email))
        tombstone = (
            await connection.execute(sa.select(drivers).where(drivers.c.id == driver_id))
        ).one()
        left = await connection.execute(
            sa.select(sa.func.count()).where(vehicles.c.driver_id == driver_id)
        )
        cards = await connection.execute(
            sa.select(sa.func.count()).where(id_tokens.c.driver_id == driver_id)
        )
        assert by_email.first() is None
        assert (left.scalar(), cards.scalar()) == (0, 0)
    assert tombstone.deleted_at is not None
    assert tombstone.consent_location is False
    assert tombstone.consent_offers is False
    # The address can be used again.
    again = await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert again.status_code == 201


async def test_a_demoted_operator_loses_operator_routes_on_the_next_request(
    client: httpx.AsyncClient, server_url: str, database_url: str, tmp_path: Path
) -> None:
    _, operator = await account(client, database_url, tmp_path, Role.OPERATOR)
    _, admin = await account(client, database_url, tmp_path, Role.ADMIN)
    me = (await client.get("/api/v1/me", headers=bearer(operator))).json()
    assert (
        await client.get("/api/v1/operator/stations", headers=bearer(operator))
    ).status_code == 200
    async with websockets.connect(live_url(server_url), additional_headers=bearer(operator)) as app:
        await app.recv()
        demoted = await client.post(
            f"/api/v1/operator/accounts/{me['id']}/demote", headers=bearer(admin)
        )
        assert demoted.status_code == 200, demoted.text
        assert demoted.json()["role"] == "driver"
        assert await closed_within(app) == 4401
    answer = await client.get("/api/v1/operator/stations", headers=bearer(operator))
    assert answer.status_code == 403
    assert answer.headers["content-type"] == PROBLEM


async def test_an_operator_cannot_demote_another_operator(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    _, one = await account(client, database_url, tmp_path, Role.OPERATOR)
    _, two = await account(client, database_url, tmp_path, Role.OPERATOR)
    two_id = (await client.get("/api/v1/me", headers=bearer(two))).json()["id"]
    answer = await client.post(f"/api/v1/operator/accounts/{two_id}/demote", headers=bearer(one))
    assert answer.status_code == 403


async def test_a_block_from_the_command_line_holds_at_once_and_closes_the_live_channel(
    client: httpx.AsyncClient,
    operator: dict[str, str],
    server_url: str,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    email, tokens = await account(client, database_url, tmp_path)
    monkeypatch.setenv("VOLTBOOK_DATABASE_URL", database_url)
    monkeypatch.setenv("VOLTBOOK_DATA_DIR", str(tmp_path))
    async with websockets.connect(live_url(server_url), additional_headers=bearer(tokens)) as app:
        await app.recv()
        # The command runs in a process of its own in real life: no event reaches the server,
        # whose sweep closes the channel within 5 s.
        result = await asyncio.to_thread(CliRunner().invoke, cli, ["account", "block", email])
        assert result.exit_code == 0, result.output
        await refused(client, tokens)
        assert await closed_within(app) == 4401
    blocked = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": PASSWORD}
    )
    assert blocked.status_code == 401
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["account", "unblock", email])
    assert result.exit_code == 0, result.output
    await sign_in(client, email)
    # Both are operator actions: in the audit log, by the command line, as the API's are.
    log = await client.get("/api/v1/operator/audit", headers=operator)
    actions = [(e["action"], e["actor_role"]) for e in log.json()["items"]]
    assert ("voltbook account block", "cli") in actions
    assert ("voltbook account unblock", "cli") in actions


async def _async(value: bool) -> bool:
    return value
