"""Where migrator keeps its state: the workspace folder and the database URL."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

WORKSPACE_ENV = "MIGRATOR_WORKSPACE"
DB_URL_ENV = "MIGRATOR_DB_URL"
TENANT_ENV = "MIGRATOR_TENANT"
DEFAULT_WORKSPACE = Path(".migrator")
# A tenant is a team's estate (docs/scale.md#tenants); SQLite holds only this one.
DEFAULT_TENANT = "default"
TENANT_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def check_tenant(name: str) -> str:
    """The tenant name, or a UsageError: lower-case letters, digits and '-', at most 63."""
    if not TENANT_NAME.fullmatch(name):
        from migrator.errors import UsageError

        raise UsageError(
            f"{{tenant}} {name[:100]!r}: use 1-63 lower-case letters, digits or '-', "
            "starting with a letter or digit",
            field="tenant",
        )
    return name


@dataclass(frozen=True)
class Settings:
    workspace: Path
    db_url: str
    tenant: str = DEFAULT_TENANT

    @classmethod
    def resolve(
        cls, workspace: Path | None = None, db_url: str | None = None, tenant: str | None = None
    ) -> Settings:
        ws = workspace or Path(os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE)
        url = db_url or os.environ.get(DB_URL_ENV) or f"sqlite:///{(ws / 'inventory.db').resolve()}"
        chosen = check_tenant(tenant or os.environ.get(TENANT_ENV) or DEFAULT_TENANT)
        settings = cls(workspace=ws, db_url=url, tenant=chosen)
        settings.check_tenant_store()
        return settings

    def check_tenant_store(self) -> None:
        """SQLite is the single-machine default and holds one tenant: naming another is refused
        (tenants are a boundary the database enforces: PostgreSQL's row-level security)."""
        if self.uses_sqlite and self.tenant != DEFAULT_TENANT:
            from migrator.errors import UsageError

            raise UsageError(
                f"{{tenant}} {self.tenant!r}: a SQLite workspace has only the tenant "
                f"{DEFAULT_TENANT!r}; tenants need PostgreSQL (MIGRATOR_DB_URL=postgresql://...)",
                field="tenant",
            )

    def __repr__(self) -> str:  # never the database password (URL user-info or query string)
        from migrator.dburl import redact  # SQLAlchemy's URL parser: only when a repr is asked for

        url = redact(self.db_url)
        return f"Settings(workspace={self.workspace!r}, db_url={url!r}, tenant={self.tenant!r})"

    @property
    def uses_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")
