"""The schema revision this migrator writes, in a module of its own so that reading it imports
neither SQLAlchemy nor Alembic (migrator/store/quickread.py checks it with sqlite3 alone)."""

from __future__ import annotations

HEAD = "0017_tenants"
VERSION_TABLE = "alembic_version"
