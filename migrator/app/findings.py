"""Migratability findings on source VMs (the source policies), for a VM, a wave or a snapshot."""

from __future__ import annotations

from dataclasses import dataclass

from migrator.app.workspace import Workspace
from migrator.errors import NotFound, UsageError
from policies.engine import Finding, source_findings
from transpilers.registry import TARGETS


@dataclass(frozen=True)
class FindingsQuery:
    vm: str | None = None  # only this VM
    wave: int | None = None  # only the VMs of this wave of the plan
    target: str | None = None  # adds what each finding means on this target
    snapshot: int | None = None  # None: the latest complete one (the plan's, with `wave`)
    plan_id: int | None = None  # with `wave`; None: the latest plan


@dataclass(frozen=True)
class FindingsResult:
    snapshot_id: int
    findings: list[Finding]


def list_findings(ws: Workspace, query: FindingsQuery) -> FindingsResult:
    """The findings of the selected VMs (critical ones block a VM's generated code)."""
    if query.vm is not None and query.wave is not None:
        raise UsageError("give a VM name or {wave}, not both", field="wave")
    if query.target not in (None, *TARGETS):
        raise UsageError(f"{{target}} {query.target!r}: use {' or '.join(TARGETS)}", field="target")
    snapshot = query.snapshot
    members: list[str] = []
    if query.wave is not None:
        document = ws.plans.get(query.plan_id)
        snapshot = document["plan"]["snapshot_id"]
        wave = next((w for w in document["waves"] if w["number"] == query.wave), None)
        if wave is None:
            raise NotFound(f"wave {query.wave} is not in plan {document['plan']['id']}")
        members = wave["vms"]
    snap = ws.store.get(snapshot)
    assert snap.id is not None
    vms = list(ws.store.records(snap.id, "vms"))
    if query.vm is not None:
        vms = [ws.store.vm(snap.id, query.vm)]
    elif query.wave is not None:
        wanted = set(members)
        vms = [v for v in vms if v["name"] in wanted or f"{v['name']} [{v.get('moref')}]" in wanted]
    found = source_findings(vms, list(ws.store.records(snap.id, "clusters")), query.target)
    return FindingsResult(snap.id, found)
