"""Id tokens get a kind and an expiry; stations' authorization lists are kept; the message
journal keeps the last OCPP frames of each station; the status history keeps every
connector state change.

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

    op.create_table(
        "station_message_chunks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("last_at", TZ, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("frames", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_station_message_chunks_station", "station_message_chunks", ["station_id", "id"]
    )
    op.create_index("ix_station_message_chunks_at", "station_message_chunks", ["last_at"])
    op.create_table(
        "status_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("connector_id", sa.Integer),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("status", sa.String(16)),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_status_history_at", "status_history", ["at"])
    op.create_index(
        "ix_status_history_station",
        "status_history",
        ["station_id", "evse_id", "connector_id", "at"],
    )


def downgrade() -> None:
    op.drop_table("status_history")
    op.drop_table("station_message_chunks")
    op.drop_table("station_auth_list_entries")
    op.drop_table("station_auth_lists")
    op.drop_table("auth_list_rule")
    with op.batch_alter_table("id_tokens") as table:
        table.drop_column("expires_at")
        table.drop_column("kind")
