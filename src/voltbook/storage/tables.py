"""Table definitions shared by both databases. Spatial parts differ per dialect (see migrations)."""

from __future__ import annotations

import sqlalchemy as sa

import voltbook.storage.records  # noqa: F401 - its tables join the same metadata
from voltbook.storage.metadata import metadata

sites = sa.Table(
    "sites",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("source_id", sa.String(64), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("address", sa.String(255), nullable=False, server_default=""),
    sa.Column("city", sa.String(128), nullable=False, server_default=""),
    sa.Column("region", sa.String(64), nullable=False, server_default=""),
    sa.Column("postal_code", sa.String(16), nullable=False, server_default=""),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("operator", sa.String(128)),
    sa.Column("access", sa.String(16), nullable=False, server_default="public"),
    sa.Column("opening_hours", sa.Text),
    sa.Column("timezone", sa.String(64)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("source", "source_id", name="uq_sites_source"),
)

stations = sa.Table(
    "stations",
    metadata,
    sa.Column("id", sa.String(48), primary_key=True),  # the OCPP identity
    sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id", ondelete="SET NULL"), index=True),
    sa.Column("vendor", sa.String(50)),
    sa.Column("model", sa.String(50)),
    sa.Column("firmware", sa.String(50)),
    sa.Column("ocpp_version", sa.String(8)),
    sa.Column("password_hash", sa.String(255)),
    # A rotation's new password, accepted beside the old one until the charger uses it.
    sa.Column("pending_password_hash", sa.String(255)),
    sa.Column("online", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("last_seen", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

connectors = sa.Table(
    "connectors",
    metadata,
    sa.Column(
        "station_id",
        sa.String(48),
        sa.ForeignKey("stations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("evse_id", sa.Integer, primary_key=True),
    sa.Column("connector_id", sa.Integer, primary_key=True),
    sa.Column("standard", sa.String(32)),
    sa.Column("power_type", sa.String(2)),
    sa.Column("max_power_kw", sa.Float),
    sa.Column("status", sa.String(16), nullable=False, server_default="Unknown"),
    sa.Column("status_since", sa.DateTime(timezone=True)),
    sa.Column("error_code", sa.String(50)),
)

drivers = sa.Table(
    "drivers",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("consent_location", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("consent_offers", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("notice_seq", sa.Integer, nullable=False, server_default="0"),
    sa.Column("quiet_hours", sa.String(11)),
    sa.Column("time_zone", sa.String(64)),
    sa.Column("blocked", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("deleted_at", sa.DateTime(timezone=True)),  # a tombstone: no personal data left
)

# One row per sign-in (token family); requests are checked against it and its driver.
sign_ins = sa.Table(
    "sign_ins",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "driver_id",
        sa.String(36),
        sa.ForeignKey("drivers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # SHA-256, hex
    sa.Column(
        "sign_in_id",
        sa.String(36),
        sa.ForeignKey("sign_ins.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True)),
)

vehicles = sa.Table(
    "vehicles",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "driver_id",
        sa.String(36),
        sa.ForeignKey("drivers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("battery_kwh", sa.Float, nullable=False),
    sa.Column("standards", sa.String(255), nullable=False),  # ';'-separated OCPI names
    sa.Column("max_ac_kw", sa.Float),
    sa.Column("max_dc_kw", sa.Float),
    sa.Column("soc_percent", sa.Float),
    sa.Column("range_km", sa.Float),
    sa.Column("reported_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

charging_sessions = sa.Table(
    "charging_sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("station_id", sa.String(48), sa.ForeignKey("stations.id"), nullable=False),
    sa.Column("evse_id", sa.Integer, nullable=False),
    sa.Column("connector_id", sa.Integer),
    sa.Column("id_tag", sa.String(36)),
    sa.Column("external_id", sa.String(36)),
    sa.Column("reservation_id", sa.Integer),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("stopped_at", sa.DateTime(timezone=True)),
    sa.Column("meter_start_wh", sa.Float, nullable=False),
    sa.Column("meter_stop_wh", sa.Float),
    sa.Column("energy_wh", sa.Float, nullable=False),
    sa.Column("power_w", sa.Float),
    sa.Column("soc_percent", sa.Float),
    sa.Column("last_sample_at", sa.DateTime(timezone=True)),
    sa.Column("last_seq_no", sa.Integer),
    sa.Column("stop_reason", sa.String(32)),
)

id_tokens = sa.Table(
    "id_tokens",
    metadata,
    sa.Column("token", sa.String(36), primary_key=True),
    sa.Column("driver_id", sa.String(36), sa.ForeignKey("drivers.id")),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False, server_default="rfid"),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
)

# Changes of id tokens not yet carried to the stations (a transactional outbox, ADR 0035):
# written with the change, taken (deleted) by the one server that carries it out.
id_token_changes = sa.Table(
    "id_token_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("token", sa.String(36), nullable=False),
    sa.Column("blocked", sa.Boolean, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

# Which cards go to which stations' authorization lists (one row, id 1; none: no lists).
auth_list_rule = sa.Table(
    "auth_list_rule",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("mode", sa.String(8), nullable=False),
    sa.Column("site_ids", sa.JSON, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
)

# Each station's authorization list as voltbook last set it: its version and its entries.
station_auth_lists = sa.Table(
    "station_auth_lists",
    metadata,
    sa.Column("station_id", sa.String(48), sa.ForeignKey("stations.id"), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(24), nullable=False),
    sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
)

station_auth_list_entries = sa.Table(
    "station_auth_list_entries",
    metadata,
    sa.Column("station_id", sa.String(48), sa.ForeignKey("stations.id"), primary_key=True),
    sa.Column("token", sa.String(36), primary_key=True),
    sa.Column("standing", sa.String(16), nullable=False),
)

alarms = sa.Table(
    "alarms",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("station_id", sa.String(48), sa.ForeignKey("stations.id"), nullable=False),
    sa.Column("evse_id", sa.Integer),
    sa.Column("connector_id", sa.Integer),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("code", sa.String(50), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("cleared_at", sa.DateTime(timezone=True)),
    sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
    sa.Column("acknowledged_by", sa.String(36)),
)

reservations = sa.Table(
    "reservations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("driver_id", sa.String(36), sa.ForeignKey("drivers.id"), nullable=False),
    sa.Column("vehicle_id", sa.String(36)),
    sa.Column("station_id", sa.String(48), sa.ForeignKey("stations.id"), nullable=False),
    sa.Column("evse_id", sa.Integer, nullable=False),
    sa.Column("any_evse", sa.Boolean, nullable=False),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("grace_s", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("id_tag", sa.String(20), nullable=False),
    sa.Column("idempotency_key", sa.String(255)),
    sa.Column("fingerprint", sa.String(64)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # Set when the booking failed: [{"station_id", "name", "distance_m"}], nearest first.
    sa.Column("alternatives", sa.JSON(none_as_null=True)),
)

reservation_history = sa.Table(
    "reservation_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("reservation_id", sa.Integer, sa.ForeignKey("reservations.id"), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("change", sa.String(16)),
    sa.Column("reason", sa.String(255), nullable=False),
    sa.Column("connector", sa.String(64)),
)

reservation_jobs = sa.Table(
    "reservation_jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("reservation_id", sa.Integer, sa.ForeignKey("reservations.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("locked_until", sa.DateTime(timezone=True)),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("done_at", sa.DateTime(timezone=True)),
    sa.Column("station_id", sa.String(48)),
)

TZ = sa.DateTime(timezone=True)

driver_positions = sa.Table(
    "driver_positions",
    metadata,
    sa.Column("driver_id", sa.String(36), sa.ForeignKey("drivers.id"), primary_key=True),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("accuracy_m", sa.Float),
    sa.Column("reported_at", TZ, nullable=False),
    sa.Column("expires_at", TZ, nullable=False),
)

driver_topics = sa.Table(
    "driver_topics",
    metadata,
    sa.Column("driver_id", sa.String(36), sa.ForeignKey("drivers.id"), primary_key=True),
    sa.Column("topic", sa.String(120), primary_key=True),
    sa.Column("created_at", TZ, nullable=False),
)

notices = sa.Table(
    "notices",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("driver_id", sa.String(36), sa.ForeignKey("drivers.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("urgency", sa.String(8), nullable=False),
    sa.Column("created_at", TZ, nullable=False),
    sa.Column("expires_at", TZ, nullable=False),
    sa.Column("acked_at", TZ),
    sa.Column("pushed_at", TZ),
)

push_subscriptions = sa.Table(
    "push_subscriptions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("driver_id", sa.String(36), sa.ForeignKey("drivers.id"), nullable=False),
    sa.Column("endpoint", sa.String(2048), nullable=False, unique=True),
    sa.Column("p256dh", sa.String(255), nullable=False),
    sa.Column("auth", sa.String(64), nullable=False),
    sa.Column("created_at", TZ, nullable=False),
    sa.Column("last_success_at", TZ),
)

offers = sa.Table(
    "offers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("title", sa.String(120), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("radius_m", sa.Float, nullable=False),
    sa.Column("station_ids", sa.Text),
    sa.Column("trigger", sa.String(16), nullable=False),
    sa.Column("idle_minutes", sa.Integer),
    sa.Column("soc_below", sa.Float),
    sa.Column("starts_at", TZ, nullable=False),
    sa.Column("ends_at", TZ, nullable=False),
    sa.Column("max_per_driver", sa.Integer, nullable=False),
    sa.Column("max_redemptions", sa.Integer),
    sa.Column("created_by", sa.String(36)),
    sa.Column("created_at", TZ, nullable=False),
    sa.Column("ended_at", TZ),
)

offer_deliveries = sa.Table(
    "offer_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("offer_id", sa.Integer, sa.ForeignKey("offers.id"), nullable=False),
    sa.Column("driver_id", sa.String(36), sa.ForeignKey("drivers.id"), nullable=False),
    sa.Column("station_id", sa.String(48)),
    sa.Column("channel", sa.String(8), nullable=False),
    sa.Column("sent_at", TZ, nullable=False),
    sa.Column("opened_at", TZ),
    sa.Column("redeemed_at", TZ),
    sa.Column("session_id", sa.Integer),
    sa.Column("idle_minutes_filled", sa.Float),
)

# Charges a driver started from the app, and what the charger made of them.
app_charges = sa.Table(
    "app_charges",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "driver_id", sa.String(36), sa.ForeignKey("drivers.id", ondelete="CASCADE"), nullable=False
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
    sa.Index("ix_app_charges_driver", "driver_id", "created_at"),
    sa.Index("ix_app_charges_evse", "station_id", "evse_id", "state"),
    sa.Index("ix_app_charges_session", "session_id"),
)

# SQLite only: the R*Tree index on site positions, kept in step with `sites` by triggers.
sqlite_metadata = sa.MetaData()
sites_rtree = sa.Table(
    "sites_rtree",
    sqlite_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("min_lat", sa.Float),
    sa.Column("max_lat", sa.Float),
    sa.Column("min_lon", sa.Float),
    sa.Column("max_lon", sa.Float),
)
