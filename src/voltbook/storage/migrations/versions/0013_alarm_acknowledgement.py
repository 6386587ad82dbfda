"""Alarms an operator took in hand: when, and by whom.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alarms") as table:
        table.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True)))
        table.add_column(sa.Column("acknowledged_by", sa.String(36)))


def downgrade() -> None:
    with op.batch_alter_table("alarms") as table:
        table.drop_column("acknowledged_by")
        table.drop_column("acknowledged_at")
