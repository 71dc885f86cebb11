"""`migrator size`: right-sizing from utilisation, AWS instance types and KubeVirt requests, with
cost; `--cloud` puts the size and price on several clouds side by side."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console

from migrator.app.cloud_sizing import CloudComparison, compare_clouds, parse_clouds
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
    cloud: str = typer.Option(
        None, "--cloud", help="Clouds side by side: aws, azure, gcp, openstack (comma-separated)."
    ),
    flavors: str = typer.Option(
        None, "--flavors", help="Your OpenStack flavor catalogue (YAML; with --cloud openstack)."
    ),
) -> None:
    """Right-size every VM of a snapshot and price it on AWS, or side by side per --cloud (docs/size.md)."""
    params = SizingParameters(percentile=percentile, comfort=comfort)
    if cloud is not None or flavors is not None:
        clouds = parse_clouds(cloud if cloud is not None else "aws")
        _print_comparison(compare_clouds(state(ctx), params, clouds, flavors, snapshot), fmt)
        return
    result = size_snapshot(state(ctx), params, snapshot)
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


CLOUD_LABEL = {"aws": "AWS", "azure": "Azure", "gcp": "GCP", "openstack": "OpenStack"}
LICENCE_LABEL = {"windows": "Windows", "sql_server": "SQL Server"}  # what each cloud's notes explain


def _comparison_columns(clouds: tuple[str, ...], fmt: Format) -> list[tuple[str, str]]:
    columns = [("vm", "VM"), ("vcpu", "vCPU"), ("memory_mb", "MiB")]
    for c in clouds:
        columns += [(f"{c}_size", f"{CLOUD_LABEL[c]} size"), (f"{c}_monthly", f"{CLOUD_LABEL[c]} /month")]
        if fmt is Format.csv:  # the table prints each cloud's licensing notes once, below it
            columns.append((f"{c}_flags", f"{CLOUD_LABEL[c]} licensing"))
    return [*columns, ("licensing", "Licensing"), ("flags", "Flags")]


def _comparison_row(row: dict[str, Any], clouds: tuple[str, ...]) -> dict[str, Any]:
    out = {k: row[k] for k in ("vm", "vcpu", "memory_mb")}
    licence = row.get("licence") or {}
    out["licensing"] = [LICENCE_LABEL[k] for k in LICENCE_LABEL if licence.get(k)]
    # the per-cloud licensing replaces the AWS-worded SQL Server flag of the single-cloud view
    out["flags"] = [f for f in row["flags"] if not f.startswith("SQL Server:")]
    for c in clouds:
        pick = row["clouds"][c]
        out[f"{c}_size"] = pick["size"] or "none fits"
        out[f"{c}_monthly"] = pick["monthly"] if pick["monthly"] is not None else _unpriced(pick)
        out[f"{c}_flags"] = pick["flags"]
    return out


def _unpriced(pick: dict[str, Any]) -> str:
    return "" if pick["size"] is None else "not priced"


def _print_comparison(result: CloudComparison, fmt: Format) -> None:
    if fmt is Format.json:
        dump_json(result.as_dict())
        return
    rows = [_comparison_row(r, result.clouds) for r in result.rows]
    params = result.sizing.parameters
    title = f"Snapshot {result.sizing.snapshot_id}: sizing at p{params.percentile} x {params.comfort:g}"
    render(rows, _comparison_columns(result.clouds, fmt), fmt, title=title)
    if fmt is not Format.table:
        return
    out = Console(highlight=False, soft_wrap=True)
    for c in result.clouds:
        total = result.totals[c]
        where = total["catalogue"].get("region") or total["catalogue"].get("file")
        cost = (
            f"{total['monthly']:,.2f} {total['currency']}/month sized"
            if total["priced"]
            else "not priced (the flavor file has no prices)"
        )
        as_of = total["catalogue"]["as_of"]
        line = f"{CLOUD_LABEL[c]} {where} (as of {as_of}): {cost}; {total['no_fit']} VM(s) fit no size"
        out.print(line, markup=False)
        notes = sorted({f for r in result.rows for f in r["clouds"][c]["flags"]})
        for note in notes:
            count = sum(note in r["clouds"][c]["flags"] for r in result.rows)
            out.print(f"  {count} VM(s): {note}", markup=False)
