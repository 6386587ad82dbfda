"""Sign-ins and refresh tokens; accounts can be blocked and deleted (a tombstone stays).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("drivers", recreate="never") as table:
        table.add_column(
            sa.Column("blocked", sa.Boolean, nullable=False, server_default=sa.false())
        )
        table.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True)))
    op.create_table(
        "sign_ins",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "driver_id",
            sa.String(36),
            sa.ForeignKey("drivers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_sign_ins_driver_id", "sign_ins", ["driver_id"])
    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "sign_in_id",
            sa.String(36),
            sa.ForeignKey("sign_ins.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_refresh_tokens_sign_in_id", "refresh_tokens", ["sign_in_id"])


def downgrade() -> None:
    op.drop_index("ix_refresh_tokens_sign_in_id", "refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_index("ix_sign_ins_driver_id", "sign_ins")
    op.drop_table("sign_ins")
    # Never by copying the table on SQLite (see 0005); SQLite drops plain columns in place.
    with op.batch_alter_table("drivers", recreate="never") as table:
        table.drop_column("deleted_at")
        table.drop_column("blocked")
