"""Drivers register and sign in; tokens prove who calls; brute force is throttled."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.e2e.conftest import running_server, server_settings
from voltbook.cli import app as cli

PROBLEM = "application/problem+json"
PASSWORD = "correct horse battery staple"


def email() -> str:
    return f"driver-{secrets.token_hex(4)}@example.org"


async def sign_in(client: httpx.AsyncClient, address: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/token", data={"username": address, "password": password})


async def test_a_driver_registers_signs_in_and_sees_their_account(
    client: httpx.AsyncClient,
) -> None:
    address = email()
    created = await client.post(
        "/api/v1/auth/register", json={"email": address.upper(), "password": PASSWORD}
    )
    assert created.status_code == 201
    assert created.json()["email"] == address
    assert created.json()["role"] == "driver"
    assert "password" not in created.text

    token = await sign_in(client, address, PASSWORD)
    assert token.status_code == 200
    assert token.json()["token_type"] == "bearer"
    me = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["id"] == created.json()["id"]
    assert me.json()["consent_location"] is False


async def test_second_registration_with_the_same_email_is_a_409(client: httpx.AsyncClient) -> None:
    address = email()
    body = {"email": address, "password": PASSWORD}
    assert (await client.post("/api/v1/auth/register", json=body)).status_code == 201
    again = await client.post("/api/v1/auth/register", json=body)
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-address", "password": PASSWORD},
        {"email": "a@example.org", "password": "short"},
        {"email": "a@example.org"},
        {"password": PASSWORD},
    ],
)
async def test_bad_registration_is_a_422_problem(
    client: httpx.AsyncClient, body: dict[str, str]
) -> None:
    response = await client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


async def test_wrong_password_and_unknown_account_look_the_same(client: httpx.AsyncClient) -> None:
    address = email()
    await client.post("/api/v1/auth/register", json={"email": address, "password": PASSWORD})
    wrong = await sign_in(client, address, "not the password at all")
    unknown = await sign_in(client, email(), PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert wrong.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Bearer a.b.c", "Basic abc"])
async def test_me_without_a_valid_token_is_a_401(
    client: httpx.AsyncClient, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = await client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


async def test_more_than_ten_failures_a_minute_are_throttled(
    database_url: str, tmp_path: Path, engine: object
) -> None:
    async with (
        running_server(server_settings(database_url, tmp_path)) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        victim = email()
        await client.post("/api/v1/auth/register", json={"email": victim, "password": PASSWORD})
        for _ in range(10):
            assert (await sign_in(client, victim, "wrong password!!")).status_code == 401
        blocked = await sign_in(client, victim, PASSWORD)
        assert blocked.status_code == 429
        assert blocked.headers["content-type"] == PROBLEM
        assert int(blocked.headers["retry-after"]) > 0


async def test_failures_from_one_address_across_accounts_are_throttled(
    database_url: str, tmp_path: Path, engine: object
) -> None:
    async with (
        running_server(server_settings(database_url, tmp_path)) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        for _ in range(10):
            assert (await sign_in(client, email(), "wrong password!!")).status_code == 401
        assert (await sign_in(client, email(), "wrong password!!")).status_code == 429


async def test_operator_created_on_the_command_line_signs_in_as_operator(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    address = email()
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["user", "create", address, "--role", "operator", "--password", PASSWORD],
        env={"VOLTBOOK_DATABASE_URL": database_url, "VOLTBOOK_DATA_DIR": str(tmp_path)},
    )
    assert result.exit_code == 0, result.output
    token = await sign_in(client, address, PASSWORD)
    me = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.json()["role"] == "operator"
