"""Reservations, their history and their jobs; overlap refused by the database.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
_LIVE = "('scheduled', 'held')"


def upgrade() -> None:
    op.create_table(
        "reservations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "driver_id",
            sa.String(36),
            sa.ForeignKey("drivers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("vehicle_id", sa.String(36)),
        sa.Column(
            "station_id",
            sa.String(48),
            sa.ForeignKey("stations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("any_evse", sa.Boolean, nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("ends_at", TZ, nullable=False),
        sa.Column("grace_s", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("id_tag", sa.String(20), nullable=False),
        sa.Column("idempotency_key", sa.String(255)),
        sa.Column("fingerprint", sa.String(64)),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("driver_id", "idempotency_key", name="uq_reservations_key"),
        sa.CheckConstraint("starts_at < ends_at", name="ck_reservations_window"),
        sa.CheckConstraint(
            "status IN ('scheduled', 'held', 'fulfilled', 'cancelled', 'expired', 'failed')",
            name="ck_reservations_status",
        ),
        sqlite_autoincrement=True,  # ids are OCPP reservationIds: never reused
    )
    op.create_index("ix_reservations_station", "reservations", ["station_id", "starts_at"])
    op.create_index("ix_reservations_driver", "reservations", ["driver_id", "status"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE reservations ADD CONSTRAINT ex_reservations_overlap "
            "EXCLUDE USING gist (station_id WITH =, evse_id WITH =, "
            "tstzrange(starts_at, ends_at, '[)') WITH &&) "
            f"WHERE (status IN {_LIVE})"
        )
    else:
        # SQLite has no exclusion constraints: triggers refuse the overlap inside the
        # (serialized, BEGIN IMMEDIATE) write transaction. Stored times are UTC text in one
        # fixed format, so text comparison orders them correctly.
        for event in ("INSERT", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER reservations_no_overlap_{event.lower()} BEFORE {event} "  # noqa: S608
                f"ON reservations WHEN NEW.status IN {_LIVE} BEGIN "
                "SELECT RAISE(ABORT, 'ex_reservations_overlap') WHERE EXISTS ("
                "SELECT 1 FROM reservations r WHERE r.station_id = NEW.station_id "
                "AND r.evse_id = NEW.evse_id AND r.id IS NOT NEW.id "
                f"AND r.status IN {_LIVE} "
                "AND r.starts_at < NEW.ends_at AND NEW.starts_at < r.ends_at); END"
            )
    op.create_table(
        "reservation_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "reservation_id",
            sa.Integer,
            sa.ForeignKey("reservations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", TZ, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("change", sa.String(16)),
        sa.Column("reason", sa.String(255), nullable=False),
        sa.Column("connector", sa.String(64)),
    )
    op.create_index("ix_reservation_history", "reservation_history", ["reservation_id"])
    op.create_table(
        "reservation_jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "reservation_id",
            sa.Integer,
            sa.ForeignKey("reservations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("due_at", TZ, nullable=False),
        sa.Column("locked_until", TZ),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("done_at", TZ),
        sa.Column("station_id", sa.String(48)),  # where a release goes
        sqlite_autoincrement=True,
    )
    op.create_index("ix_reservation_jobs_due", "reservation_jobs", ["done_at", "due_at"])


def downgrade() -> None:
    op.drop_table("reservation_jobs")
    op.drop_table("reservation_history")
    op.drop_table("reservations")
