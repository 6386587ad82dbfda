"""The one MetaData every table of voltbook belongs to (tables.py, records.py)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()
