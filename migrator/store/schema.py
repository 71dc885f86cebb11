"""Bringing a database to the current schema with Alembic, every time migrator opens one.

New databases are created by the migrations; a workspace made before Alembic (release 0.1.0,
no alembic_version table) is adopted by the baseline revision, which creates only missing
tables; later revisions then upgrade it in place. HEAD lets the common case (already current)
skip loading Alembic at all (it lives in revision.py, for the listings' sqlite3 check too);
tests/test_migrations.py checks it equals the scripts' head.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from migrator.errors import StoreError
from migrator.store.revision import HEAD, VERSION_TABLE

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_KEY = 0x6D6967726174  # "migrat": serialises concurrent upgrades on PostgreSQL
_ATTEMPTS = 3


def own_object(name: str | None, type_: str, _parents: object) -> bool:
    """For autogenerate: migrator's own objects. procrastinate's tables (revision 0016_jobs) are
    procrastinate's schema, not migrator's models."""
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))


def current_revision(connection: Connection) -> str | None:
    """The database's Alembic revision; None for a new or a pre-Alembic database."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def upgrade(engine: Engine) -> None:
    """Upgrade the database to HEAD (creating it when empty); a no-op when it is current."""
    with engine.connect() as connection:
        if current_revision(connection) == HEAD:
            return
    for attempt in range(_ATTEMPTS):
        try:
            _run_upgrade(engine)
            return
        except SQLAlchemyError:
            # Another process may be upgrading it at the same moment (SQLite has no lock to take):
            # its work is kept (tables are created only when missing); look again, then resume.
            with engine.connect() as connection:
                if current_revision(connection) == HEAD:
                    return
            if attempt == _ATTEMPTS - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


def _run_upgrade(engine: Engine) -> None:
    from alembic import command  # imported here: only the slow path needs Alembic
    from alembic.util.exc import CommandError

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        found = current_revision(connection)
        if found is not None and found not in revisions():
            raise StoreError(
                f"the database has schema revision {found}, newer than this migrator knows "
                f"(its newest is {HEAD}): upgrade migrator"
            )
        config = alembic_config()
        config.attributes["connection"] = connection
        try:
            command.upgrade(config, "head")
        except CommandError as exc:
            raise StoreError(f"cannot upgrade the database schema: {exc}") from None


def alembic_config() -> Config:
    """An Alembic Config for the packaged migration scripts (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def revisions() -> list[str]:
    """Every revision id of the packaged scripts, newest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS))
    return [rev.revision for rev in script.walk_revisions()]


def script_head() -> str | None:
    """The head revision of the packaged scripts (HEAD must equal it)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()
