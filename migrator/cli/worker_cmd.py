"""`migrator worker`: run queued jobs (docs/scale.md) on this machine until Ctrl-C/SIGTERM."""

from __future__ import annotations

import typer

from migrator.app.worker import WorkerOptions, run_worker
from migrator.cli.context import state


def worker(
    ctx: typer.Context,
    concurrency: int = typer.Option(1, "--concurrency", min=1, max=64, help="Jobs run at once."),
    queue: list[str] = typer.Option(
        None,
        "--queue",
        help="Only this queue (repeatable): discovery, planning or generation; default: every queue.",
    ),
    stalled_after: float = typer.Option(
        30.0, "--stalled-after", help="Seconds without a heartbeat before a worker's jobs are retried."
    ),
) -> None:
    """Run queued jobs from the workspace's PostgreSQL (stop: Ctrl-C; running jobs finish first)."""
    options = WorkerOptions(concurrency, tuple(queue or ()), stalled_after)
    run_worker(state(ctx), options)
    typer.echo("worker stopped", err=True)
