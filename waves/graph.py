"""The dependency graph: VMs and external endpoints, with typed, weighted evidence on each edge.

An edge u -> v with `depends` means u needs v (u is the client of a flow to v's service port,
or u's annotation says it depends on v). Symmetric relations (DRS affinity and anti-affinity,
declared peers) are stored once, from the smaller name to the larger. Every edge keeps its
evidence as a list of {kind, detail, confidence}; `confidence` combines them as independent
sources (1 - product of (1 - c)).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import networkx as nx

from migrator.flows.records import Flow
from waves.facts import Facts, NameIndex, PatternInterpreter, ReferenceInterpreter, facts_of
from waves.parameters import PlanParameters

EXTERNAL_PREFIX = "ext:"


@dataclass
class DependencyGraph:
    g: nx.DiGraph
    facts: dict[str, Facts]
    affinity: list[dict[str, Any]] = field(default_factory=list)  # DRS VM-VM affinity rules
    anti_affinity: list[dict[str, Any]] = field(default_factory=list)  # for the transpilers
    stats: dict[str, Any] = field(default_factory=dict)
    window_days: float = 1.0

    def per_day(self, nbytes: float) -> float:
        return nbytes / self.window_days

    _vm_edges: tuple[tuple[int, int], list[tuple[str, str, dict[str, Any]]]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    # results that depend on this graph and the plan parameters alone, kept once it is frozen
    # (waves.rules.memo): every what-if of one plan computes them once
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def vm_edges(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Edges between two VMs (external endpoints are not placed in waves). Planning and
        its checks walk them about ten times, and networkx's edge view is slow to iterate
        (half a million edges at 50,000 VMs): the list is kept until the graph changes size, or
        for good once the graph is frozen (waves.plan.prepare; counting the edges walks them all).
        The data dicts are the graph's own, as before."""
        if self._vm_edges is not None and nx.is_frozen(self.g):
            return self._vm_edges[1]
        size = (self.g.number_of_nodes(), self.g.number_of_edges())
        if self._vm_edges is None or self._vm_edges[0] != size:
            facts = self.facts
            edges = [(u, v, d) for u, v, d in self.g.edges(data=True) if u in facts and v in facts]
            self._vm_edges = (size, edges)
        return self._vm_edges[1]


def flow_confidence(connections: int) -> float:
    """More observed sessions, more confidence that the dependency is real (docs/graph.md).
    `connections` counts sessions: a record and its reply are one (migrator.flows.direction)."""
    return 0.9 if connections >= 10 else 0.7 if connections >= 2 else 0.5


def combine(confidences: Iterable[float]) -> float:
    return round(1 - math.prod(1 - c for c in confidences), 3)


@cache
def _combined_one(confidence: float) -> float:
    """combine() of one piece of evidence (every flow edge's, half a million at 100,000 VMs)."""
    return combine((confidence,))


