"""Engine creation with errors a user can act on."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlmodel import create_engine

from migrator.dburl import parse, redact, scrub
from migrator.errors import StoreError
from migrator.settings import Settings
from migrator.store import tenancy
from migrator.store.schema import upgrade


def _failure(url: str, what: str, exc: object) -> StoreError:
    # Driver and SQLAlchemy messages may quote the URL: scrub its secrets from them too.
    return StoreError(scrub(f"{what} database {redact(url)}: {exc}", url))


def open_engine(settings: Settings) -> Engine:
    """Open the inventory database, created or upgraded to the current schema (Alembic)."""
    url = parse(settings.db_url)  # a malformed URL is exit 5 with one line, never a ValueError
    try:
        if settings.uses_sqlite:
            settings.workspace.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
    except (ArgumentError, ValueError, ModuleNotFoundError, OSError) as exc:
        raise _failure(settings.db_url, "cannot use", exc) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    tenancy.install(engine)  # before the upgrade: its engine names no tenant and sets none
    try:
        upgrade(engine)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise _failure(settings.db_url, "cannot open", reason) from None
    except SQLAlchemyError as exc:
        raise _failure(settings.db_url, "unusable", exc) from None
    return engine


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # WAL keeps readers working while a discovery writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
