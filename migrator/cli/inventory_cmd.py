"""`migrator inventory`: list, show and export what a snapshot holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from migrator.app.inventory import export_inventory, find_vm, snapshot_vms
from migrator.atomic import atomic_file
from migrator.cli.context import state
from migrator.cli.options import SNAPSHOT_OPTION
from migrator.cli.output import Format, dump_json, render
from migrator.errors import UsageError

app = typer.Typer(help="Inspect and export an inventory snapshot.", no_args_is_help=True)

VM_COLUMNS = [
    ("name", "VM"),
    ("power_state", "Power"),
    ("num_cpu", "vCPU"),
    ("memory_mb", "Memory MB"),
    ("storage_gb", "Disk GB"),
    ("guest_os", "Guest OS"),
    ("cluster", "Cluster"),
    ("ip_addresses", "IPs"),
]


def _summary_row(vm: dict[str, Any]) -> dict[str, Any]:
    row = dict(vm)
    row["storage_gb"] = round(sum(d.get("capacity_gb") or 0 for d in vm.get("disks") or []), 1)
    return row


@app.command("list")
def list_vms(
    ctx: typer.Context,
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv."),
    snapshot: int = SNAPSHOT_OPTION,
) -> None:
    """List the VMs of a snapshot."""
    selected = snapshot_vms(state(ctx), snapshot)
    vms = selected.vms
    # an estate snapshot says which vCenter each VM is in; a one-vCenter listing reads as before
    columns = (
        [VM_COLUMNS[0], ("vcenter", "vCenter"), *VM_COLUMNS[1:]]
        if any(v.get("vcenter") for v in vms)
        else VM_COLUMNS
    )
    render(
        [_summary_row(v) for v in vms],
        columns,
        fmt,
        title=f"Snapshot {selected.snapshot_id}: {len(vms)} VMs",
        json_payload=vms,
    )


@app.command("show")
def show_vm(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="VM name (exact; case-insensitive if unique)."),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
    snapshot: int = SNAPSHOT_OPTION,
) -> None:
    """Everything known about one VM."""
    vm = find_vm(state(ctx), name, snapshot)
    if fmt is Format.json:
        dump_json(vm)
        return
    if fmt is Format.csv:
        raise UsageError("inventory show supports --format table or json")
    _print_vm(vm)


def _print_vm(vm: dict[str, Any]) -> None:
    console = Console()
    facts = Table(title=f"VM {vm['name']}", show_header=False)
    facts.add_column("fact")
    facts.add_column("value", overflow="fold")
    for key, value in vm.items():
        if key in ("disks", "nics", "guest_interfaces"):
            continue
        facts.add_row(key, Text("" if value is None else str(value)))
    console.print(facts)
    for key, columns in (
        ("disks", ["label", "capacity_gb", "thin", "datastore", "disk_mode", "rdm", "sharing", "controller"]),
        ("nics", ["label", "type", "mac", "network", "vlan", "connected", "ip_addresses"]),
        ("guest_interfaces", ["mac", "network", "ip_addresses"]),
    ):
        if key == "guest_interfaces" and not vm.get(key):
            continue  # most VMs have none: no empty table
        table = Table(title=key)
        for col in columns:
            table.add_column(col)
        for item in vm.get(key) or []:
            table.add_row(*(Text("" if item.get(c) is None else str(item.get(c))) for c in columns))
        console.print(table)


@app.command("export")
def export(
    ctx: typer.Context,
    fmt: Format = typer.Option(Format.json, "--format", help="json (the export contract)."),
    output: Path = typer.Option(None, "-o", "--output", help="Write to this file instead of stdout."),
    snapshot: int = SNAPSHOT_OPTION,
) -> None:
    """Export a snapshot as one JSON document (docs/inventory-export.md)."""
    if fmt is not Format.json:
        raise UsageError("inventory export writes --format json")
    doc = export_inventory(state(ctx), snapshot)
    if output is None:
        dump_json(doc)
        return
    with atomic_file(output) as fh:  # never leave a half-written export behind
        dump_json(doc, fh)
    Console(stderr=True).print(f"wrote {len(doc['vms'])} VMs to {output}")
