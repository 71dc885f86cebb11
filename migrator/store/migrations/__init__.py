"""Alembic schema migrations of the store (docs/development.md, "Schema changes")."""
