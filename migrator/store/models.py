"""Tables. Each inventory object keeps a few indexed columns and its whole record as JSON.

The JSON record is exactly the object of the inventory export contract (docs/inventory-export.md),
so an export is a read, not a transformation, and new facts need no migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, LargeBinary, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class Snapshot(SQLModel, table=True):
    __tablename__ = "snapshots"

    id: int | None = Field(default=None, primary_key=True)
    source: str  # "vcenter" | "rvtools"
    server: str  # vCenter host name, or the imported file's name
    started_at: datetime = Field(sa_type=DateTime(timezone=True))
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    status: str = "running"  # running | complete | failed | interrupted
    error: str | None = None
    pid: int | None = None  # of the writing process, to tell a crashed run from a live one
    vm_count: int = 0
    host_count: int = 0
    cluster_count: int = 0
    network_count: int = 0
    datastore_count: int = 0
    warnings: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)


class _InventoryColumns(SQLModel):
    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="snapshots.id", index=True)
    moref: str
    name: str
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)


class VMRecord(_InventoryColumns, table=True):
    __tablename__ = "vms"
    __table_args__ = (Index("ix_vms_snapshot_name", "snapshot_id", "name"),)


class HostRecord(_InventoryColumns, table=True):
    __tablename__ = "hosts"


class ClusterRecord(_InventoryColumns, table=True):
    __tablename__ = "clusters"


class NetworkRecord(_InventoryColumns, table=True):
    __tablename__ = "networks"


class DatastoreRecord(_InventoryColumns, table=True):
    __tablename__ = "datastores"


# Export key -> table, in export order.
INVENTORY_TABLES: dict[str, type[_InventoryColumns]] = {
    "vms": VMRecord,
    "hosts": HostRecord,
    "clusters": ClusterRecord,
    "networks": NetworkRecord,
    "datastores": DatastoreRecord,
}


class FlowSet(SQLModel, table=True):
    """One batch of flow evidence: an imported file or a collector run."""

    __tablename__ = "flow_sets"

    id: int | None = Field(default=None, primary_key=True)
    source: str  # generic-csv | azure-migrate | ipfix
    origin: str  # file name, or the collector's listen address
    digest: str = Field(index=True)  # sha256 of the file (or of the collected records): no double import
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    records: int = 0  # aggregated flow rows stored
    malformed: int = 0  # rows or packets that could not be read (reported, never fatal)
    clamped: int = 0  # counter values stored capped at 2^63-1: their sums were larger (0007)
    warnings: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)


class FlowRow(SQLModel, table=True):
    """Observed traffic from a client to a server port, aggregated per (src, dst, port, protocol)."""

    __tablename__ = "flows"

    id: int | None = Field(default=None, primary_key=True)
    flow_set_id: int = Field(foreign_key="flow_sets.id", index=True)
    src_ip: str | None = None
    dst_ip: str | None = None
    dst_port: int | None = None
    protocol: str = "tcp"
    bytes: int = Field(default=0, sa_type=BigInteger)
    packets: int = Field(default=0, sa_type=BigInteger)
    connections: int = Field(default=1, sa_type=BigInteger)
    first_seen: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    last_seen: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    src_name: str | None = None  # server names where the source gives them (Azure Migrate)
    dst_name: str | None = None
    process: str | None = None


class WavePlanRecord(SQLModel, table=True):
    """A stored wave plan: its parameters and the whole `waves show --format json` document."""

    __tablename__ = "wave_plans"

    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="snapshots.id", index=True)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    parameters: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    document: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)


class WaveSchedule(SQLModel, table=True):
    """A computed schedule of a stored plan (docs/schedule.md): its inputs as typed and its document."""

    __tablename__ = "wave_schedules"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="wave_plans.id", index=True)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    inputs: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    document: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)


class WavePin(SQLModel, table=True):
    """An architect's decision: this VM moves in this wave, in every later plan."""

    __tablename__ = "wave_pins"

    vm: str = Field(primary_key=True)
    wave: int
    created_at: datetime = Field(sa_type=DateTime(timezone=True))


