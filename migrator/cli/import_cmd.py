"""`migrator import`: bring in inventories (RVTools exports) and flow evidence from files."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from migrator.app.cmdb import import_cmdb
from migrator.app.snapshots import store_inventory
from migrator.cli import flows_cmd
from migrator.cli.context import state
from migrator.cli.output import Format, dump_json
from migrator.cli.summary import print_snapshot_summary
from migrator.inventory_import import read_export
from migrator.rvtools.reader import read_rvtools
from migrator.store.inventory import Inventory

app = typer.Typer(help="Import inventories and flow evidence from files.", no_args_is_help=True)


@app.command("rvtools")
def rvtools(ctx: typer.Context, path: Path = typer.Argument(..., help="An RVTools export (.xlsx).")) -> None:
    """Import an RVTools xlsx export as a new snapshot."""
    _store_snapshot(ctx, "rvtools", path.name, read_rvtools(path))  # checked completely first


@app.command("inventory")
def inventory(
    ctx: typer.Context, path: Path = typer.Argument(..., help="A `migrator inventory export` JSON file.")
) -> None:
    """Import an inventory export (docs/inventory-export.md) as a new snapshot."""
    _store_snapshot(ctx, "import", path.name, read_export(path))


def _store_snapshot(ctx: typer.Context, source: str, origin: str, inventory: Inventory) -> None:
    ws = state(ctx)
    result = store_inventory(ws, source, origin, inventory)
    print_snapshot_summary(ws.store, result.snapshot_id, result.vms)


@app.command("cmdb")
def cmdb(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="A CMDB export (CSV, UTF-8; columns: docs/drift.md)."),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
) -> None:
    """Import business facts and expected configuration from a CMDB export (e.g. ServiceNow)."""
    result = import_cmdb(state(ctx), path)
    if fmt is Format.json:
        dump_json(result.as_dict())
        return
    typer.echo(
        f"CMDB import {result.import_id}: {result.items} CI(s) from {result.origin}, "
        f"{result.matched} matching a VM of the latest snapshot"
    )
    typer.echo("columns: " + ", ".join(f"{f}<-{h!r}" for f, h in result.columns.items()))
    for warning in result.warnings[:20]:
        typer.echo(f"warning: {warning}", err=True)


class FlowFormat(StrEnum):
    generic = "generic"
    azure_migrate = "azure-migrate"


@app.command("flows")
def flows(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="A flow CSV (docs/flows.md)."),
    fmt: FlowFormat = typer.Option(FlowFormat.generic, "--format", help="generic or azure-migrate."),
    replace: bool = typer.Option(
        False, "--replace", help="Replace flow sets imported earlier from this file name."
    ),
) -> None:
    """Import observed connections: the generic flow CSV or an Azure Migrate dependency export."""
    flows_cmd.import_file(ctx, path, fmt.value, replace)
