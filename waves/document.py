"""The plan document: what `waves show --format json` prints (contract: docs/waves-json.md)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from waves.graph import DependencyGraph
from waves.parameters import PlanParameters
from waves.planner import PHASE_LABEL, Group, Placement, violations
from waves.sizing import SizingParameters, price_source, size_vm, totals

DOCUMENT_VERSION = 1
MAX_LINKS_SHOWN = 40


def build_document(
    placement: Placement,
    graph: DependencyGraph,
    params: PlanParameters,
    vms: list[dict[str, Any]],
    anti_affinity: list[dict[str, Any]],
) -> dict[str, Any]:
    waves_of = placement.wave_of_vm
    sizing = SizingParameters()
    sizes = {vm["name"]: size_vm(vm, sizing) for vm in vms if vm["name"] in waves_of}
    members: dict[int, list[str]] = defaultdict(list)
    for vm, wave in waves_of.items():
        members[wave].append(vm)
    cross = _cross_wave(graph, waves_of)
    waves = []
    for number, phase in enumerate(placement.phase_of_wave, start=1):
        names = sorted(members[number])
        groups = sorted({placement.group_of[vm] for vm in names})
        waves.append(
            {
                "number": number,
                "name": _name(number, phase, names, graph),
                "phase": phase,
                "vms": names,
                "metrics": _metrics(names, graph, params, cross, [sizes[n] for n in names], number),
                "risk": _risk([placement.groups[g] for g in groups]),
                "rationale": _rationale(phase, [placement.groups[g] for g in groups], params),
            }
        )
    all_sizes = [sizes[n] for n in sorted(sizes)]
    return {
        "version": DOCUMENT_VERSION,
        "plan": {
            "id": None,
            "created_at": None,
            "snapshot_id": None,
            "parameters": params.as_dict(),
            "pins": dict(sorted(placement.ctx.pins.items())),
        },
        "waves": waves,
        "unplaced": placement.unplaced,
        "cross_wave": {
            "edges": cross["edges"],
            "bytes": cross["bytes"],
            "bytes_per_day": round(graph.per_day(cross["bytes"])),
        },
        "shared_services": [{"vm": vm, "reason": why} for vm, why in placement.ctx.shared.items()],
        "anti_affinity": anti_affinity,
        "cost": {**totals(all_sizes), "prices": price_source()},
        "graph": dict(sorted(graph.stats.items())),
        "notes": placement.notes,
        "violations": violations(placement),
        "vms": {vm: _explain(vm, placement, graph) for vm in sorted(waves_of)},
    }


def _name(number: int, phase: str, names: list[str], graph: DependencyGraph) -> str:
    apps = Counter(graph.facts[n].app or n for n in names)
    top = [app for app, _n in sorted(apps.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]
    more = f" +{len(apps) - 3}" if len(apps) > 3 else ""
    return f"{PHASE_LABEL.get(phase, phase)}: {', '.join(top)}{more}" if names else "(empty)"


def _cross_wave(graph: DependencyGraph, waves_of: dict[str, int]) -> dict[str, Any]:
    per_wave: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    edges = total = 0
    for u, v, data in graph.vm_edges():
        if not data["bytes"] or u not in waves_of or v not in waves_of or waves_of[u] == waves_of[v]:
            continue
        edges += 1
        total += data["bytes"]
        for wave in (waves_of[u], waves_of[v]):
            per_wave[wave][0] += 1
            per_wave[wave][1] += data["bytes"]
    return {"edges": edges, "bytes": total, "per_wave": per_wave}


def _metrics(
    names: list[str],
    graph: DependencyGraph,
    params: PlanParameters,
    cross: dict[str, Any],
    sizes: list[dict[str, Any]],
    number: int,
) -> dict[str, Any]:
    facts = [graph.facts[n] for n in names]
    replicate = sum(f.replicate_gb for f in facts)
    hosts = Counter(f.host for f in facts if f.host)
    externals = {
        other
        for n in names
        for other in (*graph.g.successors(n), *graph.g.predecessors(n))
        if other not in graph.facts
    }
    cost = totals(sizes)
    return {
        "vms": len(facts),
        "vcpu": sum(f.vcpu for f in facts),
        "memory_gb": round(sum(f.memory_mb for f in facts) / 1024, 1),
        "storage_gb": round(sum(f.storage_gb for f in facts), 1),
        "disks": sum(f.disks for f in facts),
        "replicate_gb": round(replicate, 1),
        "replication_hours": round(params.replication_hours(replicate), 2),
        "max_vms_per_host": max(hosts.values(), default=0),
        "powered_off": sum(1 for f in facts if not f.powered_on),
        "external_endpoints": len(externals),
        "cross_wave_edges": cross["per_wave"][number][0],
        "cross_wave_bytes": cross["per_wave"][number][1],
        "sized_vcpu": cost["vcpu"],
        "sized_memory_gb": cost["memory_gb"],
        "aws_monthly_usd": cost["aws_monthly_usd"],
        "aws_as_is_monthly_usd": cost["aws_as_is_monthly_usd"],
    }


def _group_risk(g: Group) -> tuple[int, list[str]]:
    reasons: list[str] = []
    level = 0
    if g.critical:
        level = 2
        reasons += g.critical
    if g.shared:
        level = max(level, 1)
        reasons += [f"shared service {s}" for s in g.shared]
    if g.concerns:
        level = max(level, 1)
        reasons += g.concerns
    if g.external:
        level = max(level, 1)
        reasons.append(f"{g.label}: {g.external} external endpoint(s)")
    return level, reasons


def _risk(groups: list[Group]) -> dict[str, Any]:
    level, reasons = 0, []
    for g in groups:
        glevel, greasons = _group_risk(g)
        level = max(level, glevel)
        reasons += greasons
    shown = reasons[:8] + ([f"... {len(reasons) - 8} more"] if len(reasons) > 8 else [])
    return {"level": ("Low", "Medium", "High")[level], "reasons": shown}


def _rationale(phase: str, groups: list[Group], params: PlanParameters) -> list[str]:
    lines = {
        "pilot": "Pilot (pilot-first): small, low-risk groups with no dependencies beyond shared services",
        "nonprod": "Dev/test moves before prod (nonprod-first) and apart from it (environment-separation)",
        "nonprod-critical": "Critical or complex dev/test applications after the other dev/test waves",
        "prod": "Prod after dev/test; shared services lead so their clients can follow",
        "prod-critical": (
            "Critical or complex applications move after the lower-risk prod waves (critical-late)"
        ),
    }
    out = [lines.get(phase, phase)]
    if params.mix_environments and phase != "pilot":
        out[0] = out[0].replace(" and apart from it (environment-separation)", "")
    tied = Counter(link.rule for g in groups for link in g.links)
    if tied:
        out.append("Kept together: " + ", ".join(f"{rule} ({n})" for rule, n in sorted(tied.items())))
    if any(g.shared for g in groups):
        out.append("Holds shared services: " + ", ".join(s for g in groups for s in g.shared)[:300])
    return out


def _explain(vm: str, placement: Placement, graph: DependencyGraph) -> dict[str, Any]:
    waves_of = placement.wave_of_vm
    group = placement.groups[placement.group_of[vm]]
    f = graph.facts[vm]
    depends_on, dependents = [], []
    for other in sorted(graph.g.successors(vm)):
        data = graph.g.edges[vm, other]
        if data["depends"]:
            depends_on.append(_edge_view(other, data, waves_of))
    for other in sorted(graph.g.predecessors(vm)):
        data = graph.g.edges[other, vm]
        if data["depends"]:
            dependents.append(_edge_view(other, data, waves_of))
    links = [
        {"a": link.a, "b": link.b, "rule": link.rule, "reason": link.reason}
        for link in group.links
        if vm in (link.a, link.b)
    ] or [{"a": link.a, "b": link.b, "rule": link.rule, "reason": link.reason} for link in group.links]
    return {
        "wave": waves_of[vm],
        "phase": group.phase,
        "placement": group.placement,
        "group": group.members if len(group.members) <= 100 else [*group.members[:100], "..."],
        "tied_by": links[:MAX_LINKS_SHOWN],
        "depends_on": depends_on,
        "dependents": dependents,
        "shared_service": placement.ctx.shared.get(vm),
        "pinned": vm in placement.ctx.pins,
        "app": f.app,
        "env": f.env,
        "critical": f.critical,
        "owner": f.owner,
        "sources": dict(sorted(f.sources.items())),
    }


def _edge_view(other: str, data: dict[str, Any], waves_of: dict[str, int]) -> dict[str, Any]:
    return {
        "vm": other,
        "wave": waves_of.get(other),
        "ports": data["ports"][:10],
        "bytes": data["bytes"],
        "evidence": [e["kind"] for e in data["evidence"]],
        "confidence": data["confidence"],
    }
