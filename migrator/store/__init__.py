"""The inventory store: snapshots of an estate in SQLite (default) or PostgreSQL."""
