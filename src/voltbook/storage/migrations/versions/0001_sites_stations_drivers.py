"""Sites with a spatial index, stations, connectors, drivers and vehicles.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "sites",
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
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.UniqueConstraint("source", "source_id", name="uq_sites_source"),
        sa.CheckConstraint("lat BETWEEN -90 AND 90", name="ck_sites_lat"),
        sa.CheckConstraint("lon BETWEEN -180 AND 180", name="ck_sites_lon"),
    )
    if dialect == "postgresql":
        # Derived from lat/lon so that writes are the same on both databases.
        op.execute(
            "ALTER TABLE sites ADD COLUMN geog geography(Point, 4326) GENERATED ALWAYS AS "
            "(ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED"
        )
        op.execute("CREATE INDEX ix_sites_geog ON sites USING gist (geog)")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE sites_rtree USING rtree(id, min_lat, max_lat, min_lon, max_lon)"
        )
        op.execute(
            "CREATE TRIGGER sites_rtree_insert AFTER INSERT ON sites BEGIN "
            "INSERT INTO sites_rtree VALUES (new.id, new.lat, new.lat, new.lon, new.lon); END"
        )
        op.execute(
            "CREATE TRIGGER sites_rtree_update AFTER UPDATE OF lat, lon ON sites BEGIN "
            "UPDATE sites_rtree SET min_lat = new.lat, max_lat = new.lat, "
            "min_lon = new.lon, max_lon = new.lon WHERE id = new.id; END"
        )
        op.execute(
            "CREATE TRIGGER sites_rtree_delete AFTER DELETE ON sites BEGIN "
            "DELETE FROM sites_rtree WHERE id = old.id; END"
        )
    op.create_table(
        "stations",
        sa.Column("id", sa.String(48), primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id", ondelete="SET NULL")),
        sa.Column("vendor", sa.String(50)),
        sa.Column("model", sa.String(50)),
        sa.Column("firmware", sa.String(50)),
        sa.Column("ocpp_version", sa.String(8)),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("online", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("last_seen", TZ),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_stations_site_id", "stations", ["site_id"])
    op.create_table(
        "connectors",
        sa.Column(
            "station_id",
            sa.String(48),
            sa.ForeignKey("stations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("evse_id", sa.Integer, primary_key=True),
        sa.Column("connector_id", sa.Integer, primary_key=True),
        sa.Column("standard", sa.String(32), nullable=False),
        sa.Column("power_type", sa.String(2), nullable=False),
        sa.Column("max_power_kw", sa.Float),
        sa.Column("status", sa.String(16), nullable=False, server_default="Unknown"),
        sa.Column("status_since", TZ),
        sa.Column("error_code", sa.String(50)),
        sa.CheckConstraint("power_type IN ('AC', 'DC')", name="ck_connectors_power_type"),
    )
    op.create_table(
        "drivers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("consent_location", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("consent_offers", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("email", name="uq_drivers_email"),
        sa.CheckConstraint("role IN ('driver', 'operator', 'admin')", name="ck_drivers_role"),
    )
    op.create_table(
        "vehicles",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "driver_id",
            sa.String(36),
            sa.ForeignKey("drivers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("battery_kwh", sa.Float, nullable=False),
        sa.Column("standards", sa.String(255), nullable=False),
        sa.Column("max_ac_kw", sa.Float),
        sa.Column("max_dc_kw", sa.Float),
        sa.Column("soc_percent", sa.Float),
        sa.Column("range_km", sa.Float),
        sa.Column("reported_at", TZ),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_vehicles_driver_id", "vehicles", ["driver_id"])


def downgrade() -> None:
    op.drop_table("vehicles")
    op.drop_table("drivers")
    op.drop_table("connectors")
    op.drop_table("stations")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS sites_rtree")
    op.drop_table("sites")
