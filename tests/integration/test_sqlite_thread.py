"""The one call into aiosqlite's internals (storage/sqlite_thread.py), pinned: a version of
aiosqlite without `_execute` or `_conn` fails here rather than in a nearby search."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import aiosqlite
import pytest

from voltbook.storage.sqlite_thread import on_connection_thread


def where_and_what(connection: sqlite3.Connection, number: int) -> tuple[str, int, bool]:
    (answer,) = connection.execute("SELECT ? + 1", (number,)).fetchone()
    return threading.current_thread().name, answer, isinstance(connection, sqlite3.Connection)


async def test_work_runs_on_the_connections_own_thread_with_its_sqlite3_connection(
    tmp_path: Path,
) -> None:
    async with aiosqlite.connect(tmp_path / "pinned.db") as raw:
        thread, answer, is_sqlite3 = await on_connection_thread(raw, where_and_what, 41)
    assert answer == 42
    assert is_sqlite3
    assert thread != threading.current_thread().name


async def test_an_error_in_the_work_reaches_the_caller(tmp_path: Path) -> None:
    def broken(connection: sqlite3.Connection) -> None:
        connection.execute("SELECT * FROM no_such_table")

    async with aiosqlite.connect(tmp_path / "pinned.db") as raw:
        with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
            await on_connection_thread(raw, broken)
