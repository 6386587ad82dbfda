"""A station keeps a pending password while a rotation waits for the charger to reconnect
with it (docs/adr/0025); every operator action is kept in the audit log (docs/adr/0026).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("stations") as table:
        table.add_column(sa.Column("pending_password_hash", sa.String(255)))
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor_id", sa.String(36), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(200), nullable=False),
        sa.Column("station_id", sa.String(48)),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("request", sa.Text),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(200)),
        sa.Column("answer", sa.Text),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor_id", "id"])
    op.create_index("ix_audit_log_station", "audit_log", ["station_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_station", "audit_log")
    op.drop_index("ix_audit_log_actor", "audit_log")
    op.drop_index("ix_audit_log_at", "audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("stations") as table:
        table.drop_column("pending_password_hash")
