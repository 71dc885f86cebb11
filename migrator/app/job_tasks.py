"""The jobs a worker runs: thin wrappers over the use cases, one job = one stored result.

Each task calls one use case that stores its result in one transaction (a snapshot, a plan, a
wave's generated record, a pull request, a findings cache entry), so a worker killed mid-job
loses nothing committed; the job stays `doing` until another worker sees the dead worker's
heartbeat stop and puts it back in the queue (migrator.app.worker). Arguments are JSON and
never hold a secret: a password or token is named by its environment variable, which the worker
reads from its own environment.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import procrastinate
from procrastinate import JobContext, exceptions

from migrator.app.discovery import DiscoverRequest, discover
from migrator.app.jobs import LAND_LOCK, discovery_options, failure_reason, findings_options
from migrator.app.workspace import Workspace
from migrator.errors import ForgeError, InterruptedRun, StoreError, UsageError, VCenterError
from migrator.secrets import Secret
from migrator.settings import DEFAULT_TENANT

log = logging.getLogger("migrator.jobs")

# Failures that may pass (a vCenter or forge down, a lost connection) are retried with backoff;
# bad input, a missing object or a refused check fails the job at once (`jobs retry` after a fix).
RETRY = procrastinate.RetryStrategy(
    max_attempts=3,
    exponential_wait=5,
    retry_exceptions={VCenterError, StoreError, ForgeError, InterruptedRun, OSError},
)

# The tasks are registered on this app; the worker and the enqueuers bind it to the workspace's
# database for a block with `replace_connector` (migrator.app.jobs.bound_app).
app = procrastinate.App(connector=procrastinate.PsycopgConnector())


def _ws(context: JobContext, tenant: str) -> Workspace:
    """The worker's workspace as the job's tenant (every job carries the tenant that queued it),
    before the job touches the store: its reads and writes are that tenant's alone."""
    ws = context.additional_context["workspace"]
    assert isinstance(ws, Workspace)
    return ws.as_tenant(tenant)


F = TypeVar("F", bound=Callable[..., Any])


def records_failure(task: F) -> F:
    """Store why an attempt failed (`jobs show`, the dashboard) before procrastinate marks it:
    the one line of failure_reason, in its own transaction, then the exception goes on as before
    (retry or fail)."""

    @functools.wraps(task)
    def wrapper(context: JobContext, *args: Any, **kwargs: Any) -> Any:
        try:
            return task(context, *args, **kwargs)
        except Exception as exc:
            from migrator.store.job_errors import record_job_error

            assert context.job.id is not None
            record_job_error(
                _ws(context, kwargs.get("tenant", DEFAULT_TENANT)).engine,
                context.job.id,
                context.job.attempts,
                failure_reason(exc),
            )
            raise

    return wrapper  # type: ignore[return-value]


def _env_secret(name: str, what: str) -> Secret:
    value = os.environ.get(name)
    if value is None:
        raise UsageError(f"environment variable {name} ({what}) is not set on this worker")
    return Secret(value)


@app.task(name="discover", queue="discovery", retry=RETRY, pass_context=True)
@records_failure
def discover_job(
    context: JobContext,
    request: dict[str, Any],
    password_env: str,
    every_seconds: float | None = None,
    tenant: str = DEFAULT_TENANT,
) -> int:
    """Discover one vCenter into one snapshot. With `every_seconds` (schedule-discovery) the next
    run is queued first, so a failed run does not end the schedule."""
    ws = _ws(context, tenant)
    req = DiscoverRequest(**request)
    if every_seconds:
        _queue_next_discovery(context, req, password_env, every_seconds, tenant)
    if context.job.attempts > 0:
        # Only this job reads this vCenter now (its lock): a `running` snapshot of it is the one
        # the killed attempt left. Mark it, so no reader mistakes it for a discovery under way.
        ws.store.interrupt_running(req.display, f"job {context.job.id} attempt stopped; retried")
    result = discover(ws, req, _env_secret(password_env, "the vCenter password"))
    log.info(
        "job %s: snapshot %s of %s (%d VMs)", context.job.id, result.snapshot_id, req.display, len(result.vms)
    )
    # Then its findings, on any worker: the dashboard and planning read them from the cache.
    with contextlib.suppress(exceptions.AlreadyEnqueued):
        context.app.configure_task(name="findings", **findings_options(result.snapshot_id)).defer(
            snapshot=result.snapshot_id, target=None, tenant=tenant
        )
    return result.snapshot_id


