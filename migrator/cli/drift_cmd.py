"""`migrator drift` (CMDB vs vCenter) and `migrator snapshots diff` (one discovery vs another)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.text import Text

from migrator.cli.context import state
from migrator.cli.output import Format, render

# `snapshots diff` is registered on the light `snapshots` group (migrator/cli/lazy.py): the use
# cases (the stores, the planner) are imported when a command of this module runs.
if TYPE_CHECKING:
    from migrator.app.snapshot_diff import SnapshotDiff

_out = Console(soft_wrap=True)
DRIFT_COLUMNS = [
    ("kind", "Kind"),
    ("name", "VM / CI"),
    ("field", "Field"),
    ("cmdb", "CMDB says"),
    ("vcenter", "vCenter says"),
    ("ci", "CI"),
]


def drift(
    ctx: typer.Context,
    snapshot: int = typer.Option(None, "--snapshot", help="Snapshot id [default: the latest complete one]."),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv."),
) -> None:
    """Where the CMDB and vCenter disagree: CPU, memory, IP, application, environment; CIs without
    a VM and VMs without a CI."""
    from migrator.app.cmdb import drift as cmdb_drift

    report = cmdb_drift(state(ctx), snapshot)
    data = report.as_dict()
    title = (
        f"CMDB {report.cmdb_origin} (import {report.cmdb_import_id}) vs snapshot {report.snapshot_id}: "
        + ", ".join(f"{n} {kind}" for kind, n in data["counts"].items())
    )
    render(data["items"], DRIFT_COLUMNS, fmt, title=title, json_payload=data)


def snapshots_diff(
    ctx: typer.Context,
    a: int = typer.Argument(..., help="Older snapshot id."),
    b: int = typer.Argument(..., help="Newer snapshot id."),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv."),
) -> None:
    """Configuration drift between two snapshots: VMs added, removed, changed field by field, and the
    waves of the current plan the changes affect."""
    from migrator.app.snapshot_diff import diff_snapshots

    result = diff_snapshots(state(ctx), a, b)
    rows = _rows(result)
    title = (
        f"Snapshot {a} -> {b}: {len(result.added)} added, {len(result.removed)} removed, "
        f"{len(result.changed)} changed"
    )
    render(
        rows,
        [("vm", "VM"), ("field", "Field"), ("before", "Before"), ("after", "After")],
        fmt,
        title=title,
        json_payload=result.as_dict(),
    )
    if fmt is Format.table:
        _print_impacts(result)


def _rows(result: SnapshotDiff) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [{"vm": vm, "field": "(added)"} for vm in result.added]
    rows += [{"vm": vm, "field": "(removed)"} for vm in result.removed]
    for change in result.changed:
        for fc in change.changes:
            rows.append(
                {"vm": change.vm, "field": fc.field, "before": _short(fc.before), "after": _short(fc.after)}
            )
    return rows


def _short(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 200 else text[:200] + "..."


def _print_impacts(result: SnapshotDiff) -> None:
    if result.plan_id is None:
        _out.print(Text("no wave plan yet: wave impacts not judged"))
        return
    if not result.impacts:
        _out.print(Text(f"no wave of plan {result.plan_id} is affected"))
        return
    _out.print(Text(f"waves of plan {result.plan_id} affected: {', '.join(map(str, result.waves_affected))}"))
    for impact in result.impacts:
        where = f"wave {impact.wave}" if impact.wave is not None else "no wave"
        _out.print(Text(f"  {impact.vm} ({where}): {impact.kind}: {impact.detail}"))
