"""Live stations: connectors a station reports without a known plug, sessions, id tags, alarms.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("connectors") as batch:
        batch.alter_column("standard", existing_type=sa.String(32), nullable=True)
        batch.alter_column("power_type", existing_type=sa.String(2), nullable=True)
    op.create_table(
        "charging_sessions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "station_id",
            sa.String(48),
            sa.ForeignKey("stations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("connector_id", sa.Integer),
        sa.Column("id_tag", sa.String(36)),
        sa.Column("external_id", sa.String(36)),
        sa.Column("reservation_id", sa.Integer),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("stopped_at", TZ),
        sa.Column("meter_start_wh", sa.Float, nullable=False),
        sa.Column("meter_stop_wh", sa.Float),
        sa.Column("energy_wh", sa.Float, nullable=False, server_default="0"),
        sa.Column("power_w", sa.Float),
        sa.Column("soc_percent", sa.Float),
        sa.Column("last_sample_at", TZ),
        sa.Column("last_seq_no", sa.Integer),
        sa.Column("stop_reason", sa.String(32)),
        sa.UniqueConstraint("station_id", "external_id", name="uq_sessions_external"),
        sqlite_autoincrement=True,  # ids are OCPP 1.6 transactionIds: never reused
    )
    op.create_index(
        "ix_sessions_start", "charging_sessions", ["station_id", "evse_id", "started_at"]
    )
    op.create_table(
        "id_tokens",
        sa.Column("token", sa.String(36), primary_key=True),
        sa.Column("driver_id", sa.String(36), sa.ForeignKey("drivers.id", ondelete="CASCADE")),
        sa.Column("status", sa.String(16), nullable=False, server_default="Accepted"),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "station_id",
            sa.String(48),
            sa.ForeignKey("stations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("evse_id", sa.Integer),
        sa.Column("connector_id", sa.Integer),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("code", sa.String(50), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("raised_at", TZ, nullable=False),
        sa.Column("cleared_at", TZ),
    )
    op.create_index("ix_alarms_open", "alarms", ["station_id", "kind", "cleared_at"])


def downgrade() -> None:
    op.drop_table("alarms")
    op.drop_table("id_tokens")
    op.drop_table("charging_sessions")
    op.execute("DELETE FROM connectors WHERE standard IS NULL OR power_type IS NULL")
    with op.batch_alter_table("connectors") as batch:
        batch.alter_column("standard", existing_type=sa.String(32), nullable=False)
        batch.alter_column("power_type", existing_type=sa.String(2), nullable=False)
