"""`migrator discover`: read a vCenter (strictly read-only) into a new inventory snapshot."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from migrator.app.snapshots import record_snapshot
from migrator.app.workspace import Workspace
from migrator.cli.context import state
from migrator.cli.progress import discovery_progress
from migrator.cli.summary import print_snapshot_summary
from migrator.errors import UsageError
from migrator.secrets import read_password
from migrator.store.inventory import Inventory
from migrator.vcenter.address import parse_server
from migrator.vcenter.connection import ConnectionParams, TLSOptions
from migrator.vcenter.discovery import DiscoveryOptions
from migrator.vcenter.discovery import discover as run_discovery

PERF_DAYS = typer.Option(7.0, "--perf-days", min=0, max=365, help="Days of utilisation to read (0: none).")
WORKERS = typer.Option(None, "--workers", min=1, max=16, help="Worker processes [default: CPU cores].")
TIMEOUT = typer.Option(120.0, "--timeout", min=1, help="Seconds to wait for each vCenter answer.")
ESTATE = typer.Option(
    False, "--estate", help="Every vCenter of the estate (`migrator estate add`): one estate snapshot."
)


def discover(
    ctx: typer.Context,
    server: str = typer.Option(
        None, "--server", help="vCenter URL or host name (https and /sdk by default)."
    ),
    user: str = typer.Option(None, "--user", help="A read-only vCenter account, e.g. ro@vsphere.local."),
    password_env: str = typer.Option(
        None, "--password-env", help="Name of the environment variable holding the password (else a prompt)."
    ),
    password_file: Path = typer.Option(
        None, "--password-file", help="Read the password from this file (mode 600; first line) or pipe."
    ),
    insecure: bool = typer.Option(False, "--insecure", help="Do not verify the TLS certificate (labs only)."),
    thumbprint: str = typer.Option(
        None, "--thumbprint", help="Pin the server certificate by SHA-256 fingerprint."
    ),
    ca_file: Path = typer.Option(
        None, "--ca-file", exists=True, dir_okay=False, help="Trust this CA bundle."
    ),
    perf_days: float = PERF_DAYS,
    workers: int = WORKERS,
    timeout: float = TIMEOUT,
    estate: bool = ESTATE,
) -> None:
    """Discover a vCenter into a new inventory snapshot (read-only), or every vCenter of the estate."""
    if estate:
        from migrator.cli.estate_discover import discover_estate_cmd

        given = (server, user, password_env, password_file, insecure, thumbprint, ca_file)
        discover_estate_cmd(state(ctx), perf_days, workers, timeout, connection_options=any(given))
        return
    if not server or not user:
        raise UsageError("give --server and --user (or --estate for every vCenter of the estate)")
    if insecure and thumbprint:
        raise UsageError("--insecure and --thumbprint exclude each other: a pinned thumbprint is verified")
    address = parse_server(server)
    password = read_password(password_env, user, password_file)
    params = ConnectionParams(address, user, password, TLSOptions(insecure, thumbprint, ca_file), timeout)
    _discover_vcenter(state(ctx), params, address.display, DiscoveryOptions(perf_days, workers))


def _discover_vcenter(
    ws: Workspace, params: ConnectionParams, origin: str, options: DiscoveryOptions
) -> None:
    def read() -> Inventory:
        with discovery_progress() as progress:
            return run_discovery(params, options, progress)

    result = record_snapshot(ws, "vcenter", origin, read, what="discovery")
    warn = Console(stderr=True, highlight=False)
    for line in result.warnings:
        warn.print(f"[yellow]warning:[/] {line.replace('[', chr(92) + '[')}")
    print_snapshot_summary(ws.store, result.snapshot_id, result.vms)
