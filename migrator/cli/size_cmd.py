"""`migrator size`: right-sizing from utilisation, AWS instance types and KubeVirt requests, with cost."""

from __future__ import annotations

import typer
from rich.console import Console

from migrator.app.inventory import size_snapshot
from migrator.cli.context import state
from migrator.cli.options import SNAPSHOT_OPTION
from migrator.cli.output import Format, dump_json, render
from waves.sizing import SizingParameters

COLUMNS = [
    ("vm", "VM"),
    ("vcpu_now", "vCPU now"),
    ("vcpu", "vCPU"),
    ("memory_mb_now", "MiB now"),
    ("memory_mb", "MiB"),
    ("coverage", "Coverage"),
    ("instance_type", "AWS type"),
    ("monthly_usd", "$/month"),
    ("as_is_monthly_usd", "As-is $/month"),
    ("flags", "Flags"),
]


def size(
    ctx: typer.Context,
    percentile: int = typer.Option(
        95, "--percentile", help="50, 95 or 100 (max) of the sampled utilisation."
    ),
    comfort: float = typer.Option(1.3, "--comfort", help="Headroom factor on top of the percentile."),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv."),
    snapshot: int = SNAPSHOT_OPTION,
) -> None:
    """Right-size every VM of a snapshot and price it on AWS (catalog and provenance: docs/size.md)."""
    result = size_snapshot(state(ctx), SizingParameters(percentile=percentile, comfort=comfort), snapshot)
    if fmt is Format.json:
        dump_json(result.as_dict())
        return
    sizes, summary = result.vms, result.totals
    rows = [{**s, **s["aws"]} for s in sizes]
    render(rows, COLUMNS, fmt, title=f"Snapshot {result.snapshot_id}: sizing at p{percentile} x {comfort:g}")
    if fmt is Format.table:
        prices = result.prices
        Console(highlight=False).print(
            f"AWS {prices['region']} on-demand: ${summary['aws_monthly_usd']:,.2f}/month sized, "
            f"${summary['aws_as_is_monthly_usd']:,.2f} as-is, "
            f"saving ${summary['aws_monthly_saving_usd']:,.2f}; {summary['sized_as_is']} VM(s) "
            f"sized as-is for lack of data (prices as of {prices['as_of']})"
        )
