"""A real voltbook server on a free loopback port, reached over real HTTP."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from voltbook.api.app import create_app
from voltbook.bootstrap import open_services
from voltbook.config import Settings
from voltbook.services import Services


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def running_server(settings: Settings) -> AsyncIterator[str]:
    """Serve the app with uvicorn until the block ends; yields its base URL."""
    async with running_app(settings) as (url, _app):
        yield url


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[tuple[str, FastAPI]]:
    """Serve the app with uvicorn until the block ends; yields its base URL and the app."""
    port = free_port()
    app = create_app(lambda: open_services(settings, upgrade=True))
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            ws_max_size=settings.ocpp_max_frame_bytes,
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        else:
            raise RuntimeError("the server did not start")
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        await task


def server_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        jwt_secret="test-secret-that-is-long-enough-for-hs256-0123456789",
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
async def server_url(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    settings = server_settings(database_url, tmp_path_factory.mktemp("data"))
    async with running_server(settings) as url:
        yield url


@pytest.fixture
async def client(server_url: str, engine: object) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the shared server; the database is emptied before each test."""
    async with httpx.AsyncClient(base_url=server_url, timeout=10) as http:
        yield http


OPERATOR_PASSWORD = "operator password 123"


@pytest.fixture
async def operator(client: httpx.AsyncClient, database_url: str, tmp_path: Path) -> dict[str, str]:
    """Authorization header of a fresh operator account."""
    import secrets

    from voltbook.drivers.model import Role

    email = f"operator-{secrets.token_hex(4)}@example.org"
    async with open_services(server_settings(database_url, tmp_path)) as services:
        await services.accounts.register(email, OPERATOR_PASSWORD, Role.OPERATOR)
    token = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": OPERATOR_PASSWORD}
    )
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


# --- a fresh server per test, with its services at hand ---------------------------------


@pytest.fixture
def app_overrides() -> dict[str, object]:
    """Settings a test module wants different on its own server (override the fixture)."""
    return {}


@pytest.fixture
async def served(
    database_url: str, engine: object, tmp_path: Path, app_overrides: dict[str, object]
) -> AsyncIterator[tuple[str, FastAPI]]:
    """A server of its own for one test (the database emptied first): its URL and app."""
    async with running_app(server_settings(database_url, tmp_path, **app_overrides)) as running:
        yield running


@pytest.fixture
def base(served: tuple[str, FastAPI]) -> str:
    return served[0]


@pytest.fixture
def services(served: tuple[str, FastAPI]) -> Services:
    """The running server's own services, to drive or inspect what HTTP does not show."""
    opened: Services = served[1].state.services
    return opened


@pytest.fixture
async def http(base: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        yield client