class PlanEdit(SQLModel, table=True):
    """A typed change to the plan model (waves/edits.py) with its provenance and what became of it."""

    __tablename__ = "plan_edits"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    kind: str
    vm: str | None = Field(default=None, index=True)  # the VM it changes (None: a wave or rule edit)
    wave: int | None = None  # the wave it changes or pins to
    edit: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)  # its JSON form
    source: str  # reviewer | model | pin | learned | agent
    who: str  # a person's name or a model id
    prompt_version: str | None = None
    pr: int | None = None
    conversation: str | None = None
    status: str = "applied"  # applied | refused | reverted
    diagnostics: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON, nullable=False)
    changed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # refused/reverted


class GeneratedWave(SQLModel, table=True):
    """One wave transpiled for one target: where it was written, its status and diagnostics."""

    __tablename__ = "generated_waves"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="wave_plans.id", index=True)
    target: str  # transpiler id
    wave: int
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    status: str  # clean | needs-human
    attempts: int = 1
    out_dir: str
    files: dict[str, str] = Field(default_factory=dict, sa_type=JSON, nullable=False)  # path -> sha256
    blocked: dict[str, list[str]] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    diagnostics: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON, nullable=False)
    timings: dict[str, float] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    # the target options `migrator plan` was given (plan refine renders and regenerates with them)
    options: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSON, nullable=False, sa_column_kwargs={"server_default": "{}"}
    )


class PullRequest(SQLModel, table=True):
    """One wave x target landed for review (docs/prs.md); local mode keeps the review state here."""

    __tablename__ = "pull_requests"

    id: int | None = Field(default=None, primary_key=True)  # the PR number in local mode
    plan_id: int = Field(foreign_key="wave_plans.id", index=True)
    target: str
    wave: int
    repo: str  # "workspace" (the default plans repository) or the --repo path/URL, never with credentials
    forge: str = "local"  # local | github | gitlab | gitea
    forge_number: int | None = None
    forge_url: str | None = None
    forge_api: str | None = None  # the forge's API base URL, for the merge through it
    forge_repo: str | None = None  # owner/name on the forge
    branch: str
    base: str = "main"
    head_commit: str  # migrator's last commit on the branch
    status: str = "open"  # open | approved | merged | closed
    title: str
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))
    approvals: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON, nullable=False)
    files: dict[str, str] = Field(default_factory=dict, sa_type=JSON, nullable=False)  # path -> sha256
    facts: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)  # for change summaries
    summary: str = ""  # what the last landing changed
    merge_commit: str | None = None


class MergedWave(SQLModel, table=True):
    """What migrator generated and what was merged after review: the reviewers' corrections."""

    __tablename__ = "merged_waves"

    id: int | None = Field(default=None, primary_key=True)
    pr_id: int = Field(foreign_key="pull_requests.id", index=True)
    plan_id: int = Field(foreign_key="wave_plans.id", index=True)
    snapshot_id: int
    target: str
    wave: int
    merged_at: datetime = Field(sa_type=DateTime(timezone=True))
    generated_commit: str
    merged_commit: str  # the branch tip that was merged
    merge_commit: str  # the merge commit on the base branch
    generated: dict[str, str] = Field(default_factory=dict, sa_type=JSON, nullable=False)  # path -> sha256
    merged: dict[str, str] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    diff: dict[str, str] = Field(default_factory=dict, sa_type=JSON, nullable=False)  # path -> unified diff
    inputs: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)


class CmdbImport(SQLModel, table=True):
    """One CMDB export read by `migrator import cmdb`; the latest one is the CMDB migrator uses."""

    __tablename__ = "cmdb_imports"

    id: int | None = Field(default=None, primary_key=True)
    origin: str  # the file's name
    digest: str  # sha256 of the file
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    items: int = 0
    columns: dict[str, str] = Field(default_factory=dict, sa_type=JSON, nullable=False)  # field -> header
    warnings: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)


