"""`migrator worker`: run queued jobs from the workspace's PostgreSQL until stopped.

procrastinate's worker fetches jobs (respecting each job's lock), runs up to `concurrency` at
once and records a heartbeat every few seconds in `procrastinate_workers`. procrastinate 3
detects a dead worker by that heartbeat (`JobManager.get_stalled_jobs`: jobs `doing` whose
worker's heartbeat is older than a limit, or whose worker row was pruned) but leaves retrying
them to the application. Every migrator worker therefore also runs `_recover_stalled`: each
heartbeat interval it puts the jobs of workers silent for `stalled_after` seconds back in the
queue, where a live worker (this one or another) takes them. A loop, not a procrastinate
periodic task: a periodic task would add a job row every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from dataclasses import dataclass
from typing import Any

from migrator.app.jobs import QUEUES, bound_app, require_queue
from migrator.app.workspace import Workspace
from migrator.errors import UsageError

log = logging.getLogger("migrator.worker")
MAX_STALLED_RETRIES = 5  # a job that kills its worker every time (out of memory) stops here


@dataclass(frozen=True)
class WorkerOptions:
    concurrency: int = 1
    queues: tuple[str, ...] = ()  # () = every queue
    stalled_after: float = 30.0  # seconds without a heartbeat before a worker counts as dead

    def __post_init__(self) -> None:
        unknown = [q for q in self.queues if q not in QUEUES]
        if unknown:
            raise UsageError(f"{{queue}} {unknown[0]!r}: use {', '.join(QUEUES)}", field="queue")
        if self.stalled_after < 2:
            raise UsageError("{stalled_after}: at least 2 seconds", field="stalled_after")

    @property
    def heartbeat(self) -> float:
        return max(self.stalled_after / 4, 0.5)


def run_worker(ws: Workspace, options: WorkerOptions) -> None:
    """Run jobs until SIGINT/SIGTERM; then finish the running ones (a second signal: at once)."""
    require_queue(ws.settings, queueing=False)
    ws.engine  # noqa: B018  (opens and upgrades the store before any job: the queue's tables exist)
    _log_jobs()
    with bound_app(ws.settings) as app:
        asyncio.run(_run(app, ws, options))


class _JobFormatter(logging.Formatter):
    """procrastinate logs a failed job with its exception: migrator's own errors (bad input, a
    vCenter down, a refused check) are one line, as on the command line; anything else is a bug
    and keeps its traceback for the report."""

    def formatException(self, ei: Any) -> str:
        from migrator.errors import MigratorError

        exc = ei[1]
        if isinstance(exc, MigratorError):
            return f"  {type(exc).__name__}: {exc.message.splitlines()[0] if exc.message else ''}"
        return super().formatException(ei)


def _log_jobs() -> None:
    """One line per job event on stderr, from procrastinate's and migrator's job loggers only
    (migrator's tasks log ids and names; job args hold no secret)."""
    handler = logging.StreamHandler()
    handler.setFormatter(_JobFormatter("%(asctime)s %(name)s %(message)s"))
    for name in ("procrastinate", "migrator.jobs", "migrator.worker"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)


async def _run(app: object, ws: Workspace, options: WorkerOptions) -> None:
    import procrastinate

    assert isinstance(app, procrastinate.App)
    async with app.open_async():
        recovery = asyncio.create_task(_recover_stalled(app, ws, options))
        queues: dict[str, Any] = {"queues": list(options.queues)} if options.queues else {}  # every queue
        try:
            await app.run_worker_async(
                name=f"{socket.gethostname()}:{os.getpid()}",
                concurrency=options.concurrency,
                # A job whose lock frees up is not announced (only new jobs are): look every second.
                fetch_job_polling_interval=1.0,
                **queues,
                additional_context={"workspace": ws},
                update_heartbeat_interval=options.heartbeat,
                stalled_worker_timeout=options.stalled_after,
            )
        finally:
            recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recovery


async def _recover_stalled(app: object, ws: Workspace, options: WorkerOptions) -> None:
    import procrastinate
    from procrastinate import exceptions

    from migrator.store.job_errors import record_job_error

    assert isinstance(app, procrastinate.App)
    manager = app.job_manager
    while True:
        await asyncio.sleep(options.heartbeat)
        try:
            stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=options.stalled_after)
        except exceptions.ConnectorException as exc:
            log.warning("cannot look for stalled jobs: %s", type(exc).__name__)
            continue
        for job in stalled:
            assert job.id is not None
            try:
                if job.attempts >= MAX_STALLED_RETRIES:
                    await manager.finish_job(job, status=procrastinate.jobs.Status.FAILED, delete_job=False)
                    reason = f"its worker died {job.attempts} times (out of memory or killed?)"
                    await asyncio.to_thread(record_job_error, ws.engine, job.id, job.attempts, reason)
                    log.warning("job %s failed: %s", job.id, reason)
                else:
                    await manager.retry_job(job)
                    log.warning("job %s: its worker stopped sending heartbeats; queued again", job.id)
            except exceptions.ConnectorException:
                pass  # another worker recovered it first
