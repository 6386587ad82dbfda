"""`column IN (a list bound at execution)`, as each database does it best.

SQLAlchemy renders an expanding `IN` anew for every execution: one placeholder per value,
each with its cast on PostgreSQL, and a new statement text for every length of the list,
which asyncpg then prepares again. On PostgreSQL `column = ANY(:array)` is one text and one
prepared statement for any number of values. SQLite has no arrays and keeps the `IN`.
Statements that use it are built once per database (`per_database`) and reused, so
SQLAlchemy finds their compiled form in its cache without rebuilding them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

T = TypeVar("T")


def among(column: sa.ColumnElement[Any], name: str, *, sqlite: bool) -> sa.ColumnElement[bool]:
    """`column` is one of the values of the list bound as `name`."""
    if sqlite:
        return column.in_(sa.bindparam(name, expanding=True))
    return column == sa.any_(sa.bindparam(name, type_=ARRAY(column.type)))


def per_database(build: Callable[[bool], T]) -> Callable[[bool], T]:
    """`build(sqlite)` made once for each kind of database, then reused."""
    return cache(build)
