"""Charges a driver starts from the app.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "app_charges",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "driver_id",
            sa.String(36),
            sa.ForeignKey("drivers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("station_id", sa.String(48), nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("id_tag", sa.String(36), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(200)),
        sa.Column("session_id", sa.Integer),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(32), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.UniqueConstraint("driver_id", "idempotency_key", name="uq_app_charges_key"),
    )
    op.create_index("ix_app_charges_driver", "app_charges", ["driver_id", "created_at"])
    op.create_index("ix_app_charges_evse", "app_charges", ["station_id", "evse_id", "state"])
    op.create_index("ix_app_charges_session", "app_charges", ["session_id"])


def downgrade() -> None:
    op.drop_table("app_charges")
