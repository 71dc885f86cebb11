"""`migrator discover`: read a vCenter (strictly read-only) into a new inventory snapshot;
`--queue` puts the same request in the job queue instead (docs/scale.md);
`migrator schedule-discovery`: queue it again and again."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from migrator.app.discovery import DiscoverRequest
from migrator.app.discovery import discover as run_discover
from migrator.app.jobs import Enqueued, queue_discovery
from migrator.cli.context import state
from migrator.cli.progress import discovery_progress
from migrator.cli.summary import print_snapshot_summary
from migrator.errors import UsageError
from migrator.secrets import read_password

SERVER = typer.Option(None, "--server", help="vCenter URL or host name (https and /sdk by default).")
USER = typer.Option(None, "--user", help="A read-only vCenter account, e.g. ro@vsphere.local.")
PASSWORD_ENV = typer.Option(
    None, "--password-env", help="Name of the environment variable holding the password (else a prompt)."
)
INSECURE = typer.Option(False, "--insecure", help="Do not verify the TLS certificate (labs only).")
THUMBPRINT = typer.Option(None, "--thumbprint", help="Pin the server certificate by SHA-256 fingerprint.")
CA_FILE = typer.Option(None, "--ca-file", exists=True, dir_okay=False, help="Trust this CA bundle.")
PERF_DAYS = typer.Option(7.0, "--perf-days", min=0, max=365, help="Days of utilisation to read (0: none).")
WORKERS = typer.Option(
    None, "--workers", min=1, max=16, help="Processes reading VMs, this one included [default: CPU cores]."
)
TIMEOUT = typer.Option(120.0, "--timeout", min=1, help="Seconds to wait for each vCenter answer.")
ESTATE = typer.Option(
    False, "--estate", help="Every vCenter of the estate (`migrator estate add`): one estate snapshot."
)


def discover(
    ctx: typer.Context,
    server: str = SERVER,
    user: str = USER,
    password_env: str = PASSWORD_ENV,
    password_file: Path = typer.Option(
        None, "--password-file", help="Read the password from this file (mode 600; first line) or pipe."
    ),
    insecure: bool = INSECURE,
    thumbprint: str = THUMBPRINT,
    ca_file: Path = CA_FILE,
    perf_days: float = PERF_DAYS,
    workers: int = WORKERS,
    timeout: float = TIMEOUT,
    queue: bool = typer.Option(
        False, "--queue", help="Queue the discovery for a worker (PostgreSQL; docs/scale.md)."
    ),
    estate: bool = ESTATE,
) -> None:
    """Discover a vCenter into a new inventory snapshot (read-only), or every vCenter of the estate."""
    if estate:
        from migrator.cli.estate_discover import discover_estate_cmd

        given = (server, user, password_env, password_file, insecure, thumbprint, ca_file)
        discover_estate_cmd(
            state(ctx), perf_days, workers, timeout, connection_options=any(given), queue=queue
        )
        return
    if not server or not user:
        raise UsageError("give --server and --user (or --estate for every vCenter of the estate)")
    ca = str(ca_file) if ca_file else None
    request = DiscoverRequest(server, user, insecure, thumbprint, ca, perf_days, workers, timeout)
    ws = state(ctx)
    if queue:
        print_enqueued(queue_discovery(ws, request, password_env, password_file))
        return
    password = read_password(password_env, user, password_file)
    with discovery_progress() as progress:
        result = run_discover(ws, request, password, progress)
    warn = Console(stderr=True, highlight=False)
    for line in result.warnings:
        warn.print(f"[yellow]warning:[/] {line.replace('[', chr(92) + '[')}")
    print_snapshot_summary(ws.store, result.snapshot_id, result.vms)


def schedule_discovery(
    ctx: typer.Context,
    every: str = typer.Option(..., "--every", help="Interval: 1d, 12h, 30m (at least 5m)."),
    server: str = SERVER,
    user: str = USER,
    password_env: str = typer.Option(
        ..., "--password-env", help="The variable holding the password, on every worker."
    ),
    insecure: bool = INSECURE,
    thumbprint: str = THUMBPRINT,
    ca_file: Path = CA_FILE,
    perf_days: float = typer.Option(1.0, "--perf-days", min=0, max=365, help="Days of utilisation to read."),
    workers: int = WORKERS,
    timeout: float = TIMEOUT,
) -> None:
    """Discover a vCenter now and then every interval, on the workers (docs/scale.md)."""
    if not server or not user:
        raise UsageError("give --server and --user: the vCenter to discover on every run")
    ca = str(ca_file) if ca_file else None
    # every run keeps its samples: the history sizing reads (docs/scale.md#utilisation-history)
    request = DiscoverRequest(
        server, user, insecure, thumbprint, ca, perf_days, workers, timeout, history=True
    )
    print_enqueued(queue_discovery(state(ctx), request, password_env, None, every))


def print_enqueued(enqueued: Enqueued) -> None:
    ids = ", ".join(str(i) for i in enqueued.job_ids)
    typer.echo(f"queued {enqueued.what}: job(s) {ids} (migrator jobs list)")
