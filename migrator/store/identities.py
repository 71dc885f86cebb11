"""People (team mode's tokens, kept as SHA-256 hashes) and the audit log (docs/audit.md).

Nothing is deleted: a revoked identity keeps its row (its name stays taken, and the audit log's
names stay meaningful); the audit log only grows.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session

from migrator.errors import Conflict, NotFound, StoreError
from migrator.store.models import AuditRecord, Identity
from migrator.store.snapshots import _table, now
from migrator.timefmt import iso_utc

IDENTITIES = _table(Identity)
AUDIT = _table(AuditRecord)


def identity_dict(row: Identity) -> dict[str, Any]:
    """An identity as `identities list --format json` prints it: never its token hash."""
    return {
        "name": row.name,
        "role": row.role,
        "created_at": iso_utc(row.created_at),
        "revoked_at": iso_utc(row.revoked_at),
        "active": row.revoked_at is None,
    }


def audit_dict(row: AuditRecord) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": iso_utc(row.at),
        "who": row.who,
        "via": row.via,
        "action": row.action,
        "target": row.target,
        "detail": row.detail,
    }


class IdentityStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, name: str, role: str, token_sha256: str) -> dict[str, Any]:
        row = Identity(name=name, role=role, token_sha256=token_sha256, created_at=now())
        try:
            with Session(self.engine) as session, session.begin():
                session.add(row)
                session.flush()
                return identity_dict(row)
        except IntegrityError:
            raise Conflict(f"an identity named {name!r} already exists (names are never reused)") from None
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store the identity: {type(exc).__name__}") from None

    def list(self) -> list[dict[str, Any]]:
        with Session(self.engine) as session:
            rows = session.scalars(select(Identity).order_by(IDENTITIES.c.id))
            return [identity_dict(row) for row in rows]

    def by_hash(self, token_sha256: str) -> dict[str, Any] | None:
        """The active identity holding the token with this hash; None when none (or revoked)."""
        stmt = select(Identity).where(IDENTITIES.c.token_sha256 == token_sha256)
        with Session(self.engine) as session:
            row = session.scalars(stmt).first()
            return identity_dict(row) if row is not None and row.revoked_at is None else None

    def any(self) -> bool:
        """Whether any identity was ever added (revoked ones count: team mode stays on)."""
        with self.engine.connect() as conn:
            return bool(conn.execute(select(func.count()).select_from(IDENTITIES)).scalar())

    def revoke(self, name: str) -> dict[str, Any]:
        with Session(self.engine) as session, session.begin():
            row = session.scalars(select(Identity).where(IDENTITIES.c.name == name)).first()
            if row is None:
                raise NotFound(f"no identity named {name!r}")
            if row.revoked_at is not None:
                raise Conflict(f"identity {name!r} was already revoked at {iso_utc(row.revoked_at)}")
            session.execute(update(IDENTITIES).where(IDENTITIES.c.id == row.id).values(revoked_at=now()))
            session.refresh(row)
            return identity_dict(row)


class AuditStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(self, who: str, via: str, action: str, target: str, detail: dict[str, Any]) -> None:
        row = AuditRecord(at=now(), who=who, via=via, action=action, target=target, detail=detail)
        try:
            with Session(self.engine) as session, session.begin():
                session.add(row)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not write the audit record: {type(exc).__name__}") from None

    def list(self, since: datetime | None = None) -> builtins.list[dict[str, Any]]:
        stmt = select(AuditRecord).order_by(AUDIT.c.id)
        if since is not None:
            stmt = stmt.where(AUDIT.c.at >= since)
        with Session(self.engine) as session:
            return [audit_dict(row) for row in session.scalars(stmt)]
