"""From a stored wave plan and its snapshot to one WaveInput per wave."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from migrator.flows.records import Flow
from transpilers.model import NetworkInput, SpreadSet, Traffic, VMInput, WaveInput
from waves.graph import EXTERNAL_PREFIX, DependencyGraph, build_graph, unique_names
from waves.parameters import PlanParameters
from waves.sizing import SizingParameters, size_vm

_REPLICA_WORDS = ("replica", "primary", "standby", "mirror", "clustered")


def parameters_of(document: dict[str, Any]) -> PlanParameters:
    stored: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in document["plan"]["parameters"].items()
    }
    return PlanParameters(**stored)


def wave_inputs(
    document: dict[str, Any],
    vms: list[dict[str, Any]],
    clusters: list[dict[str, Any]],
    networks: list[dict[str, Any]],
    flows: Iterable[Flow],
) -> list[WaveInput]:
    graph = build_graph(vms, clusters, flows, parameters_of(document))
    # the graph's node names, record by record: a moref is unique in one vCenter only
    by_name = {unique["name"]: vm for vm, unique in zip(vms, unique_names(vms), strict=True)}
    wave_of = {name: wave["number"] for wave in document["waves"] for name in wave["vms"]}
    nets = _networks(vms, networks)
    sizing = SizingParameters()
    replicas = _replica_sets(graph)
    result = []
    for wave in document["waves"]:
        members = set(wave["vms"])
        vm_inputs = []
        for name in sorted(members):
            f = graph.facts[name]
            record = {**by_name[f.name], "name": name}
            vm_inputs.append(
                VMInput(name, record, size_vm(record, sizing), f.app, f.env, f.tier, tuple(f.ips))
            )
        result.append(
            WaveInput(
                number=wave["number"],
                name=wave["name"],
                vms=tuple(vm_inputs),
                traffic=tuple(_traffic(graph, members)),
                spread=tuple(_spread(graph, replicas, members)),
                networks=nets,
                wave_of=wave_of,
            )
        )
    return result


def _networks(vms: list[dict[str, Any]], networks: list[dict[str, Any]]) -> dict[str, NetworkInput]:
    """Source networks by name, with their kind; NICs fill in what networks[] lacks (an
    inventory without networks, an opaque network the discovery account could not read)."""
    nets: dict[str, NetworkInput] = {}
    for vm in vms:
        for nic in vm.get("nics") or []:
            if nic.get("network") and (nic.get("network_kind") or nic.get("segment_id")):
                nets[nic["network"]] = NetworkInput(
                    nic["network"], nic.get("vlan"), (), nic.get("network_kind"), nic.get("segment_id")
                )
    for n in networks:
        nets[n["name"]] = NetworkInput(
            n["name"],
            n.get("vlan"),
            tuple((int(a), int(b)) for a, b in n.get("vlan_trunk") or []),
            n.get("kind"),
            n.get("segment_id"),
            n.get("moref"),
        )
    return nets


def _traffic(graph: DependencyGraph, members: set[str]) -> list[Traffic]:
    found = []
    for u, v, data in sorted(graph.g.edges(data=True), key=lambda e: (e[0], e[1])):
        if not data.get("ports") or v not in members:
            continue
        ips = graph.facts[u].ips if u in graph.facts else [u.removeprefix(EXTERNAL_PREFIX)]
        found.append(Traffic(u, v, tuple(data["ports"]), tuple(ips)))
    return found


def _replica_sets(graph: DependencyGraph) -> list[tuple[str, ...]]:
    """Pairs declared as primary/replica in annotations, joined into sets."""
    pairs = []
    for u, v, data in graph.vm_edges():
        for ev in data["evidence"]:
            if ev["kind"] == "annotation-peer" and any(w in ev["detail"].lower() for w in _REPLICA_WORDS):
                pairs.append((u, v))
    sets: list[set[str]] = []
    for u, v in sorted(pairs):
        joined = [s for s in sets if u in s or v in s]
        merged = {u, v}.union(*joined)
        sets = [s for s in sets if s not in joined] + [merged]
    return sorted(tuple(sorted(s)) for s in sets)


def _spread(graph: DependencyGraph, replicas: list[tuple[str, ...]], members: set[str]) -> list[SpreadSet]:
    found = []
    for rule in graph.anti_affinity:
        inside = tuple(vm for vm in rule["vms"] if vm in members)
        if len(inside) >= 2:
            found.append(SpreadSet(rule["rule"], "drs-anti-affinity", inside, rule["mandatory"]))
    for group in replicas:
        inside = tuple(vm for vm in group if vm in members)
        if len(inside) >= 2:
            found.append(SpreadSet(f"replicas:{group[0]}", "replicas", inside, True))
    return sorted(found, key=lambda s: (s.kind, s.id))
