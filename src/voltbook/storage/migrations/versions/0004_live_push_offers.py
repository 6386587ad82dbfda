"""The app end: last positions, topics, the notice outbox, Web Push subscriptions, offers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _driver() -> sa.Column[str]:
    return sa.Column(
        "driver_id", sa.String(36), sa.ForeignKey("drivers.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    with op.batch_alter_table("drivers") as table:
        # The per-driver notice sequence: every notice takes the next number.
        table.add_column(sa.Column("notice_seq", sa.Integer, nullable=False, server_default="0"))
        table.add_column(sa.Column("quiet_hours", sa.String(11)))  # "22:00-07:00", local time
        table.add_column(sa.Column("time_zone", sa.String(64)))
    # The last known position only (never a history), gone after its time-to-live.
    op.create_table(
        "driver_positions",
        sa.Column(
            "driver_id",
            sa.String(36),
            sa.ForeignKey("drivers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("accuracy_m", sa.Float),
        sa.Column("reported_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
    )
    op.create_index("ix_driver_positions_expiry", "driver_positions", ["expires_at"])
    op.create_table(
        "driver_topics",
        _driver(),
        sa.Column("topic", sa.String(120), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("driver_id", "topic"),
    )
    op.create_index("ix_driver_topics_topic", "driver_topics", ["topic"])
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _driver(),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),  # JSON
        sa.Column("urgency", sa.String(8), nullable=False, server_default="normal"),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("acked_at", TZ),
        sa.Column("pushed_at", TZ),
        sa.UniqueConstraint("driver_id", "seq", name="uq_notices_seq"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_notices_expiry", "notices", ["expires_at"])
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _driver(),
        sa.Column("endpoint", sa.String(2048), nullable=False),
        sa.Column("p256dh", sa.String(255), nullable=False),
        sa.Column("auth", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_success_at", TZ),
        sa.UniqueConstraint("endpoint", name="uq_push_endpoint"),
    )
    op.create_index("ix_push_subscriptions_driver", "push_subscriptions", ["driver_id"])
    op.create_table(
        "offers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("radius_m", sa.Float, nullable=False),
        sa.Column("station_ids", sa.Text),  # ';'-separated; empty = every station in the area
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("idle_minutes", sa.Integer),
        sa.Column("soc_below", sa.Float),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("ends_at", TZ, nullable=False),
        sa.Column("max_per_driver", sa.Integer, nullable=False, server_default="1"),
        sa.Column("max_redemptions", sa.Integer),
        sa.Column("created_by", sa.String(36)),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("ended_at", TZ),
        sa.CheckConstraint("starts_at < ends_at", name="ck_offers_window"),
        sa.CheckConstraint("kind IN ('percent_off', 'price_per_kwh')", name="ck_offers_kind"),
        sa.CheckConstraint(
            "trigger IN ('area_entry', 'idle_station', 'low_soc')", name="ck_offers_trigger"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_offers_window", "offers", ["ends_at", "starts_at"])
    op.create_table(
        "offer_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "offer_id", sa.Integer, sa.ForeignKey("offers.id", ondelete="CASCADE"), nullable=False
        ),
        _driver(),
        sa.Column("station_id", sa.String(48)),
        sa.Column("channel", sa.String(8), nullable=False),  # live | push
        sa.Column("sent_at", TZ, nullable=False),
        sa.Column("opened_at", TZ),
        sa.Column("redeemed_at", TZ),
        sa.Column("session_id", sa.Integer),
        sa.Column("idle_minutes_filled", sa.Float),
    )
    op.create_index("ix_offer_deliveries_offer", "offer_deliveries", ["offer_id", "driver_id"])
    op.create_index("ix_offer_deliveries_driver", "offer_deliveries", ["driver_id", "sent_at"])


def downgrade() -> None:
    op.drop_table("offer_deliveries")
    op.drop_table("offers")
    op.drop_table("push_subscriptions")
    op.drop_table("notices")
    op.drop_table("driver_topics")
    op.drop_table("driver_positions")
    with op.batch_alter_table("drivers") as table:
        table.drop_column("time_zone")
        table.drop_column("quiet_hours")
        table.drop_column("notice_seq")
