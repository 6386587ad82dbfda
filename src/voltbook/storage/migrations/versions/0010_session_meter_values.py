"""The meter values of charging sessions are kept (energy, power, state of charge), one
row per session and write.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "session_meter_chunks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "session_id",
            sa.Integer,
            sa.ForeignKey("charging_sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("samples", sa.Text, nullable=False),
    )
    op.create_index("ix_session_meter_chunks_session", "session_meter_chunks", ["session_id", "id"])
    op.create_index("ix_session_meter_chunks_at", "session_meter_chunks", ["last_at"])


def downgrade() -> None:
    op.drop_table("session_meter_chunks")