class CmdbItem(SQLModel, table=True):
    """One configuration item: business facts and the configuration the CMDB expects."""

    __tablename__ = "cmdb_items"
    __table_args__ = (Index("ix_cmdb_items_import_name", "import_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="cmdb_imports.id", index=True)
    name: str
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)


class Conversation(SQLModel, table=True):
    """One natural-language refinement of a wave (docs/agents.md): the request, every attempt with
    its diagnostics, and the final diff. Model output is untrusted text: stored, never executed."""

    __tablename__ = "conversations"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="wave_plans.id", index=True)
    target: str
    wave: int
    pr_number: int | None = None
    request: str
    status: str = "running"  # running | landed | failed | unchanged
    reason: str = ""  # why it failed, one line
    thread_id: str  # the LangGraph checkpoint thread (resume)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))
    attempts: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON, nullable=False)
    diff: str = ""
    commit: str | None = None


class LLMInteraction(SQLModel, table=True):
    """One call (or cache hit) of a chat model: what went in, what came out, what it cost."""

    __tablename__ = "llm_interactions"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=DateTime(timezone=True))
    task: str  # interpret | refine | ...
    command: str  # the CLI command or use case that asked
    plan_id: int | None = Field(default=None, index=True)
    model: str  # ModelSpec.id: provider, base URL and model name, never a key
    prompt_version: str
    input_hash: str = Field(index=True)
    provenance: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    output: str = ""  # the model's raw answer, capped
    outcome: str  # valid | valid-after-reask | fallback | error
    validator: list[str] = Field(
        default_factory=list, sa_type=JSON, nullable=False
    )  # why answers were refused
    cache_hit: bool = False
    semantic_hit: bool = False  # a checked earlier answer reused by similarity (docs/learning.md)
    calls: int = 0  # HTTP requests made (re-asks and retries included)
    latency_ms: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    price_source: str = ""


class LLMCacheEntry(SQLModel, table=True):
    """A validated answer, reused when the same model gets the same prompt version and input."""

    __tablename__ = "llm_cache"

    key: str = Field(primary_key=True)  # sha256 of model, prompt version and input
    model: str
    prompt_version: str
    output: str
    created_at: datetime = Field(sa_type=DateTime(timezone=True))


class FindingsCacheEntry(SQLModel, table=True):
    """The source findings of one complete snapshot for one target under one policy bundle.

    Snapshots are immutable once complete, so the key (snapshot, target, bundle digest) says when
    an entry is stale: a new snapshot or an edited policy gets a new entry, never a wrong one."""

    __tablename__ = "findings_cache"
    __table_args__ = (Index("ix_findings_cache_key", "snapshot_id", "target", "bundle", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="snapshots.id")
    target: str  # "any" when no target was chosen
    bundle: str  # sha256 of the source policies and their library
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    counts: dict[str, int] = Field(default_factory=dict, sa_type=JSON, nullable=False)  # severity -> n


class FindingsCacheVM(SQLModel, table=True):
    """One VM's findings in a cache entry (a row per VM: a wave or a VM page reads only its own)."""

    __tablename__ = "findings_cache_vms"
    __table_args__ = (Index("ix_findings_cache_vms_entry_vm", "entry_id", "vm"),)

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="findings_cache.id")
    vm: str
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON, nullable=False)


class LearningExample(SQLModel, table=True):
    """One VM of a merged, approved pull request: its facts (the query), what migrator generated
    (the answer) and what the reviewers' merged edits set (the fix), keyed by slot (docs/learning.md)."""

    __tablename__ = "learning_examples"
    __table_args__ = (Index("ix_learning_examples_pr_vm", "pr", "vm", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    pr: int  # the pull request's number
    commit: str  # the merge commit
    approver: str
    merged_at: datetime = Field(sa_type=DateTime(timezone=True))
    target: str
    wave: int
    vm: str
    facts: dict[str, str] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    disks: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    answer: dict[str, str] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    fix: dict[str, str] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    reviewers: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)


class LearnedCorrection(SQLModel, table=True):
    """A reviewers' preference generalised from examples: VMs with fact = value get slot = value."""

    __tablename__ = "learned_corrections"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))
    fact: str
    fact_value: str
    slot: str
    value: str
    support: int = 0
    against: int = 0
    confidence: float = 0.0
    prs: list[int] = Field(default_factory=list, sa_type=JSON, nullable=False)
    reviewers: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    status: str = "active"  # active | superseded (evidence no longer supports it) | forgotten


