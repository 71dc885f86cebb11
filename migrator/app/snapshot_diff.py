"""Configuration drift between two snapshots, and which waves of the current plan it affects.

Impacts checked (and only these): a VM that gained a dependency (graph edge with evidence) on a
VM planned in a later wave; a VM whose size changed so that its wave now exceeds the plan's
disk, storage or per-host limits; a VM that moved host so its wave exceeds the per-host limit;
a VM new in B (in no wave); a VM gone in B that a wave still holds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from migrator.app.planning import load_inputs, plan_parameters
from migrator.app.workspace import Workspace
from migrator.errors import NotFound
from waves.graph import build_graph
from waves.parameters import PlanParameters

SCALARS = ("num_cpu", "memory_mb", "host", "cluster", "power_state", "guest_os", "annotation", "hostname")
DISK_KEYS = ("capacity_gb", "datastore", "thin", "controller", "independent", "rdm", "sharing")
NIC_KEYS = ("network", "type", "mac", "connected", "vlan")
RESIZE_FIELDS = ("num_cpu", "memory_mb", "disks")


@dataclass(frozen=True)
class FieldChange:
    field: str  # e.g. num_cpu, disks[Hard disk 1].capacity_gb, nics[ethernet-0].network, tags
    before: Any
    after: Any


@dataclass(frozen=True)
class VMChange:
    vm: str
    changes: list[FieldChange]


@dataclass(frozen=True)
class WaveImpact:
    vm: str
    wave: int | None  # the VM's wave in the current plan
    kind: str  # new-dependency-on-later-wave | wave-over-limit | new-vm | removed-vm
    detail: str


@dataclass(frozen=True)
class SnapshotDiff:
    a: int
    b: int
    plan_id: int | None  # the plan impacts are judged against (None: no plan yet)
    added: list[str]
    removed: list[str]
    changed: list[VMChange]
    impacts: list[WaveImpact] = field(default_factory=list)

    @property
    def waves_affected(self) -> list[int]:
        return sorted({i.wave for i in self.impacts if i.wave is not None})

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["waves_affected"] = self.waves_affected
        return data


def diff_snapshots(ws: Workspace, a: int, b: int) -> SnapshotDiff:
    """VMs added, removed and changed field by field from snapshot a to b, with the wave impacts."""
    vms_a, vms_b = _by_name(ws, a), _by_name(ws, b)
    changed = []
    for name in sorted(set(vms_a) & set(vms_b)):
        changes = vm_changes(vms_a[name], vms_b[name])
        if changes:
            changed.append(VMChange(name, changes))
    added, removed = sorted(set(vms_b) - set(vms_a)), sorted(set(vms_a) - set(vms_b))
    try:
        plan = ws.plans.get(None)
    except NotFound:
        return SnapshotDiff(a, b, None, added, removed, changed)
    impacts = _impacts(ws, plan, a, b, vms_b, changed, added, removed)
    return SnapshotDiff(a, b, int(plan["plan"]["id"]), added, removed, changed, impacts)


def _by_name(ws: Workspace, snapshot: int) -> dict[str, dict[str, Any]]:
    snap = ws.store.get(snapshot)
    if snap.status != "complete":
        raise NotFound(f"snapshot {snapshot} is {snap.status}, not complete")
    out: dict[str, dict[str, Any]] = {}
    for vm in ws.store.records(snapshot, "vms"):
        key = vm["name"] if vm["name"] not in out else f"{vm['name']} [{vm.get('moref')}]"
        out[key] = vm
    return out


def vm_changes(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    found = [FieldChange(k, old.get(k), new.get(k)) for k in SCALARS if old.get(k) != new.get(k)]
    found += _keyed(old, new, "disks", DISK_KEYS)
    found += _keyed(old, new, "nics", NIC_KEYS)
    for key in ("networks", "tags", "ip_addresses"):
        before, after = _set(old, key), _set(new, key)
        if before != after:
            found.append(FieldChange(key, before, after))
    if (old.get("custom_fields") or {}) != (new.get("custom_fields") or {}):
        found.append(FieldChange("custom_fields", old.get("custom_fields"), new.get("custom_fields")))
    return found


def _set(vm: dict[str, Any], key: str) -> list[str]:
    if key == "networks":
        return sorted({str(n.get("network")) for n in vm.get("nics") or [] if n.get("network")})
    return sorted({str(v) for v in vm.get(key) or []})


def _keyed(old: dict[str, Any], new: dict[str, Any], kind: str, keys: tuple[str, ...]) -> list[FieldChange]:
    def index(vm: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {str(item.get("label") or i): item for i, item in enumerate(vm.get(kind) or [])}

    a, b = index(old), index(new)
    found = []
    for label in sorted(set(a) | set(b)):
        if label not in a or label not in b:
            found.append(FieldChange(f"{kind}[{label}]", a.get(label), b.get(label)))
            continue
        for key in keys:
            if a[label].get(key) != b[label].get(key):
                found.append(FieldChange(f"{kind}[{label}].{key}", a[label].get(key), b[label].get(key)))
    return found


def _impacts(
    ws: Workspace,
    plan: dict[str, Any],
    a: int,
    b: int,
    vms_b: dict[str, dict[str, Any]],
    changed: list[VMChange],
    added: list[str],
    removed: list[str],
) -> list[WaveImpact]:
    wave_of = {vm: w["number"] for w in plan["waves"] for vm in w["vms"]}
    params = plan_parameters(plan)
    impacts = [
        WaveImpact(vm, None, "new-vm", "new in the snapshot; in no wave until re-planned") for vm in added
    ]
    impacts += [
        WaveImpact(
            vm, wave_of[vm], "removed-vm", f"gone from snapshot {b}; wave {wave_of[vm]} still holds it"
        )
        for vm in removed
        if vm in wave_of
    ]
    impacts += _new_dependencies(ws, a, b, params, wave_of)
    resized = {
        c.vm for c in changed if any(ch.field.split("[")[0] in (*RESIZE_FIELDS, "host") for ch in c.changes)
    }
    impacts += _over_limits(plan, params, vms_b, resized, wave_of)
    return impacts


def _new_dependencies(
    ws: Workspace, a: int, b: int, params: PlanParameters, wave_of: dict[str, int]
) -> list[WaveImpact]:
    """Dependencies in b's graph that a's graph lacks, where the needed VM moves later."""

    def edges(snapshot: int) -> dict[tuple[str, str], list[str]]:
        inputs = load_inputs(ws, snapshot)
        graph = build_graph(inputs.vms, inputs.clusters, inputs.flows, params)
        return {
            (u, v): sorted({e["kind"] for e in d["evidence"]})
            for u, v, d in graph.g.edges(data=True)
            if d.get("depends")
        }

    before, after = edges(a), edges(b)
    found = []
    for (u, v), evidence in sorted(after.items()):
        if (u, v) in before or u not in wave_of or v not in wave_of or wave_of[v] <= wave_of[u]:
            continue
        found.append(
            WaveImpact(
                u,
                wave_of[u],
                "new-dependency-on-later-wave",
                f"now depends on {v} (wave {wave_of[v]}; evidence: {'+'.join(evidence)})",
            )
        )
    return found


def _over_limits(
    plan: dict[str, Any],
    params: PlanParameters,
    vms_b: dict[str, dict[str, Any]],
    resized: set[str],
    wave_of: dict[str, int],
) -> list[WaveImpact]:
    """Re-total each wave holding a resized VM with b's sizes against the plan's limits."""
    found = []
    for wave in plan["waves"]:
        mine = sorted(vm for vm in wave["vms"] if vm in resized)
        if not mine:
            continue
        members = [vms_b[vm] for vm in wave["vms"] if vm in vms_b]
        disks = sum(len(vm.get("disks") or []) for vm in members)
        storage = sum(float(d.get("capacity_gb") or 0) for vm in members for d in vm.get("disks") or [])
        per_host = Counter(vm.get("host") for vm in members if vm.get("host"))
        problems = []
        if params.max_disks is not None and disks > params.max_disks:
            problems.append(f"{disks} disks > limit {params.max_disks}")
        budget = params.storage_budget_gb
        if budget is not None and storage > budget:
            problems.append(f"{storage:,.0f} GB > per-wave budget {budget:,.0f} GB")
        host, count = per_host.most_common(1)[0] if per_host else (None, 0)
        if params.max_per_host is not None and count > params.max_per_host:
            problems.append(f"{count} VMs on host {host} > limit {params.max_per_host}")
        for vm in mine if problems else []:
            detail = f"wave {wave['number']} no longer fits after resize/move: " + "; ".join(problems)
            found.append(WaveImpact(vm, wave_of[vm], "wave-over-limit", detail))
    return found
