"""Tables of what voltbook records beside its domain state: the message journal, the status
history, sessions' meter values, forecast models and the audit log. Imported through
`tables.py` like every other table."""

from __future__ import annotations

import sqlalchemy as sa

from voltbook.storage.metadata import metadata

# The message journal: the last OCPP frames per station, both ways, secrets taken out. One
# row holds a station's frames of one write (about a second), as JSON: a row per frame
# would cost the OCPP gateway more than the frames themselves (docs/adr/0019).
station_message_chunks = sa.Table(
    "station_message_chunks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("station_id", sa.String(48), nullable=False),
    sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("frames", sa.Text, nullable=False),
    sa.Index("ix_station_message_chunks_station", "station_id", "id"),
    sa.Index("ix_station_message_chunks_at", "last_at"),
)

# One row per connector state change (stations/states.py), and per station going offline
# or coming back (EVSE 0).
status_history = sa.Table(
    "status_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("station_id", sa.String(48), nullable=False),
    sa.Column("evse_id", sa.Integer, nullable=False),
    sa.Column("connector_id", sa.Integer),
    sa.Column("state", sa.String(24), nullable=False),
    sa.Column("status", sa.String(16)),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_status_history_at", "at"),
    sa.Index("ix_status_history_station", "station_id", "evse_id", "connector_id", "at"),
)

# The meter values of charging sessions: one row per session and write (about a second of
# a station's messages), its samples as JSON [time, register Wh, power W, SoC %], like the
# message journal (docs/adr/0027).
session_meter_chunks = sa.Table(
    "session_meter_chunks",
    metadata,
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
    sa.Index("ix_session_meter_chunks_session", "session_id", "id"),
    sa.Index("ix_session_meter_chunks_at", "last_at"),
)

# Availability forecast models (docs/adr/0028): the newest few, as JSON weights.
forecast_models = sa.Table(
    "forecast_models",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
)

# Every operator action: who, what, when, on what, and what came of it (docs/adr/0026).
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor_id", sa.String(36), nullable=False),
    sa.Column("actor_role", sa.String(16), nullable=False),
    sa.Column("action", sa.String(200), nullable=False),
    sa.Column("station_id", sa.String(48)),
    sa.Column("target", sa.String(300), nullable=False),
    sa.Column("request", sa.Text),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(200)),
    sa.Column("answer", sa.Text),
    sa.Index("ix_audit_log_at", "at"),
    sa.Index("ix_audit_log_actor", "actor_id", "id"),
    sa.Index("ix_audit_log_station", "station_id", "id"),
)
