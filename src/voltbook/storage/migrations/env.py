"""Alembic environment: runs on the connection that voltbook.storage.migrate hands over."""

from __future__ import annotations

from alembic import context

import voltbook.storage.tables  # noqa: F401 - every table joins the metadata
from voltbook.storage.metadata import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `voltbook db upgrade`")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
