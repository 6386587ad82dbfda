"""Relational storage (SQLite or PostgreSQL/PostGIS) implementing the domain's ports."""
