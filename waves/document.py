"""The plan document: what `waves show --format json` prints (contract: docs/waves-json.md)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from operator import itemgetter
from typing import Any

from waves.clouds import wave_costs
from waves.graph import DependencyGraph
from waves.parameters import PlanParameters
from waves.planner import PHASE_LABEL, Group, Placement, violations
from waves.sizing import price_source, totals

DOCUMENT_VERSION = 1
MAX_LINKS_SHOWN = 40


def build_document(
    placement: Placement,
    graph: DependencyGraph,
    params: PlanParameters,
    sized: Mapping[str, dict[str, Any]],
    anti_affinity: list[dict[str, Any]],
    views: Views,
) -> dict[str, Any]:
    """`sized`: each VM's `size_vm` by name; `views`: `dependency_views(graph)` (waves.plan.prepare
    computes both once per estate)."""
    waves_of = placement.wave_of_vm
    sizes = {name: size for name, size in sized.items() if name in waves_of}
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
    link_views: dict[int, list[Any]] = {}
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
        "fill": _fill(waves, params),
        "shared_services": [{"vm": vm, "reason": why} for vm, why in placement.ctx.shared.items()],
        "anti_affinity": anti_affinity,
        "cost": {**totals(all_sizes), **_plan_cloud_costs(all_sizes), "prices": price_source()},
        "graph": dict(sorted(graph.stats.items())),
        "notes": placement.notes,
        "violations": violations(placement),
        "vms": {vm: _explain(vm, placement, graph, views, link_views) for vm in sorted(waves_of)},
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


def _fill(waves: list[dict[str, Any]], params: PlanParameters) -> dict[str, Any]:
    """How full the waves are: mean VMs per wave against --max-vms (the pilot and pinned-empty
    waves count too: they are waves to run)."""
    counts = [len(w["vms"]) for w in waves]
    mean = sum(counts) / len(counts) if counts else 0.0
    return {
        "waves": len(counts),
        "vms": sum(counts),
        "mean_vms": round(mean, 1),
        "max_vms": params.max_vms,
        "ratio": round(mean / params.max_vms, 3) if params.max_vms else None,
    }


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
        **_cloud_costs(sizes),
    }


def _cloud_costs(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    """The wave on each priced cloud (sized, on-demand, licence-included Windows) and the
    cheapest one: `azure_monthly_usd`, `gcp_monthly_usd`, `cheapest_cloud` (docs/waves-json.md)."""
    costs = wave_costs(sizes)
    per_cloud = costs["monthly_usd"]
    return {
        "azure_monthly_usd": per_cloud["azure"],
        "gcp_monthly_usd": per_cloud["gcp"],
        "cheapest_cloud": costs["cheapest_cloud"],
    }


def _plan_cloud_costs(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    per_cloud = wave_costs(sizes)["monthly_usd"]
    return {"azure_monthly_usd": per_cloud["azure"], "gcp_monthly_usd": per_cloud["gcp"]}


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


# VM name -> (depends_on, dependents), each entry (partner, ports, bytes, evidence kinds, confidence)
DependencyView = tuple[str, list[str], int, list[str], float]
Views = dict[str, tuple[list[DependencyView], list[DependencyView]]]


def dependency_views(graph: DependencyGraph) -> Views:
    """Per VM, its `depends_on` and `dependents` entries without the partner's wave: they depend
    on the graph alone, so waves.plan.prepare makes them once for every plan of a what-if."""
    # flat tuples, not dicts (a million entries at 100,000 VMs: _explain makes the dicts), and
    # equal port and evidence lists shared: a few hundred distinct lists stand for over a million
    # (the document is only read and serialised)
    lists: dict[tuple[str, ...], list[str]] = {}
    views: Views = {vm: ([], []) for vm in graph.facts if graph.g.has_node(vm)}
    for u, v, data in graph.g.edges(data=True):
        if data["depends"]:
            view = _edge_view(data, lists)
            if u in views:
                views[u][0].append((v, *view))
            if v in views:
                views[v][1].append((u, *view))
    for depends_on, dependents in views.values():  # by partner, as the document lists them
        depends_on.sort(key=itemgetter(0))
        dependents.sort(key=itemgetter(0))
    return views


def _explain(
    vm: str, placement: Placement, graph: DependencyGraph, views: Views, link_views: dict[int, list[Any]]
) -> dict[str, Any]:
    """`link_views`: group index -> its links as the document shows them, made once per group and
    shared by its members' entries (the document is only read and serialised)."""
    waves_of = placement.wave_of_vm
    index = placement.group_of[vm]
    group = placement.groups[index]
    f = graph.facts[vm]
    depends_on_views, dependents_views = views[vm]
    shown = link_views.get(index)
    if shown is None:
        shown = link_views.setdefault(
            index,
            [{"a": link.a, "b": link.b, "rule": link.rule, "reason": link.reason} for link in group.links],
        )
    links = [view for link, view in zip(group.links, shown, strict=True) if vm in (link.a, link.b)] or shown
    return {
        "wave": waves_of[vm],
        "phase": group.phase,
        "placement": group.placement,
        "group": group.members if len(group.members) <= 100 else [*group.members[:100], "..."],
        "tied_by": links[:MAX_LINKS_SHOWN],
        "depends_on": _entries(depends_on_views, waves_of),
        "dependents": _entries(dependents_views, waves_of),
        "shared_service": placement.ctx.shared.get(vm),
        "pinned": vm in placement.ctx.pins,
        "app": f.app,
        "env": f.env,
        "critical": f.critical,
        "owner": f.owner,
        "sources": dict(sorted(f.sources.items())),
    }


def _entries(views: list[DependencyView], waves_of: Mapping[str, int]) -> list[dict[str, Any]]:
    return [
        {"vm": o, "wave": waves_of.get(o), "ports": p, "bytes": b, "evidence": e, "confidence": c}
        for o, p, b, e, c in views
    ]


def _edge_view(
    data: dict[str, Any], lists: dict[tuple[str, ...], list[str]]
) -> tuple[list[str], int, list[str], float]:
    """An edge as the document shows it, but for the partner (`vm`, `wave`), which come first."""
    ports = tuple(data["ports"][:10])
    kinds = tuple(e["kind"] for e in data["evidence"])
    return (
        lists.setdefault(ports, list(ports)),
        data["bytes"],
        lists.setdefault(kinds, list(kinds)),
        data["confidence"],
    )
