"""`migrator import`: bring in inventories (RVTools exports) and flow evidence from files."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console

from migrator.app.cmdb import import_cmdb
from migrator.app.snapshots import SnapshotResult, import_inventory, import_rvtools
from migrator.cli import flows_cmd
from migrator.cli.context import state
from migrator.cli.options import LIMIT_OPTION
from migrator.cli.output import Format, dump_json
from migrator.cli.summary import print_snapshot_summary
from migrator.input_files import Limits

app = typer.Typer(help="Import inventories and flow evidence from files.", no_args_is_help=True)


@app.command("rvtools")
def rvtools(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="An RVTools export (.xlsx)."),
    limit: list[str] = LIMIT_OPTION,
) -> None:
    """Import an RVTools xlsx export as a new snapshot."""
    limits = Limits.resolve(limit)  # a bad --limit: exit 2 before the file is opened
    _summarise(ctx, import_rvtools(state(ctx), path, limits))


@app.command("inventory")
def inventory(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="A `migrator inventory export` JSON file."),
    limit: list[str] = LIMIT_OPTION,
) -> None:
    """Import an inventory export (docs/inventory-export.md) as a new snapshot."""
    limits = Limits.resolve(limit)
    _summarise(ctx, import_inventory(state(ctx), path, limits))


def _summarise(ctx: typer.Context, result: SnapshotResult) -> None:
    """Each warning on stderr (rows skipped, values stored as unknown: nothing hidden), then the summary."""
    warn = Console(stderr=True, highlight=False, soft_wrap=True)
    for line in result.warnings:
        warn.print(f"warning: {line}", markup=False)
    print_snapshot_summary(state(ctx).store, result.snapshot_id, result.vms)


@app.command("cmdb")
def cmdb(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="A CMDB export (CSV, UTF-8; columns: docs/drift.md)."),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
    limit: list[str] = LIMIT_OPTION,
) -> None:
    """Import business facts and expected configuration from a CMDB export (e.g. ServiceNow)."""
    result = import_cmdb(state(ctx), path, Limits.resolve(limit))
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
    limit: list[str] = LIMIT_OPTION,
) -> None:
    """Import observed connections: the generic flow CSV or an Azure Migrate dependency export."""
    flows_cmd.import_file(ctx, path, fmt.value, replace, Limits.resolve(limit))
