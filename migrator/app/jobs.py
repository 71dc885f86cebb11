"""Durable jobs (docs/scale.md): work queued as rows in the store's PostgreSQL, run by
`migrator worker` on any machine that reaches it. The engine is procrastinate (its schema:
revision 0016_jobs); this module enqueues, lists, cancels and retries. The tasks themselves are
migrator.app.job_tasks, the worker loop migrator.app.worker.

procrastinate is imported only here and in those two modules, and only when a job is queued or
run: a SQLite workspace never needs it (and `--queue` there is refused with one line).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from migrator.app.workspace import Workspace
from migrator.dburl import parse
from migrator.errors import Conflict, NotFound, StoreError, UsageError
from migrator.settings import Settings

if TYPE_CHECKING:
    import procrastinate

    from migrator.app.discovery import DiscoverRequest
    from migrator.app.estates import DiscoverySettings
    from migrator.app.generation import GenerateRequest
    from waves.parameters import PlanParameters

# Queues a worker can be limited to (`migrator worker --queue`): discovery and planning touch only
# the database; generation and landing also write files (the output folder, the plans repository).
QUEUES = ("discovery", "planning", "generation")
STATUSES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborting", "aborted")
PLANNING_LOCK = "planning"  # one planning job per tenant (`planning:<tenant>`)
LAND_LOCK = "plans-repository"  # one landing at a time writes the plans repository


def require_queue(settings: Settings, queueing: bool = True) -> None:
    """`--queue`, jobs and workers need the PostgreSQL store: SQLite is the single-machine
    default, where work runs in the command that asks for it (no queue, no worker)."""
    if not settings.uses_sqlite:
        return
    if queueing:
        raise UsageError(
            "{queue} needs a PostgreSQL workspace (MIGRATOR_DB_URL=postgresql://...): with SQLite "
            "the work runs here, without {queue}",
            field="queue",
        )
    raise UsageError(
        "jobs and workers need a PostgreSQL workspace (MIGRATOR_DB_URL=postgresql://...): with "
        "SQLite every command runs its work itself"
    )


def conninfo(settings: Settings) -> str:
    """The workspace's database as a libpq URL for procrastinate's psycopg 3 connector
    (PGPASSWORD and ~/.pgpass apply as usual). Never printed: it may carry the password."""
    url = parse(settings.db_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def bound_app(settings: Settings) -> Iterator[procrastinate.App]:
    """procrastinate's app with every migrator task, bound to this workspace's PostgreSQL for the
    block (procrastinate's `replace_connector`: the tasks keep their link to the one app)."""
    require_queue(settings, queueing=False)
    import procrastinate

    from migrator.app.job_tasks import app

    with app.replace_connector(procrastinate.PsycopgConnector(conninfo=conninfo(settings))):
        yield app


@contextlib.contextmanager
def open_queue(settings: Settings) -> Iterator[procrastinate.App]:
    """The bound app, opened for synchronous use (queueing, cancelling, retrying)."""
    from procrastinate import exceptions

    with bound_app(settings) as app:
        try:
            app.open()
        except exceptions.ConnectorException as exc:
            raise StoreError(f"cannot reach the job queue: {type(exc.__cause__ or exc).__name__}") from None
        try:
            yield app
        finally:
            app.close()


@dataclass(frozen=True)
class Enqueued:
    """What `--queue` put in the queue: one job, or one per wave of a fan-out."""

    job_ids: list[int]
    what: str

    def as_dict(self) -> dict[str, Any]:
        return {"jobs": self.job_ids, "what": self.what}


def defer(ws: Workspace, task: str, args: dict[str, Any], **options: Any) -> int:
    """Queue one job of `task` (a name in migrator.app.job_tasks) with `options` (queue, lock,
    queueing_lock, schedule_in). A queueing lock already held is a Conflict (exit 10). The job
    carries the tenant that queued it: the worker runs it as that tenant, and only that tenant's
    listings show it (procrastinate's tables are the queue's, shared by every tenant)."""
    from procrastinate import exceptions

    args = {**args, "tenant": ws.tenant}
    ws.engine  # noqa: B018  (opening the store upgrades it: procrastinate's tables exist after)
    try:
        with open_queue(ws.settings) as app:
            return int(app.configure_task(name=task, **options).defer(**args))
    except exceptions.AlreadyEnqueued:
        lock = options.get("queueing_lock")
        raise Conflict(f"a {task} job is already queued ({lock}): see `migrator jobs list`") from None
    except exceptions.ConnectorException as exc:
        raise StoreError(f"cannot queue the job: {type(exc.__cause__ or exc).__name__}") from None


@dataclass(frozen=True)
class JobView:
    id: int
    task: str
    status: str
    queue: str
    lock: str | None
    attempts: int
    args: dict[str, Any]
    scheduled_at: datetime | None
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    worker_id: int | None
    error: str | None = None  # why the latest failed attempt failed (one line); None once succeeded

    @property
    def what(self) -> str:
        """One line about the job from its arguments (they never hold a secret)."""
        a = self.args
        request, land = a.get("request") or {}, a.get("land") or {}
        if self.task == "discover":
            return str(request.get("server", ""))
        if self.task == "discover-estate-vcenter":
            return f"{a.get('vcenter')} into estate snapshot {a.get('estate_snapshot')}"
        if self.task == "generate-wave":
            return f"wave {request.get('wave')} {request.get('target')}"
        if self.task == "land-pr":
            return f"wave {land.get('wave')} {land.get('target')}"
        if a.get("snapshot") is not None:
            return f"snapshot {a['snapshot']}"
        return "latest snapshot" if self.task == "plan-waves" else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "task": self.task,
            "status": self.status,
            "queue": self.queue,
            "lock": self.lock,
            "attempts": self.attempts,
            "what": self.what,
            "batch": self.args.get("batch"),
            "args": self.args,
            "scheduled_at": self.scheduled_at,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "worker_id": self.worker_id,
            "error": self.error,
        }


