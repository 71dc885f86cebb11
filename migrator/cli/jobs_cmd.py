"""`migrator jobs`: the queued, running and finished jobs of the workspace (docs/scale.md)."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console

from migrator.app.jobs import JobView, cancel_job, get_job, list_jobs, progress, retry_job
from migrator.cli.context import state
from migrator.cli.output import Format, dump_json, render

app = typer.Typer(help="Queued work: list, show, cancel, retry (docs/scale.md).", no_args_is_help=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)

COLUMNS = [
    ("id", "Job"),
    ("task", "Task"),
    ("what", "What"),
    ("status", "Status"),
    ("attempts", "Attempts"),
    ("queue", "Queue"),
    ("lock", "Lock"),
    ("created_at", "Queued"),
    ("started_at", "Started"),
    ("finished_at", "Finished"),
]


def _row(job: JobView) -> dict[str, Any]:
    row = job.as_dict()
    for key in ("created_at", "started_at", "finished_at"):
        row[key] = row[key].strftime("%Y-%m-%d %H:%M:%S") if row[key] else None
    return row


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    status: str = typer.Option(None, "--status", help="Only this status (todo, doing, failed, ...)."),
    limit: int = typer.Option(200, "--limit", min=1, help="The newest N jobs."),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv."),
) -> None:
    """The newest jobs, with progress: counts by status and per fan-out (one job per wave)."""
    jobs = list_jobs(state(ctx), status, limit)
    render(
        [_row(j) for j in jobs],
        COLUMNS,
        fmt,
        title=f"{len(jobs)} job(s)",
        json_payload=[j.as_dict() for j in jobs],
    )
    if fmt is Format.table:
        summary = progress(jobs)
        counts = ", ".join(f"{n} {s}" for s, n in summary["by_status"].items()) or "no jobs"
        _err.print(f"progress: {counts}", markup=False)
        for batch, entry in summary["batches"].items():
            _err.print(
                f"  {batch}: {entry['done']}/{entry['total']} done, {entry['failed']} failed", markup=False
            )


@app.command("show")
def show(
    ctx: typer.Context,
    job_id: int = typer.Argument(..., help="The job's id."),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
) -> None:
    """One job: its task, arguments (never a secret), status, attempts and times."""
    job = get_job(state(ctx), job_id)
    if fmt is Format.json:
        dump_json(job.as_dict())
        return
    row = _row(job)
    render(
        [{"field": k, "value": row[k]} for k in row], [("field", "Field"), ("value", "Value")], Format.table
    )


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    job_id: int = typer.Argument(..., help="The job's id."),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
) -> None:
    """Cancel a queued job (a running one finishes: its result is one transaction)."""
    _print_one(cancel_job(state(ctx), job_id), fmt)


@app.command("retry")
def retry(
    ctx: typer.Context,
    job_id: int = typer.Argument(..., help="The job's id."),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
) -> None:
    """Queue a failed job again."""
    _print_one(retry_job(state(ctx), job_id), fmt)


def _print_one(job: JobView, fmt: Format) -> None:
    if fmt is Format.json:
        dump_json(job.as_dict())
    else:
        typer.echo(f"job {job.id} ({job.task} {job.what}): {job.status}")
