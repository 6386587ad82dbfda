"""`column IN (a list bound at execution)`, as each database does it best.

SQLAlchemy renders an expanding `IN` anew for every execution: one placeholder per value,
each with its cast on PostgreSQL, and a new statement text for every length of the list,
which asyncpg then prepares again. On PostgreSQL `column = ANY(:array)` is one text and one
prepared statement for any number of values. SQLite has no arrays and keeps the `IN`.
Statements that use it are built once per database (`per_database`) and reused, so
SQLAlchemy finds their compiled form in its cache without rebuilding them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")


def among(column: sa.ColumnElement[Any], name: str, *, sqlite: bool) -> sa.ColumnElement[bool]:
    """`column` is one of the values of the list bound as `name`."""
    if sqlite:
        return column.in_(sa.bindparam(name, expanding=True))
    return column == sa.any_(sa.bindparam(name, type_=ARRAY(column.type)))


def per_database(build: Callable[[bool], T]) -> Callable[[bool], T]:
    """`build(sqlite)` made once for each kind of database, then reused."""
    return cache(build)


async def insert_many(
    connection: AsyncConnection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """INSERT `rows` (each with the same columns) in one statement. PostgreSQL binds one
    array per column: one statement text, prepared once, for any number of rows, where
    SQLAlchemy's many-row INSERT renders a text per number of rows and a placeholder per
    value. SQLite gets SQLAlchemy's own."""
    if not rows:
        return
    if connection.dialect.name == "sqlite":
        await connection.execute(table.insert(), list(rows))
        return
    columns = tuple(rows[0])
    await connection.execute(
        _unnest_insert(table, columns), {c: [row[c] for row in rows] for c in columns}
    )


def bound_arrays(types: Mapping[str, str]) -> str:
    """PostgreSQL: one array parameter per name, cast to an array of its type, comma
    separated (for `unnest(…)`)."""
    return ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in types.items())


@cache
def _unnest_insert(table: sa.Table, columns: tuple[str, ...]) -> sa.TextClause:
    arrays = bound_arrays(
        {name: str(table.c[name].type.compile(dialect=_POSTGRESQL)) for name in columns}
    )
    return sa.text(
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"  # noqa: S608 (names, not data)
    )


_POSTGRESQL: sa.Dialect = PGDialect_asyncpg()  # type: ignore[no-untyped-call]