_SELECT = """
SELECT j.id, j.task_name, j.status, j.queue_name, j.lock, j.attempts, j.args, j.scheduled_at,
       (SELECT min(e.at) FROM procrastinate_events e WHERE e.job_id = j.id AND e.type = 'deferred'),
       (SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id AND e.type = 'started'),
       (SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id
         AND e.type IN ('succeeded', 'failed', 'cancelled', 'aborted')),
       j.worker_id,
       CASE WHEN j.status = 'succeeded' THEN NULL  -- an attempt failed, a later one did it
            ELSE (SELECT e.error FROM job_errors e WHERE e.job_id = j.id ORDER BY e.id DESC LIMIT 1) END
  FROM procrastinate_jobs j
"""


def list_jobs(ws: Workspace, status: str | None = None, limit: int = 200) -> list[JobView]:
    """The tenant's newest jobs first (at most `limit`), optionally of one status."""
    if status is not None and status not in STATUSES:
        raise UsageError(f"{{status}} {status!r}: use one of {', '.join(STATUSES)}", field="status")
    where = "AND j.status = CAST(:status AS procrastinate_job_status)" if status else ""
    sql = f"{_SELECT} WHERE {_TENANT} {where} ORDER BY j.id DESC LIMIT :limit"
    return _query(ws, sql, {"status": status, "limit": limit})


def get_job(ws: Workspace, job_id: int) -> JobView:
    """One of the tenant's jobs; another tenant's id is answered like a missing one."""
    found = _query(ws, f"{_SELECT} WHERE {_TENANT} AND j.id = :id", {"id": job_id})
    if not found:
        raise NotFound(f"no job with id {job_id}")
    return found[0]


# A job's tenant is in its arguments (jobs queued before tenants existed: 'default').
_TENANT = "COALESCE(j.args->>'tenant', 'default') = :tenant"


def _query(ws: Workspace, sql: str, params: dict[str, Any]) -> list[JobView]:
    require_queue(ws.settings, queueing=False)
    try:
        with ws.engine.connect() as conn:
            rows = conn.execute(text(sql), {**params, "tenant": ws.tenant}).all()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the job queue: {type(exc).__name__}") from None
    return [JobView(r[0], r[1], str(r[2]), r[3], r[4], r[5], dict(r[6] or {}), *r[7:]) for r in rows]


