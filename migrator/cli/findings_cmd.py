"""`migrator findings`: migratability concerns on the source VMs, from the source policies."""

from __future__ import annotations

import typer

from migrator.cli.context import state
from migrator.cli.options import PLAN_OPTION, SNAPSHOT_OPTION
from migrator.cli.output import Format, render
from migrator.errors import NotFound, UsageError
from policies.engine import source_findings

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
        None, "--target", help="terraform-aws or kubevirt: adds what each finding means there."
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv."),
    snapshot: int = SNAPSHOT_OPTION,
    plan_id: int = PLAN_OPTION,
) -> None:
    """List migratability concerns (critical ones block a VM's generated code)."""
    if vm is not None and wave is not None:
        raise UsageError("give a VM name or --wave, not both")
    if target not in (None, "terraform-aws", "kubevirt"):
        raise UsageError(f"--target {target!r}: use terraform-aws or kubevirt")
    app = state(ctx)
    if wave is not None:
        document = app.plans.get(plan_id)
        snapshot = document["plan"]["snapshot_id"]
        members = next((w["vms"] for w in document["waves"] if w["number"] == wave), None)
        if members is None:
            raise NotFound(f"wave {wave} is not in plan {document['plan']['id']}")
    snap = app.store.get(snapshot)
    assert snap.id is not None
    vms = list(app.store.records(snap.id, "vms"))
    if vm is not None:
        vms = [app.store.vm(snap.id, vm)]
    elif wave is not None:
        wanted = set(members)
        vms = [v for v in vms if v["name"] in wanted or f"{v['name']} [{v.get('moref')}]" in wanted]
    found = source_findings(vms, list(app.store.records(snap.id, "clusters")), target)
    render([f.as_dict() for f in found], COLUMNS, fmt, title=f"Snapshot {snap.id}: {len(found)} finding(s)")
