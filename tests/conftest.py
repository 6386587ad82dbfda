"""Shared fixtures: real databases (SQLite file and a fresh PostgreSQL database per run)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from voltbook.storage import migrate
from voltbook.storage.database import create_engine

PG_ADMIN_DSN = os.environ.get("VOLTBOOK_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A new PostgreSQL database for this test run, dropped afterwards."""
    import asyncio

    name = f"voltbook_test_{os.getpid()}_{secrets.token_hex(4)}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "voltbook.sqlite3"
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Every storage test runs once on SQLite and once on PostgreSQL/PostGIS."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture(scope="session")
async def migrated_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def engine(migrated_engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """A migrated database, emptied before each test."""
    await wipe(migrated_engine)
    return migrated_engine


async def wipe(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        for table in (
            "offer_deliveries", "offers", "push_subscriptions", "notices", "driver_topics",
            "driver_positions", "reservation_jobs", "reservation_history", "reservations", "alarms", "session_meter_chunks", "charging_sessions", "id_token_changes", "id_tokens", "station_auth_list_entries", "station_auth_lists", "auth_list_rule", "station_message_chunks", "status_history", "forecast_models", "audit_log", "vehicles", "drivers",
            "connectors", "stations", "sites",
        ):  # fmt: skip
            await connection.execute(sa.text(f"DELETE FROM {table}"))
