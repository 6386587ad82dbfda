"""Engine creation, with the settings each dialect needs."""

from __future__ import annotations

from typing import Any

import aiosqlite
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util.concurrency import await_


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and foreign keys."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            from pathlib import Path

            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # Each unit of work ends its own transaction; a second rollback when the connection
        # goes back to the pool would only cost one more trip to the connection's thread.
        # Last in, first out: the few connections a quiet server needs are the ones reused,
        # so the others' page caches are never filled (each holds its cache for its life).
        # As many connections as PostgreSQL's pool allows at most (2 x pool_size), kept open
        # once made: overflow connections closed after each burst (a reconnect storm's
        # admissions) were opened again by the next, each with a thread, a schema and a page
        # cache of its own, and what they freed stayed with the allocator: 2,000 chargers
        # booting left 10 MB of it (docs/benchmarks.md, idle chargers).
        engine = create_async_engine(
            url,
            pool_size=2 * pool_size,
            max_overflow=0,
            pool_reset_on_return=None,
            pool_use_lifo=True,
        )
        sa.event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        sa.event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
        return engine
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"server_settings": {"application_name": "voltbook", "jit": "off"}},
    )


def create_reader(url: str, pool_size: int = 10) -> AsyncEngine | None:
    """PostgreSQL: an engine of its own for read-only units of work, whose connections are
    in autocommit from the start. Switching a pooled connection of the main engine to
    autocommit and back costs more than a nearby search's own Python (docs/adr/0012).
    SQLite: None (a read there is a deferred transaction on the main engine)."""
    if is_sqlite(url):
        return None
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        isolation_level="AUTOCOMMIT",
        connect_args={"server_settings": {"application_name": "voltbook-reads", "jit": "off"}},
    )


async def analyze_sites(engine: AsyncEngine) -> None:
    """Fresh planner statistics for the sites, stations and connectors, after an import.

    On PostgreSQL a freshly loaded table has none until autovacuum gets to it, and the
    nearby search's reads of the sites are then planned as scans (about 80 ms instead of
    under 1 ms with 1,000,000 sites). SQLite's plans for them do not depend on statistics.
    """
    if engine.dialect.name != "postgresql":
        return
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.exec_driver_sql("ANALYZE sites, stations, connectors")


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide where transactions begin (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # Reads through the file mapped into memory (up to 512 MiB, shared by every connection
    # through the OS page cache), and a page cache of 2 MiB per connection (SQLite's
    # default) for the pages a transaction writes. A connection's cache, once filled, stays
    # filled for its life: at 64 MiB each (when nearby searches still read SQL), one large
    # write transaction, then another on another pooled connection, raised the server's
    # memory in steps of 30 MiB; at 8 MiB, in steps of 8 (docs/reliability.md, OCPP fuzzing).
    cursor.execute("PRAGMA cache_size=-2048")
    cursor.execute("PRAGMA mmap_size=536870912")
    cursor.close()


def _sqlite_on_begin(connection: sa.Connection) -> None:
    # Writers take the write lock at BEGIN, so two writers never deadlock on lock upgrade;
    # this is what serializes write transactions on SQLite.
    if connection.get_execution_options().get("sqlite_read_only"):
        # One trip to aiosqlite's thread instead of three (cursor, execute, close): a read
        # (deferred) BEGIN cannot wait for a lock, so there is nothing to translate.
        driver = connection.connection.driver_connection
        if isinstance(driver, aiosqlite.Connection):
            await_(driver._execute(driver._conn.execute, "BEGIN"))  # type: ignore[no-untyped-call]
        else:
            connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
