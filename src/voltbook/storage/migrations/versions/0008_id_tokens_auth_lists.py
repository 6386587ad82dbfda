"""Id tokens get a kind and an expiry; stations' authorization lists are kept.

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"  # after the app's 0007 (both branches started from 0005)
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("id_tokens") as table:
        table.add_column(sa.Column("kind", sa.String(8), nullable=False, server_default="rfid"))
        table.add_column(sa.Column("expires_at", TZ))
    op.create_table(
        "auth_list_rule",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("site_ids", sa.JSON, nullable=False),
        sa.Column("changed_at", TZ, nullable=False),
    )
    op.create_table(
        "station_auth_lists",
        sa.Column(
            "station_id",
            sa.String(48),
            sa.ForeignKey("stations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("synced_at", TZ, nullable=False),
    )
    op.create_table(
        "station_auth_list_entries",
        sa.Column(
            "station_id",
            sa.String(48),
            sa.ForeignKey("stations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("token", sa.String(36), primary_key=True),
        sa.Column("standing", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("station_auth_list_entries")
    op.drop_table("station_auth_lists")
    op.drop_table("auth_list_rule")
    with op.batch_alter_table("id_tokens") as table:
        table.drop_column("expires_at")
        table.drop_column("kind")
