"""A real voltbook server on a free loopback port, reached over real HTTP."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import PG_ADMIN_DSN
from voltbook.api.app import create_app
from voltbook.api.lean_websocket import LeanWebSocketProtocol
from voltbook.bootstrap import open_services
from voltbook.config import Settings
from voltbook.services import Services
from voltbook.sim import StationSpec, fetch_station_specs
from voltbook.storage import migrate
from voltbook.storage.database import create_engine
from voltbook.storage.tables import id_tokens


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
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        ws=LeanWebSocketProtocol,  # as `voltbook serve` (cli.py)
        ws_max_size=settings.ocpp_max_frame_bytes,
    )
    async with serving(config):
        yield f"http://127.0.0.1:{port}", app


@asynccontextmanager
async def serving(config: uvicorn.Config) -> AsyncIterator[None]:
    """Run a uvicorn server in this event loop from its start until the block ends."""
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        else:
            raise RuntimeError(f"the server on port {config.port} did not start")
        yield
    finally:
        server.should_exit = True
        await task


def server_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    # Tests change the database underneath a running server and search at once: searches
    # read the database, unless a test asks for the in-memory catalog (up to 1 s behind
    # such changes, docs/adr/0022; tests/e2e/test_nearby_memory.py).
    overrides.setdefault("nearby_in_memory", False)
    # Tests look at a station right after they close its connection: offline at once, unless
    # a test asks for the grace period (docs/adr/0034; tests/e2e/test_offline_grace.py).
    overrides.setdefault("ocpp_offline_grace_s", 0)
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        jwt_secret="test-secret-that-is-long-enough-for-hs256-0123456789",
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="package")
async def server_url(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """One server on the session's database for a package of tests, stopped when the
    package ends: its job loop claims every due job in that database, and the storage tests
    that run later schedule jobs there and claim them themselves."""
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


@pytest.fixture(scope="session")
async def template_database(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A migrated, empty database that `own_database` copies (SQLite file or PG template)."""
    if make_url(database_url).get_backend_name() == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
        engine = create_engine(url)
        await migrate.upgrade(engine)
        await engine.dispose()
        yield str(path)
        return
    name = f"voltbook_tpl_{os.getpid()}_{secrets.token_hex(3)}"
    await pg_admin(f'CREATE DATABASE "{name}"')
    engine = create_engine(make_url(database_url).set(database=name).render_as_string(False))
    await migrate.upgrade(engine)
    await engine.dispose()
    try:
        yield name
    finally:
        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def pg_admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture
async def own_database(
    database_url: str, template_database: str, tmp_path: Path
) -> AsyncIterator[tuple[str, AsyncEngine]]:
    """A database of this test's own (a copy of the migrated template): a server started on
    it is the only one polling its jobs, unlike one sharing the session's database."""
    if make_url(database_url).get_backend_name() == "sqlite":
        path = tmp_path / "own.sqlite3"
        shutil.copyfile(template_database, path)
        url = f"sqlite+aiosqlite:///{path}"
        dropped = None
    else:
        name = f"voltbook_own_{os.getpid()}_{secrets.token_hex(4)}"
        await pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
        url = make_url(database_url).set(database=name).render_as_string(False)
        dropped = name
    engine = create_engine(url)
    try:
        yield url, engine
    finally:
        await engine.dispose()
        if dropped is not None:
            await pg_admin(f'DROP DATABASE IF EXISTS "{dropped}" WITH (FORCE)')


@pytest.fixture
async def served(
    own_database: tuple[str, AsyncEngine], tmp_path: Path, app_overrides: dict[str, object]
) -> AsyncIterator[tuple[str, FastAPI]]:
    """A server of its own for one test, on a database of its own: its URL and app.
    (Modules using it point `engine` at `own_database` too.)"""
    settings = server_settings(own_database[0], tmp_path, **app_overrides)
    async with running_app(settings) as running:
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


@pytest.fixture
async def route_only(served: tuple[str, FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    """The `served` server's own services behind an app without the fast lanes, in this
    process: what the documented routes answer, to hold the lanes to."""
    running: Services = served[1].state.services

    @asynccontextmanager
    async def already_open() -> AsyncIterator[Services]:
        yield running

    app = create_app(already_open, fast_lane=False)
    app.state.services = running
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://route") as client:
        yield client


async def simulated_station_spec(
    client: httpx.AsyncClient,
    operator: dict[str, str],
    server_url: str,
    engine: AsyncEngine,
    station_id: str,
    card: str,
) -> StationSpec:
    """Registers `station_id` and a card the network accepts; returns what voltbook's own
    simulator needs to connect as that station (its password included)."""
    made = await client.post("/api/v1/operator/stations", json={"id": station_id}, headers=operator)
    assert made.status_code == 201, made.text
    async with engine.begin() as connection:
        await connection.execute(
            id_tokens.insert().values(token=card, status="Accepted", created_at=datetime.now(UTC))
        )
    me = (await client.get("/api/v1/me", headers=operator)).json()["email"]
    specs = await fetch_station_specs(server_url, me, OPERATOR_PASSWORD, 500, take_over=True)
    return next(s for s in specs if s.id == station_id)
