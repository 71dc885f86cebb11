"""Where migrator keeps its state: the workspace folder and the database URL."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

WORKSPACE_ENV = "MIGRATOR_WORKSPACE"
DB_URL_ENV = "MIGRATOR_DB_URL"
DEFAULT_WORKSPACE = Path(".migrator")


@dataclass(frozen=True)
class Settings:
    workspace: Path
    db_url: str

    @classmethod
    def resolve(cls, workspace: Path | None = None, db_url: str | None = None) -> Settings:
        ws = workspace or Path(os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE)
        url = db_url or os.environ.get(DB_URL_ENV) or f"sqlite:///{(ws / 'inventory.db').resolve()}"
        return cls(workspace=ws, db_url=url)

    def __repr__(self) -> str:  # never the database password (URL user-info or query string)
        from migrator.dburl import redact  # SQLAlchemy's URL parser: only when a repr is asked for

        return f"Settings(workspace={self.workspace!r}, db_url={redact(self.db_url)!r})"

    @property
    def uses_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")