@app.task(name="discover-estate-vcenter", queue="discovery", retry=RETRY, pass_context=True)
@records_failure
def discover_estate_vcenter_job(
    context: JobContext,
    estate_snapshot: int,
    vcenter: str,
    settings: dict[str, Any],
    tenant: str = DEFAULT_TENANT,
) -> int | None:
    """Discover one vCenter of an estate snapshot. A vCenter that fails is recorded on its member
    (the estate snapshot is then incomplete), not retried: `discover --estate` again retries it."""
    from migrator.app.estates import DiscoverySettings, discover_estate_vcenter

    ws = _ws(context, tenant)
    if context.job.attempts > 0:
        # As in discover_job: the killed attempt's `running` snapshot of this vCenter (its lock).
        server = ws.estates.member(estate_snapshot, vcenter).definition["server"]
        ws.store.interrupt_running(f"{vcenter}: {server}", f"job {context.job.id} attempt stopped; retried")
    outcome = discover_estate_vcenter(ws, estate_snapshot, vcenter, DiscoverySettings(**settings))
    log.info("job %s: %s of estate snapshot %s: %s", context.job.id, vcenter, estate_snapshot, outcome.status)
    if outcome.settled is not None and outcome.settled.status == "complete":
        with contextlib.suppress(exceptions.AlreadyEnqueued):
            context.app.configure_task(name="findings", **findings_options(estate_snapshot)).defer(
                snapshot=estate_snapshot, target=None, tenant=tenant
            )
    return outcome.snapshot_id


def _queue_next_discovery(
    context: JobContext, req: DiscoverRequest, password_env: str, every_seconds: float, tenant: str
) -> None:
    # A retried attempt finds the next run queued already (the schedule's queueing lock).
    with contextlib.suppress(exceptions.AlreadyEnqueued):
        context.app.configure_task(
            name="discover",
            **discovery_options(req.display, tenant, scheduled=True),
            schedule_in={"seconds": int(every_seconds)},
        ).defer(request=req.as_args(), password_env=password_env, every_seconds=every_seconds, tenant=tenant)


@app.task(name="plan-waves", queue="planning", retry=RETRY, pass_context=True)
@records_failure
def plan_waves_job(
    context: JobContext, parameters: dict[str, Any], snapshot: int | None = None, tenant: str = DEFAULT_TENANT
) -> int:
    """Plan the waves of a snapshot (stored as one plan; unplaced VMs are in it, for a human)."""
    from migrator.app.planning import plan_waves
    from waves.parameters import PlanParameters

    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in parameters.items()}
    result = plan_waves(_ws(context, tenant), PlanParameters(**values), snapshot)
    log.info("job %s: plan %s stored", context.job.id, result.plan_id)
    return result.plan_id


@app.task(name="generate-wave", queue="generation", retry=RETRY, pass_context=True)
@records_failure
def generate_wave_job(
    context: JobContext,
    request: dict[str, Any],
    land: dict[str, Any] | None = None,
    batch: str | None = None,
    tenant: str = DEFAULT_TENANT,
) -> None:
    """Generate and validate one wave for one target; then, when clean and asked, queue its landing."""
    from migrator.app.generation import GenerateRequest, generate

    req = GenerateRequest(**{**request, "out": Path(request["out"])})
    result = generate(_ws(context, tenant), req)
    wave = result.waves[0]
    log.info("job %s: wave %s %s: %s", context.job.id, wave.wave, req.target, wave.status)
    if land is not None and not wave.needs_human:
        context.app.configure_task(name="land-pr", queue="generation", lock=LAND_LOCK).defer(
            land={**land, "wave": wave.wave, "plan_id": result.plan_id}, batch=batch, tenant=tenant
        )


@app.task(name="land-pr", queue="generation", retry=RETRY, pass_context=True)
@records_failure
def land_pr_job(
    context: JobContext, land: dict[str, Any], batch: str | None = None, tenant: str = DEFAULT_TENANT
) -> int:
    """Land one generated wave as one pull request (git push and the forge, when configured)."""
    from migrator.app.prs import LandRequest, Reviews
    from migrator.review.repo import Author

    token_env = land.pop("token_env", None)
    author = Author(*land.pop("author"))
    token = _env_secret(token_env, "the forge token").reveal() if token_env else None
    result = Reviews(_ws(context, tenant)).land(replace(LandRequest(author=author, **land), token=token))
    log.info("job %s: PR %s %s", context.job.id, result.number, result.action)
    return result.number


@app.task(name="findings", queue="planning", retry=RETRY, pass_context=True)
@records_failure
def findings_job(
    context: JobContext, snapshot: int, target: str | None = None, tenant: str = DEFAULT_TENANT
) -> dict[str, int]:
    """Evaluate the source policies over one snapshot once (the findings cache stores them)."""
    from migrator.app.findings import findings_summary

    summary = findings_summary(_ws(context, tenant), target, snapshot)
    log.info("job %s: findings of snapshot %s: %s", context.job.id, snapshot, summary.counts)
    return dict(summary.counts)
