"""Schema migrations (Alembic), run on the application's own async engine."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

_SCRIPTS = Path(__file__).with_name("migrations")


def _config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to `revision` (default: the newest)."""
    async with engine.connect() as connection:
        await connection.run_sync(lambda sync: command.upgrade(_config(sync), revision))
        await connection.commit()


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.connect() as connection:
        await connection.run_sync(lambda sync: command.downgrade(_config(sync), revision))
        await connection.commit()


async def is_current(engine: AsyncEngine) -> bool:
    """Whether the database is at the newest revision."""

    def check(sync: sa.Connection) -> bool:
        heads = set(ScriptDirectory.from_config(_config(sync)).get_heads())
        return set(MigrationContext.configure(sync).get_current_heads()) == heads

    async with engine.connect() as connection:
        return await connection.run_sync(check)
