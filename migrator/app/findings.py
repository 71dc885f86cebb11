"""Migratability findings on source VMs (the source policies), for a VM, a wave or a snapshot.

The findings of a whole complete snapshot are computed once per target and policy bundle and kept
in the workspace's findings cache (migrator.store.findings): the CLI's `findings` and the
dashboard read the same entry. Without an entry, a VM or a wave is evaluated on its own (cheap);
the first whole-snapshot question fills the entry.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from migrator.app.workspace import Workspace
from migrator.errors import NotFound, UsageError
from migrator.store.findings import CacheEntry, CacheKey
from migrator.store.models import Snapshot
from migrator.store.snapshots import COMPLETE
from policies.engine import Finding, KnownFindings, clusters_digest, fact_digests, source_findings
from policies.registry import SEVERITIES, bundle_digest
from transpilers.registry import TARGETS

CACHE_FORMAT = "1"  # bump when Finding's fields change: older entries are then ignored


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


@dataclass(frozen=True)
class FindingsSummary:
    snapshot_id: int
    target: str | None
    counts: dict[str, int]  # severity -> number of findings


def list_findings(ws: Workspace, query: FindingsQuery) -> FindingsResult:
    """The findings of the selected VMs (critical ones block a VM's generated code)."""
    if query.vm is not None and query.wave is not None:
        raise UsageError("give a VM name or {wave}, not both", field="wave")
    _check_target(query.target)
    if query.wave is not None:
        document = ws.plans.get(query.plan_id)
        wave = next((w for w in document["waves"] if w["number"] == query.wave), None)
        if wave is None:
            raise NotFound(f"wave {query.wave} is not in plan {document['plan']['id']}")
        return findings_of(ws, wave["vms"], query.target, document["plan"]["snapshot_id"])
    snap = ws.store.get(query.snapshot)
    assert snap.id is not None
    entry = _entry(ws, snap, query.target)
    if query.vm is not None:
        record = ws.store.vm(snap.id, query.vm)
        if entry is None:
            return FindingsResult(snap.id, _evaluate(ws, snap.id, query.target, [record]))
        return FindingsResult(snap.id, _rows(ws, entry, [record["name"]]))
    return FindingsResult(snap.id, _estate(ws, snap, query.target, entry))


def findings_of(
    ws: Workspace, members: Iterable[str], target: str | None = None, snapshot: int | None = None
) -> FindingsResult:
    """The findings of some VMs of a snapshot, named as a plan's wave lists them ("name", or
    "name [moref]" where two VMs share a name)."""
    _check_target(target)
    snap = ws.store.get(snapshot)
    assert snap.id is not None
    wanted = set(members)
    entry = _entry(ws, snap, target)
    if entry is None:
        vms = [v for v in ws.store.records(snap.id, "vms") if _member(v, wanted)]
        return FindingsResult(snap.id, _evaluate(ws, snap.id, target, vms))
    names = wanted | {m.rsplit(" [", 1)[0] for m in wanted if m.endswith("]") and " [" in m}
    return FindingsResult(snap.id, _rows(ws, entry, names))


def findings_summary(
    ws: Workspace, target: str | None = None, snapshot: int | None = None
) -> FindingsSummary:
    """Findings by severity over a whole snapshot (None: the latest complete one)."""
    _check_target(target)
    snap = ws.store.get(snapshot)
    return _summary(ws, snap, target, _entry(ws, snap, target))


def cached_summary(
    ws: Workspace, target: str | None = None, snapshot: int | None = None
) -> FindingsSummary | None:
    """`findings_summary` when the cache can answer at once; None when the snapshot's findings
    have not been evaluated yet (a caller that must not wait can fill it in the background)."""
    _check_target(target)
    snap = ws.store.get(snapshot)
    entry = _entry(ws, snap, target)
    if entry is None and snap.status == COMPLETE:
        return None  # an unfinished snapshot is never cached: it is evaluated every time
    return _summary(ws, snap, target, entry)


def _summary(ws: Workspace, snap: Snapshot, target: str | None, entry: CacheEntry | None) -> FindingsSummary:
    assert snap.id is not None
    counts = entry.counts if entry is not None else _counts(_estate(ws, snap, target, entry))
    return FindingsSummary(snap.id, target, {s: counts.get(s, 0) for s in SEVERITIES})


def _check_target(target: str | None) -> None:
    if target not in (None, *TARGETS):
        raise UsageError(f"{{target}} {target!r}: use {' or '.join(TARGETS)}", field="target")


def _key(snapshot_id: int, target: str | None) -> CacheKey:
    return CacheKey(snapshot_id, target or "any", f"{CACHE_FORMAT}:{bundle_digest('source')}")


def _entry(ws: Workspace, snap: Snapshot, target: str | None) -> CacheEntry | None:
    if snap.status != COMPLETE or snap.id is None:  # an unfinished snapshot can still grow
        return None
    return ws.findings_cache.entry(_key(snap.id, target))


def _rows(ws: Workspace, entry: CacheEntry, names: Iterable[str] | None) -> list[Finding]:
    return [Finding(**row) for row in ws.findings_cache.findings(entry.id, names)]


def _counts(findings: list[Finding]) -> dict[str, int]:
    return dict(Counter(f.severity for f in findings))


def _estate(ws: Workspace, snap: Snapshot, target: str | None, entry: CacheEntry | None) -> list[Finding]:
    """Every VM's findings: from the cache entry (`_entry`), else evaluated and (complete
    snapshots only) stored."""
    assert snap.id is not None
    if entry is not None:
        return _rows(ws, entry, None)
    vms = list(ws.store.records(snap.id, "vms"))
    clusters = list(ws.store.records(snap.id, "clusters"))
    known = _known(ws, snap.id, target) if snap.status == COMPLETE else None
    found = source_findings(vms, clusters, target, known)
    if snap.status == COMPLETE:
        by_vm: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for f in found:
            by_vm[f.vm].append(f.as_dict())
        ws.findings_cache.put(_key(snap.id, target), _counts(found), by_vm)
    return found


def _known(ws: Workspace, snapshot_id: int, target: str | None) -> KnownFindings | None:
    """The newest earlier snapshot's cached findings for this target and pack, to reuse for
    every VM whose facts did not change (docs/policies.md, "Re-evaluating a new snapshot")."""
    earlier = ws.findings_cache.latest_before(_key(snapshot_id, target))
    if earlier is None:
        return None
    previous_id, entry = earlier
    return KnownFindings(
        digests=fact_digests(ws.store.records(previous_id, "vms")),
        clusters=clusters_digest(list(ws.store.records(previous_id, "clusters"))),
        findings=lambda names: _rows(ws, entry, names),
    )


def _evaluate(
    ws: Workspace, snapshot_id: int, target: str | None, vms: list[dict[str, Any]]
) -> list[Finding]:
    return source_findings(vms, list(ws.store.records(snapshot_id, "clusters")), target)


def _member(vm: dict[str, Any], wanted: set[str]) -> bool:
    return vm["name"] in wanted or f"{vm['name']} [{vm.get('moref')}]" in wanted
