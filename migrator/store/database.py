"""Engine creation with errors a user can act on."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlmodel import create_engine

from migrator.errors import StoreError
from migrator.settings import Settings
from migrator.store.schema import upgrade


def redacted_url(url: str) -> str:
    """The URL with any password replaced, fit for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def open_engine(settings: Settings) -> Engine:
    """Open the inventory database, created or upgraded to the current schema (Alembic)."""
    try:
        if settings.uses_sqlite:
            settings.workspace.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings.db_url)
    except (ArgumentError, ModuleNotFoundError, OSError) as exc:
        raise StoreError(f"cannot use database {redacted_url(settings.db_url)}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        upgrade(engine)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StoreError(f"cannot open database {redacted_url(settings.db_url)}: {reason}") from None
    except SQLAlchemyError as exc:
        raise StoreError(f"database {redacted_url(settings.db_url)} is not usable: {exc}") from None
    return engine


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # WAL keeps readers working while a discovery writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