def failure_reason(exc: BaseException) -> str:
    """The one line stored and shown for a failed job. migrator's own errors are written for the
    user (no secret: the CLI prints them too); anything else is a bug whose text might quote a
    connection string or a value, so only its type is kept and its traceback stays in the log."""
    from migrator.errors import MigratorError

    if isinstance(exc, MigratorError):
        first = (exc.message.splitlines() or [""])[0]
        return f"{type(exc).__name__}: {first}"
    return f"internal error ({type(exc).__name__}): see the worker's log"


def progress(jobs: list[JobView]) -> dict[str, Any]:
    """Counts by status, and per batch (a fan-out: one job per wave) how many are done."""
    by_status = {s: sum(1 for j in jobs if j.status == s) for s in STATUSES}
    batches: dict[str, dict[str, int]] = {}
    for job in jobs:
        batch = job.args.get("batch")
        if batch:
            entry = batches.setdefault(batch, {"total": 0, "done": 0, "failed": 0})
            entry["total"] += 1
            entry["done"] += job.status == "succeeded"
            entry["failed"] += job.status in ("failed", "cancelled", "aborted")
    return {"by_status": {k: v for k, v in by_status.items() if v}, "batches": batches}


def cancel_job(ws: Workspace, job_id: int) -> JobView:
    """A queued job is cancelled. A running one is not stopped: its result is one transaction
    that either lands whole or not at all, and stopping it midway would gain nothing."""
    job = get_job(ws, job_id)
    if job.status != "todo":
        raise Conflict(f"job {job_id} is {job.status}: only a queued job can be cancelled")
    with open_queue(ws.settings) as app:
        if not app.job_manager.cancel_job_by_id(job_id):
            raise Conflict(f"job {job_id} started meanwhile: only a queued job can be cancelled")
    return get_job(ws, job_id)


def retry_job(ws: Workspace, job_id: int) -> JobView:
    """A failed job goes back to the queue now (its attempts count on)."""
    job = get_job(ws, job_id)
    if job.status != "failed":
        raise Conflict(f"job {job_id} is {job.status}: only a failed job can be retried")
    from datetime import UTC

    with open_queue(ws.settings) as app:
        app.job_manager.retry_job_by_id(job_id, retry_at=datetime.now(UTC))
    return get_job(ws, job_id)


# -- what the front ends queue -------------------------------------------------------------------


def discovery_options(display: str, tenant: str, scheduled: bool = False) -> dict[str, Any]:
    """At most one discovery per vCenter runs at a time, whichever tenant asks (the lock: the
    vCenter is one); a tenant's schedule keeps one pending run."""
    options: dict[str, Any] = {"queue": "discovery", "lock": f"vcenter:{display}"}
    if scheduled:
        options["queueing_lock"] = f"schedule:{tenant}:{display}"
    return options


def planning_options(tenant: str) -> dict[str, Any]:
    """One planning job per tenant: queued once (queueing lock), run once at a time (lock)."""
    lock = f"{PLANNING_LOCK}:{tenant}"
    return {"queue": "planning", "lock": lock, "queueing_lock": lock}


def every(value: str) -> timedelta:
    """`1d`, `12h`, `30m`: the interval of schedule-discovery (at least 5 minutes)."""
    units = {"m": 60, "h": 3600, "d": 86400}
    number, unit = value[:-1], value[-1:]
    if unit not in units or not number.isdigit() or int(number) <= 0:
        raise UsageError(f"{{every}} {value!r}: give a number and m, h or d (1d, 12h, 30m)", field="every")
    interval = timedelta(seconds=int(number) * units[unit])
    if interval < timedelta(minutes=5):
        raise UsageError(
            "{every}: at least 5 minutes (vCenter's finest samples are 5 minutes)", field="every"
        )
    return interval