class Identity(SQLModel, table=True):
    """A person who may use the dashboard in team mode (docs/dashboard.md#team-mode).

    Only the SHA-256 of the token is kept: the token is 256 random bits, so a fast hash cannot be
    reversed by guessing, and the lookup by hash needs no comparison against every row."""

    __tablename__ = "identities"

    id: int | None = Field(default=None, primary_key=True)
    name: str  # unique per tenant (uq_identities_tenant_name)
    role: str  # viewer | reviewer | approver
    token_sha256: str = Field(unique=True)  # hex digest; never the token
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class AuditRecord(SQLModel, table=True):
    """One state change: who (an identity, or the CLI's user), what, on which ids, when, from where."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=DateTime(timezone=True), index=True)
    who: str
    via: str  # cli | web
    action: (
        str  # pr.approve, pr.merge, pr.land, pin.set, pin.remove, edit.add, edit.revert, identity.add, ...
    )
    target: str  # the ids it concerns, e.g. "pr:1", "vm:crm-web-01", "edit:3", "identity:ana"
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)


class Embedding(SQLModel, table=True):
    """A stored sentence embedding (agents/llm/embed.py, 384 float32 as bytes; docs/learning.md):
    kind `example` is one learning example's facts and fix (ref = its id), kind `cache` one checked
    model answer of the semantic cache (keyed by the request's vector and the wave facts' hash),
    kind `interpret` one confirmed interpretation (ref = the learning example's id). Searched in
    SQLite with sqlite-vec over this column, else by brute force (migrator/store/embeddings.py)."""

    __tablename__ = "embeddings"
    __table_args__ = (Index("ix_embeddings_kind_target", "kind", "target"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    kind: str  # example | cache
    ref: int | None = None  # the learning example's id (kind example)
    target: str
    facts_hash: str = ""  # sha256 of the wave facts the answer was checked against (kind cache)
    text: str  # what was embedded
    vector: bytes = Field(sa_type=LargeBinary, nullable=False)
    answer: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)


class EstateVCenter(SQLModel, table=True):
    """One vCenter of the workspace's estate (docs/scale.md#multi-vcenter-estates). Never a
    password: only where to read it at discovery time (an environment variable or a file)."""

    __tablename__ = "estate_vcenters"

    id: int | None = Field(default=None, primary_key=True)
    name: str  # the estate's name for it, e.g. prod-vc-01; unique per tenant
    server: str  # as given to `estate add --server`
    username: str
    password_env: str | None = None
    password_file: str | None = None
    insecure: bool = False
    thumbprint: str | None = None
    ca_file: str | None = None
    created_at: datetime = Field(sa_type=DateTime(timezone=True))


class EstateMember(SQLModel, table=True):
    """One vCenter's part of an estate snapshot: which snapshot holds it, or why it failed.

    The vCenter's definition is copied in (`definition`, no secret) when the estate snapshot
    starts, so a job that runs later discovers what was asked even if the estate changed."""

    __tablename__ = "estate_members"

    id: int | None = Field(default=None, primary_key=True)
    estate_snapshot_id: int = Field(foreign_key="snapshots.id", index=True)
    vcenter: str
    definition: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    snapshot_id: int | None = Field(default=None, foreign_key="snapshots.id")
    status: str = "pending"  # pending | running | complete | failed | interrupted
    error: str | None = None
    instance_uuid: str | None = None  # the vCenter's about.instanceUuid
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class JobError(SQLModel, table=True):
    """Why an attempt of a queued job failed (docs/scale.md#jobs): the one line the task raised,
    never a traceback or a secret. procrastinate's events say when, not why."""

    __tablename__ = "job_errors"

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(sa_type=BigInteger, index=True)  # procrastinate_jobs.id (no key: jobs are pruned)
    attempt: int  # 0 for the first run
    error: str
    at: datetime = Field(sa_type=DateTime(timezone=True))


class UtilisationSample(SQLModel, table=True):
    """One utilisation sample of one VM, kept by periodic discovery beyond vCenter's own rollups
    (docs/scale.md#utilisation-history). The VM is its vCenter's instance UUID and its moref;
    a sample is stored once per timestamp (floored to its interval), whichever run read it first."""

    __tablename__ = "utilisation_samples"

    vcenter_uuid: str = Field(primary_key=True)
    moref: str = Field(primary_key=True)
    at: datetime = Field(sa_type=DateTime(timezone=True), primary_key=True)
    interval_s: int
    cpu_pct: float | None = None
    mem_pct: float | None = None


class UtilisationRun(SQLModel, table=True):
    """A discovery that kept its samples in the history: which vCenter its snapshot read (the
    instance UUID its VMs' history is keyed by) and how many samples it brought."""

    __tablename__ = "utilisation_runs"

    snapshot_id: int = Field(foreign_key="snapshots.id", primary_key=True)
    vcenter_uuid: str
    samples: int
    at: datetime = Field(sa_type=DateTime(timezone=True))


# -- tenants (revision 0017_tenants, docs/scale.md#tenants) ---------------------------------------
# Every table below holds a team's data and carries its tenant. The column is the database's, not
# the models': it is not mapped, so no code sets or reads it; inserts take the column default
# ('default' on SQLite, the transaction's `migrator.tenant` setting on PostgreSQL) and PostgreSQL's
# row-level security policies filter every statement by it (migrator.store.tenancy).
TENANT_MODELS: tuple[type[SQLModel], ...] = (
    Snapshot,
    *INVENTORY_TABLES.values(),
    FlowSet,
    FlowRow,
    WavePlanRecord,
    WaveSchedule,
    WavePin,
    PlanEdit,
    GeneratedWave,
    PullRequest,
    MergedWave,
    CmdbImport,
    CmdbItem,
    Conversation,
    LLMInteraction,
    LLMCacheEntry,
    FindingsCacheEntry,
    FindingsCacheVM,
    LearningExample,
    LearnedCorrection,
    Identity,
    AuditRecord,
    Embedding,
    EstateVCenter,
    EstateMember,
    JobError,
    UtilisationSample,
    UtilisationRun,
)
# Keys that were global and are chosen by people or derived from content: one per tenant now (a
# tenant must never learn from a conflict that another tenant holds a name, a pin or an answer).
_TENANT_KEYS = {"wave_pins", "llm_cache", "utilisation_samples"}  # the tenant joins the primary key
_TENANT_UNIQUE = {"identities": "name", "estate_vcenters": "name"}
# Tables whose listings filter by tenant alone (children are reached through their parent's id).
_TENANT_INDEXED = {
    "snapshots",
    "flow_sets",
    "wave_plans",
    "plan_edits",
    "generated_waves",
    "pull_requests",
    "cmdb_imports",
    "conversations",
    "llm_interactions",
    "learning_examples",
    "learned_corrections",
    "audit_log",
    "embeddings",
}


def _add_tenant_column(model: type[SQLModel]) -> None:
    table = model.__table__  # type: ignore[attr-defined]
    keyed = table.name in _TENANT_KEYS
    table.append_column(
        Column("tenant", String(), nullable=False, server_default=text("'default'"), primary_key=keyed)
    )
    if table.name in _TENANT_UNIQUE:
        column = _TENANT_UNIQUE[table.name]
        table.append_constraint(UniqueConstraint("tenant", column, name=f"uq_{table.name}_tenant_{column}"))
    if table.name in _TENANT_INDEXED:
        Index(f"ix_{table.name}_tenant", table.c.tenant)


for _model in TENANT_MODELS:
    _add_tenant_column(_model)
