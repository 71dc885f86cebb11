"""`migrator findings`: migratability concerns on the source VMs, from the source policies."""

from __future__ import annotations

import typer

from migrator.app.findings import FindingsQuery, list_findings
from migrator.cli.context import state
from migrator.cli.options import PLAN_OPTION, SNAPSHOT_OPTION
from migrator.cli.output import Format, render
from transpilers.registry import TARGETS

COLUMNS = [
    ("vm", "VM"),
    ("severity", "Severity"),
    ("policy", "Policy"),
    ("message", "Finding"),
    ("meaning", "On this target"),
]


def findings(
    ctx: typer.Context,
    vm: str = typer.Argument(None, help="Only this VM."),
    wave: int = typer.Option(None, "--wave", help="Only the VMs of this wave of the stored plan."),
    target: str = typer.Option(
        None, "--target", help=f"{' or '.join(TARGETS)}: adds what each finding means there."
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv."),
    snapshot: int = SNAPSHOT_OPTION,
    plan_id: int = PLAN_OPTION,
) -> None:
    """List migratability concerns (critical ones block a VM's generated code)."""
    result = list_findings(state(ctx), FindingsQuery(vm, wave, target, snapshot, plan_id))
    found = result.findings
    title = f"Snapshot {result.snapshot_id}: {len(found)} finding(s)"
    render([f.as_dict() for f in found], COLUMNS, fmt, title=title)
