"""A failed booking keeps the nearby alternatives its driver was offered.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reservations") as table:
        table.add_column(sa.Column("alternatives", sa.JSON(none_as_null=True)))


def downgrade() -> None:
    # Never by copying the table on SQLite: a copy would lose the overlap triggers.
    with op.batch_alter_table("reservations", recreate="never") as table:
        table.drop_column("alternatives")
