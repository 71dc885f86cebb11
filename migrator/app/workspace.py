"""A workspace: the resolved settings and, opened on first use, the database and its stores."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from migrator.settings import DEFAULT_TENANT, Settings

# Each store is imported by the property that returns it: importing them all (SQLAlchemy and every
# SQLModel table) took 0.5 s, more than `migrator snapshots list` may take (migrator/store/quickread.py).
if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from migrator.store.cmdb import CmdbStore
    from migrator.store.edits import EditStore
    from migrator.store.estates import EstateStore
    from migrator.store.findings import FindingsCache
    from migrator.store.flows import FlowStore
    from migrator.store.generated import GeneratedStore
    from migrator.store.history import HistoryStore
    from migrator.store.identities import AuditStore, IdentityStore
    from migrator.store.learning import LearningStore
    from migrator.store.llm import LLMStore
    from migrator.store.plans import PlanStore
    from migrator.store.schedules import ScheduleStore
    from migrator.store.snapshots import SnapshotStore


@dataclass
class _Database:
    """The one engine (and pool) behind a workspace and its other tenants' views of it."""

    engine: Engine | None = None
    isolated: bool = False  # checked that the database keeps tenants apart (tenancy.require_isolation)


@dataclass
class Workspace:
    """What every use case gets. The database is opened (and upgraded) only when first needed.

    A workspace acts as one tenant (`settings.tenant`, docs/scale.md#tenants): every transaction
    of its engine sets that tenant, which PostgreSQL's row-level security enforces."""

    settings: Settings
    _database: _Database = field(default_factory=_Database, repr=False)
    # (the database's engine, it as this tenant): rebuilt when the database is opened again
    _bound: tuple[Engine, Engine] | None = field(default=None, repr=False)

    @classmethod
    def open(
        cls, workspace: Path | None = None, db_url: str | None = None, tenant: str | None = None
    ) -> Workspace:
        """A workspace folder, database URL and tenant, each defaulting to the environment, then
        ./.migrator and the tenant `default`."""
        return cls(Settings.resolve(workspace, db_url, tenant))

    @property
    def tenant(self) -> str:
        return self.settings.tenant

    def as_tenant(self, tenant: str) -> Workspace:
        """The same database (engine, pool) acting as another tenant: a dashboard request as its
        token's tenant, a job as the tenant that queued it."""
        if tenant == self.tenant:
            return self
        settings = replace(self.settings, tenant=tenant)
        settings.check_tenant_store()
        return Workspace(settings, self._database)

    @property
    def engine(self) -> Engine:
        if self._database.engine is None:
            from migrator.store.database import open_engine

            self._database.engine = open_engine(self.settings)
        base = self._database.engine
        if self._bound is None or self._bound[0] is not base:
            from migrator.store import tenancy

            if self.tenant != DEFAULT_TENANT and not self._database.isolated:
                tenancy.require_isolation(base)
                self._database.isolated = True
            self._bound = (base, tenancy.bind(base, self.tenant))
        return self._bound[1]

    @property
    def engine_open(self) -> bool:
        return self._database.engine is not None

    @property
    def folder(self) -> Path:
        """Where the tenant's files live (the plans repository): the workspace folder for the
        tenant 'default', `<workspace>/tenants/<tenant>` for any other, so tenants that share a
        workspace folder (the workers' shared disk) never share a branch."""
        if self.tenant == DEFAULT_TENANT:
            return self.settings.workspace
        return self.settings.workspace / "tenants" / self.tenant

    @property
    def cache_key(self) -> tuple[str, str]:
        """What an in-process cache of stored data is keyed by: the database and the tenant."""
        return (self.settings.db_url, self.tenant)

    @property
    def store(self) -> SnapshotStore:
        """The inventory snapshots (named `store` since the first release)."""
        from migrator.store.snapshots import SnapshotStore

        return SnapshotStore(self.engine)

    @property
    def snapshots(self) -> SnapshotStore:
        return self.store

    @property
    def flows(self) -> FlowStore:
        from migrator.store.flows import FlowStore

        return FlowStore(self.engine)

    @property
    def plans(self) -> PlanStore:
        from migrator.store.plans import PlanStore

        return PlanStore(self.engine)

    @property
    def schedules(self) -> ScheduleStore:
        """Computed wave schedules of the plans (docs/schedule.md)."""
        from migrator.store.schedules import ScheduleStore

        return ScheduleStore(self.engine)

    @property
    def edits(self) -> EditStore:
        from migrator.store.edits import EditStore

        return EditStore(self.engine)

    @property
    def learning(self) -> LearningStore:
        """Examples from merged pull requests and the corrections learned from them."""
        from migrator.store.learning import LearningStore

        return LearningStore(self.engine)

    @property
    def generated(self) -> GeneratedStore:
        from migrator.store.generated import GeneratedStore

        return GeneratedStore(self.engine)

    @property
    def cmdb(self) -> CmdbStore:
        from migrator.store.cmdb import CmdbStore

        return CmdbStore(self.engine)

    @property
    def findings_cache(self) -> FindingsCache:
        """Source findings computed once per snapshot, target and policy bundle."""
        from migrator.store.findings import FindingsCache

        return FindingsCache(self.engine)

    @property
    def llm(self) -> LLMStore:
        """Chat-model interactions, usage and the response cache."""
        from migrator.store.llm import LLMStore

        return LLMStore(self.engine)

    @property
    def identities(self) -> IdentityStore:
        """Team mode's people and their token hashes."""
        from migrator.store.identities import IdentityStore

        return IdentityStore(self.engine)

    @property
    def audit(self) -> AuditStore:
        """Who changed what (migrator.app.audit writes it)."""
        from migrator.store.identities import AuditStore

        return AuditStore(self.engine)

    @property
    def estates(self) -> EstateStore:
        """The estate's vCenters and the members of estate snapshots (docs/scale.md)."""
        from migrator.store.estates import EstateStore

        return EstateStore(self.engine)

    @property
    def history(self) -> HistoryStore:
        """Utilisation history kept by periodic discovery (docs/scale.md#utilisation-history)."""
        from migrator.store.history import HistoryStore

        return HistoryStore(self.engine)

    def close(self) -> None:
        """Release the database connections (a long-running caller, e.g. the dashboard, on shutdown)."""
        if self._database.engine is not None:
            self._database.engine.dispose()
            self._database.engine = None
