"""External endpoints: flow addresses (or server names) that are no VM of the estate.

The dependency graph calls one EXTERNAL_PREFIX + its address ("ext:192.0.2.10"). What a plan
knows of it: the VMs it talks to, with ports, bytes and when it was seen (from the stored flows,
resolved against the plan's snapshot exactly as the planner resolves them), and the waves whose
VMs call it or serve it (from the plan). The address is untrusted text from a flow file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from migrator.app.planning import plan_parameters
from migrator.app.workspace import Workspace
from migrator.errors import NotFound
from migrator.flows.records import Flow
from migrator.timefmt import iso_utc
from waves.graph import EXTERNAL_PREFIX, EndpointResolver, port_key

TO, FROM = "to", "from"  # the VM calls the endpoint; the endpoint calls the VM
RELATION = {TO: "depends on it", FROM: "serves it"}  # what a wave is to the endpoint


def is_external(node: str, plan: dict[str, Any]) -> bool:
    """A node of the plan's graph that is an external endpoint (a VM may have any name: a placed
    VM is a VM whatever its name says)."""
    return node.startswith(EXTERNAL_PREFIX) and node not in plan["vms"]


def endpoint_address(node: str) -> str:
    return node[len(EXTERNAL_PREFIX) :]


@dataclass
class EndpointPeer:
    """One VM (or another external endpoint) the endpoint talks to, in one direction."""

    peer: str
    external: bool  # the peer is another external endpoint, not a VM
    wave: int | None  # the peer's wave in the plan (None: in no wave)
    direction: str  # TO: the peer calls the endpoint; FROM: the endpoint calls the peer
    ports: list[str] = field(default_factory=list)  # protocol/destination port, e.g. "tcp/443"
    bytes: int = 0
    packets: int = 0
    connections: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    def add(self, flow: Flow) -> None:
        if flow.dst_port is not None and f"{flow.protocol}/{flow.dst_port}" not in self.ports:
            self.ports = sorted([*self.ports, f"{flow.protocol}/{flow.dst_port}"], key=port_key)
        self.bytes += flow.bytes
        self.packets += flow.packets
        self.connections += flow.connections
        self.first_seen = _earliest(self.first_seen, flow.first_seen)
        self.last_seen = _latest(self.last_seen, flow.last_seen)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "address": endpoint_address(self.peer) if self.external else None,
            "first_seen": iso_utc(self.first_seen),
            "last_seen": iso_utc(self.last_seen),
        }


@dataclass(frozen=True)
class EndpointWave:
    number: int
    name: str
    relation: str  # "depends on it" (its VMs call the endpoint) or "serves it" (it calls them)
    vms: list[str]


@dataclass(frozen=True)
class ExternalEndpoint:
    address: str  # as the flows name it: an IP address or a server name
    node: str  # its id in the dependency graph (EXTERNAL_PREFIX + address)
    plan_id: int
    snapshot_id: int
    peers: list[EndpointPeer]
    waves: list[EndpointWave]

    def as_dict(self) -> dict[str, Any]:
        peers = self.peers
        return {
            "address": self.address,
            "node": self.node,
            "plan_id": self.plan_id,
            "snapshot_id": self.snapshot_id,
            "ports": sorted({p for peer in peers for p in peer.ports}, key=port_key),
            "protocols": sorted({p.partition("/")[0] for peer in peers for p in peer.ports}),
            "bytes": sum(p.bytes for p in peers),
            "packets": sum(p.packets for p in peers),
            "connections": sum(p.connections for p in peers),
            "first_seen": iso_utc(min((p.first_seen for p in peers if p.first_seen), default=None)),
            "last_seen": iso_utc(max((p.last_seen for p in peers if p.last_seen), default=None)),
            "peers": [p.as_dict() for p in peers],
            "waves": [w.__dict__ for w in self.waves],
        }


def external_endpoints(ws: Workspace, plan: dict[str, Any] | None = None) -> dict[str, ExternalEndpoint]:
    """Every external endpoint of a stored plan (None: the latest) by address: those its graph
    links to a placed VM and those only the stored flows know now."""
    doc = plan if plan is not None else ws.plans.get(None)
    snapshot = int(doc["plan"]["snapshot_id"])
    resolver = EndpointResolver.of_inventory(list(ws.store.records(snapshot, "vms")), plan_parameters(doc))
    peers: dict[str, dict[tuple[str, str], EndpointPeer]] = defaultdict(dict)
    for flow in ws.flows.flows():
        src = resolver.node(flow.src_ip, flow.src_name)
        dst = resolver.node(flow.dst_ip, flow.dst_name)
        if src == dst:
            continue
        for node, other, direction in ((dst, src, TO), (src, dst, FROM)):
            if node not in resolver.vms:
                found = peers[node].get((other, direction))
                if found is None:
                    wave = (doc["vms"].get(other) or {}).get("wave")
                    found = EndpointPeer(other, other not in resolver.vms, wave, direction)
                    peers[node][(other, direction)] = found
                found.add(flow)
    waves = _waves(doc)
    nodes = set(peers) | set(waves)
    return {
        endpoint_address(node): ExternalEndpoint(
            address=endpoint_address(node),
            node=node,
            plan_id=int(doc["plan"]["id"]),
            snapshot_id=snapshot,
            peers=[peers[node][key] for key in sorted(peers[node])],
            waves=waves.get(node, []),
        )
        for node in sorted(nodes)
    }


def external_endpoint(endpoints: Mapping[str, ExternalEndpoint], address: str) -> ExternalEndpoint:
    """One of `external_endpoints` by its address (as the flows name it, no EXTERNAL_PREFIX)."""
    found = endpoints.get(address)
    if found is None:
        raise NotFound(f"no external endpoint {address!r} in the plan or the stored flows")
    return found


def wave_endpoints(plan: dict[str, Any], number: int) -> list[dict[str, Any]]:
    """The external endpoints one wave's VMs talk to: address, relation, the wave's VMs."""
    return [
        {"address": endpoint_address(node), "relation": w.relation, "vms": w.vms}
        for node, waves in sorted(_waves(plan).items())
        for w in waves
        if w.number == number
    ]


def _waves(doc: dict[str, Any]) -> dict[str, list[EndpointWave]]:
    """External node -> the waves whose VMs call it or that it calls, from the plan's edges."""
    members: dict[str, dict[tuple[int, str], list[str]]] = defaultdict(lambda: defaultdict(list))
    for vm, info in doc["vms"].items():
        for key, direction in (("depends_on", TO), ("dependents", FROM)):
            for edge in info.get(key) or []:
                if is_external(edge["vm"], doc):
                    members[edge["vm"]][(info["wave"], direction)].append(vm)
    names = {w["number"]: w["name"] for w in doc["waves"]}
    return {
        node: [
            EndpointWave(number, names.get(number, ""), RELATION[direction], sorted(vms))
            for (number, direction), vms in sorted(by_wave.items())
        ]
        for node, by_wave in members.items()
    }


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None or (b is not None and b < a) else a


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None or (b is not None and b > a) else a
