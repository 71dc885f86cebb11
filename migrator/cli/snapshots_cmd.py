"""`migrator snapshots`: every discovery and import run, with counts and status."""

from __future__ import annotations

import typer

from migrator.app import listings
from migrator.cli.context import state
from migrator.cli.output import Format, render
from migrator.export import snapshot_header

# Keep this module light: `snapshots list` must start at once (migrator/cli/lazy.py).
app = typer.Typer(help="Discovery and import runs.", no_args_is_help=True)

COLUMNS = [
    ("id", "Id"),
    ("source", "Source"),
    ("server", "Server"),
    ("started_at", "Started (UTC)"),
    ("status", "Status"),
    ("vms", "VMs"),
    ("hosts", "Hosts"),
    ("clusters", "Clusters"),
    ("networks", "Networks"),
    ("datastores", "Datastores"),
    ("error", "Error"),
]


@app.command("list")
def list_snapshots(
    ctx: typer.Context, fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv.")
) -> None:
    """List every snapshot, oldest first."""
    rows = []
    for snap in listings.snapshots(state(ctx)):
        row = snapshot_header(snap)
        row.update(
            vms=snap.vm_count,
            hosts=snap.host_count,
            clusters=snap.cluster_count,
            networks=snap.network_count,
            datastores=snap.datastore_count,
            error=snap.error,
            warnings=list(snap.warnings or []),
        )
        rows.append(row)
    render(rows, COLUMNS, fmt, title="Snapshots")