def queue_discovery(
    ws: Workspace,
    request: DiscoverRequest,
    password_env: str | None,
    password_file: Path | None = None,
    every_text: str | None = None,
) -> Enqueued:
    """Queue one discovery (or, with `every_text`, the first of a schedule). The worker reads the
    password from the variable `password_env` in its own environment: only the name is stored."""
    require_queue(ws.settings)
    if password_file is not None or not password_env:
        raise UsageError(
            "{queue} takes the password from {password_env} (the worker reads that variable), "
            "never from a file or a prompt",
            field=("queue", "password_env"),
        )
    interval = every(every_text) if every_text else None
    args: dict[str, Any] = {"request": request.as_args(), "password_env": password_env}
    if interval is not None:
        args["every_seconds"] = interval.total_seconds()
    options = discovery_options(request.display, ws.tenant, scheduled=interval is not None)
    what = f"discovery of {request.display}" + (f" every {every_text}" if every_text else "")
    return Enqueued([defer(ws, "discover", args, **options)], what)


def queue_estate_discovery(ws: Workspace, settings: DiscoverySettings) -> Enqueued:
    """Start an estate snapshot and queue one discovery job per vCenter of the estate: each job
    holds its vCenter's lock, reads the credentials its definition names on the worker, and the job
    that finishes the last member settles the estate snapshot (migrator.app.estates)."""
    require_queue(ws.settings)
    from migrator.app.estates import start_estate_snapshot
    from migrator.vcenter.address import parse_server

    estate_snapshot = start_estate_snapshot(ws)
    ids: list[int] = []
    members = ws.estates.members(estate_snapshot)  # the definitions copied in: what the jobs read
    try:
        for member in members:
            args = {
                "estate_snapshot": estate_snapshot,
                "vcenter": member.vcenter,
                "settings": asdict(settings),
            }
            options = discovery_options(parse_server(member.definition["server"]).display, ws.tenant)
            ids.append(defer(ws, "discover-estate-vcenter", args, **options))
    except BaseException:
        # Members left without a job would stay pending forever: mark them, settle what is there.
        for member in members[len(ids) :]:
            assert member.id is not None
            ws.estates.mark(member.id, status="failed", error="its discovery job could not be queued")
        from migrator.app.estates import settle_estate_snapshot

        settle_estate_snapshot(ws, estate_snapshot)
        raise
    return Enqueued(ids, f"estate snapshot {estate_snapshot}: {len(ids)} vCenter(s)")


def queue_wave_plan(ws: Workspace, parameters: PlanParameters, snapshot: int | None) -> Enqueued:
    """Queue one wave plan of the snapshot (None: the latest complete one when the job runs)."""
    require_queue(ws.settings)
    args = {"parameters": asdict(parameters), "snapshot": snapshot}
    return Enqueued([defer(ws, "plan-waves", args, **planning_options(ws.tenant))], "wave plan")


def queue_generation(ws: Workspace, request: GenerateRequest, land: dict[str, Any] | None = None) -> Enqueued:
    """Fan a plan out: one generate-and-validate job per wave (then its landing, with `land`)."""
    require_queue(ws.settings)
    from migrator.app.generation import planned_inputs, select_waves

    planned = planned_inputs(ws, request.plan_id)  # the plan is fixed now: every job reads the same one
    waves = select_waves(planned.waves, request.wave)
    batch = f"plan {planned.plan_id} {request.target}"
    ids = []
    for wave in waves:
        args = {
            "request": {
                "target": request.target,
                "wave": wave.number,
                "out": str(request.out.resolve()),  # the workers see this path (docs/scale.md)
                "plan_id": planned.plan_id,
                "options": dict(request.options),
                "max_attempts": request.max_attempts,
                "use_tools": request.use_tools,
            },
            "land": land,
            "batch": batch,
        }
        lock = f"generate:{planned.plan_id}:{request.target}:{wave.number}"
        ids.append(defer(ws, "generate-wave", args, queue="generation", lock=lock))
    return Enqueued(ids, f"{batch}: {len(ids)} wave(s)")


def findings_options(snapshot: int, target: str | None = None) -> dict[str, Any]:
    """One evaluation of a snapshot's findings per target waits in the queue at a time."""
    return {"queue": "planning", "queueing_lock": f"findings:{snapshot}:{target or 'any'}"}
