"""The one place voltbook reaches into aiosqlite's internals (pinned in pyproject.toml).

aiosqlite runs each connection's statements on a thread of its own; a whole nearby search
(every ring and the rows it reads) runs there in one hand-off instead of one per statement
(docs/adr/0012). aiosqlite has no public call for that; SQLAlchemy's adapter uses the same two
names (`_execute`, `_conn`). A test pins them: an aiosqlite upgrade that renames them fails
there, not in production.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def on_connection_thread(raw: Any, work: Callable[..., T], *args: Any) -> T:
    """`work(connection, *args)` on the aiosqlite connection's own thread, with its
    `sqlite3.Connection`; returns what `work` returned."""
    result: T = await raw._execute(work, raw._conn, *args)
    return result