def unique_names(vms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """vCenter allows equal names in different folders; the graph needs unique node ids."""
    counts: dict[str, int] = defaultdict(int)
    for vm in vms:
        counts[vm["name"]] += 1
    return [
        vm if counts[vm["name"]] == 1 else {**vm, "name": f"{vm['name']} [{vm.get('moref')}]"} for vm in vms
    ]


def build_graph(
    vms: list[dict[str, Any]],
    clusters: list[dict[str, Any]],
    flows: Iterable[Flow],
    params: PlanParameters,
    interpreter: ReferenceInterpreter | None = None,
) -> DependencyGraph:
    facts = {f.name: f for f in (facts_of(vm, params) for vm in unique_names(vms))}
    g = nx.DiGraph()
    for f in facts.values():
        g.add_node(
            f.name,
            kind="vm",
            app=f.app or "",
            env=f.env or "",
            tier=f.tier or "",
            host=f.host or "",
            cluster=f.cluster or "",
            vapp=f.vapp or "",
            moref=f.moref,
            **({"vcenter": f.vcenter} if f.vcenter else {}),  # a one-vCenter graph reads as before
        )
    graph = DependencyGraph(g, facts)
    _add_flows(graph, flows)  # each flow edge scored as it is made: one piece of evidence
    touched: set[tuple[str, str]] = set()  # edges that DRS rules and references add evidence to
    _add_drs(graph, clusters, touched)
    _add_references(graph, interpreter or PatternInterpreter(), touched)
    for u, v in touched:
        data = g.edges[u, v]
        data["confidence"] = combine(e["confidence"] for e in data["evidence"])
    return graph


def _edge(graph: DependencyGraph, u: str, v: str, touched: set[tuple[str, str]]) -> dict[str, Any]:
    if not graph.g.has_edge(u, v):
        graph.g.add_edge(u, v, depends=False, bytes=0, packets=0, connections=0, ports=[], evidence=[])
    touched.add((u, v))
    data: dict[str, Any] = graph.g.edges[u, v]
    return data


def address_owners(facts: Iterable[Facts]) -> dict[str, str | None]:
    """Flow address -> VM name (None: claimed by two VMs, so it maps to neither).

    Addresses on a VM's virtual NICs come first. An address seen only on a guest interface that
    is not a NIC (a docker bridge, an NSX router port) still maps to its VM, as a flow endpoint
    there is that VM's traffic, unless a NIC claims it or another VM has it too: every docker
    host has 172.17.0.1, and such a shared address must not pull unrelated VMs together.
    """
    facts = list(facts)
    owners: dict[str, str | None] = {}
    for f in facts:
        for ip in f.ips:
            owners[ip] = f.name if owners.get(ip, f.name) == f.name else None
    guest_only: dict[str, str | None] = {}
    for f in facts:
        for ip in f.guest_only_ips:
            if ip not in owners:
                guest_only[ip] = f.name if guest_only.get(ip, f.name) == f.name else None
    return {**owners, **guest_only}


class EndpointResolver:
    """A flow's end -> its graph node: the VM owning the address, else the VM its server name
    resolves to, else the external endpoint EXTERNAL_PREFIX + (address or name)."""

    def __init__(self, facts: Iterable[Facts]) -> None:
        facts = list(facts)
        self.vms = {f.name for f in facts}
        self.by_ip = address_owners(facts)
        self.names = NameIndex(facts)
        self.ambiguous: set[str] = set()  # addresses two VMs claim (they map to neither)

    @classmethod
    def of_inventory(cls, vms: list[dict[str, Any]], params: PlanParameters) -> EndpointResolver:
        """From inventory records as build_graph sees them (equal names made unique): for views of
        a few nodes' flows without building the whole graph."""
        return cls(facts_of(vm, params) for vm in unique_names(vms))

    def node(self, ip: str | None, name: str | None) -> str:
        if ip is not None:
            vm = self.by_ip.get(ip)
            if vm is not None:
                return vm
            if ip in self.by_ip:
                self.ambiguous.add(ip)
        if name:
            vm = self.names.resolve(name)
            if vm is not None:
                return vm
        return EXTERNAL_PREFIX + (ip or name or "unknown")


def _add_flows(graph: DependencyGraph, flows: Iterable[Flow]) -> None:
    resolver = EndpointResolver(graph.facts.values())
    stats: dict[str, Any] = {"flows": 0, "self": 0, "external_endpoints": 0, "ambiguous_ips": 0}
    pairs, port_names, seen = _aggregate(flows, resolver, stats)
    if seen:
        graph.window_days = max((seen[1] - seen[0]).total_seconds() / 86400, 1.0)
    order = {port: port_key(port) for port in port_names.values()}
    new_edges: list[tuple[str, str, dict[str, Any]]] = []
    for (src, dst), (nbytes, packets, connections, port_set) in pairs.items():
        for node in (src, dst):
            if node not in graph.g:
                graph.g.add_node(node, kind="external")
        ports = sorted(port_set, key=order.__getitem__)
        evidence = _flow_evidence(ports, nbytes, connections)
        data = {
            "depends": True,
            "bytes": nbytes,
            "packets": packets,
            "connections": connections,
            "ports": ports,
            "evidence": [evidence],
            "confidence": _combined_one(evidence["confidence"]),
        }
        new_edges.append((src, dst, data))
    # flows are the graph's first edges (build_graph adds DRS rules and references after), so
    # each pair is a new edge: one call, without _edge's lookups (a second at 100,000 VMs)
    assert graph.g.number_of_edges() == 0, "flows must be added before any other edge"
    graph.g.add_edges_from(new_edges)
    stats["external_endpoints"] = sum(1 for _n, kind in graph.g.nodes(data="kind") if kind == "external")
    stats["ambiguous_ips"] = len(resolver.ambiguous)
    stats["window_days"] = round(graph.window_days, 2)
    graph.stats.update(stats)


Totals = list[Any]  # [bytes, packets, connections, set of port names] of one (client, service) pair


def _aggregate(
    flows: Iterable[Flow], resolver: EndpointResolver, stats: dict[str, Any]
) -> tuple[dict[tuple[str, str], Totals], dict[tuple[str, int], str], tuple[datetime, datetime] | None]:
    """Flows summed per (client node, service node); the port names (one string per distinct
    port, shared by every edge); the first and last time any flow was seen. The hot loop of
    planning a large estate (half a million records at 100,000 VMs): lists, locals, and a VM's
    own address resolved without a call."""
    by_ip, node = resolver.by_ip, resolver.node
    pairs: dict[tuple[str, str], Totals] = {}
    port_names: dict[tuple[str, int], str] = {}
    first: datetime | None = None
    last: datetime | None = None
    count = own = 0
    for flow in flows:
        count += 1
        src = by_ip.get(flow.src_ip) if flow.src_ip is not None else None
        src = src or node(flow.src_ip, flow.src_name)
        dst = by_ip.get(flow.dst_ip) if flow.dst_ip is not None else None
        dst = dst or node(flow.dst_ip, flow.dst_name)
        if src == dst:
            own += 1
            continue
        totals = pairs.get((src, dst))
        if totals is None:
            totals = pairs[(src, dst)] = [0, 0, 0, set()]
        totals[0] += flow.bytes
        totals[1] += flow.packets
        totals[2] += flow.connections
        if flow.dst_port is not None:
            key = (flow.protocol, flow.dst_port)
            port = port_names.get(key) or port_names.setdefault(key, f"{flow.protocol}/{flow.dst_port}")
            totals[3].add(port)
        for when in (flow.first_seen, flow.last_seen):
            if when is not None:
                if first is None or when < first:
                    first = when
                if last is None or when > last:
                    last = when
    stats["flows"], stats["self"] = count, own
    return pairs, port_names, (first, last) if first is not None and last is not None else None


def _flow_evidence(ports: list[str], nbytes: int, connections: int) -> dict[str, Any]:
    shown = ", ".join(ports[:5]) or "no port"
    detail = f"{shown}; {nbytes / 1e9:.3g} GB, {connections} session(s)"
    return {"kind": "flow", "detail": detail, "confidence": flow_confidence(connections)}


def port_key(port: str) -> tuple[str, int]:
    proto, _, number = port.partition("/")
    return proto, int(number) if number.isdigit() else 0


def _add_drs(graph: DependencyGraph, clusters: list[dict[str, Any]], touched: set[tuple[str, str]]) -> None:
    for cluster in clusters:
        for rule in cluster.get("drs_rules") or []:
            if rule.get("kind") not in ("vm-affinity", "vm-anti-affinity") or not rule.get("enabled", True):
                continue
            members = sorted(vm for vm in rule.get("vms") or [] if vm in graph.facts)
            record = {
                "rule": rule["name"],
                "cluster": cluster["name"],
                "vms": members,
                "mandatory": bool(rule.get("mandatory")),
            }
            kind = "drs-affinity" if rule["kind"] == "vm-affinity" else "drs-anti-affinity"
            (graph.affinity if kind == "drs-affinity" else graph.anti_affinity).append(record)
            for a, b in itertools.pairwise(members):
                _edge(graph, a, b, touched)["evidence"].append(
                    {
                        "kind": kind,
                        "detail": f"DRS rule {rule['name']} ({cluster['name']})",
                        "confidence": 1.0,
                    }
                )


def _add_references(
    graph: DependencyGraph, interpreter: ReferenceInterpreter, touched: set[tuple[str, str]]
) -> None:
    names = NameIndex(graph.facts.values())
    for f in graph.facts.values():
        if not f.annotation:
            continue
        for ref in interpreter.references(f.name, f.annotation, names):
            if ref.relation == "depends":
                u, v = ref.source, ref.target
            else:
                u, v = sorted((ref.source, ref.target))
            data = _edge(graph, u, v, touched)
            kind = "annotation" if ref.relation == "depends" else "annotation-peer"
            data["depends"] = data["depends"] or ref.relation == "depends"
            data["evidence"].append(
                {"kind": kind, "detail": f"{ref.source}: '{ref.phrase}'", "confidence": ref.confidence}
            )
