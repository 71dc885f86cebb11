"""Flow addresses on guest interfaces that are not a virtual NIC map to their VM (docs/graph.md)."""

from __future__ import annotations

from typing import Any

from tests.waves_helpers import flow, graph, vm
from waves.graph import EXTERNAL_PREFIX


def _with_nic(name: str, address: str, *others: tuple[str, list[str]]) -> dict[str, Any]:
    record = vm(name, nics=[{"network": "pg", "ip_addresses": [address]}])
    record["ip_addresses"] = [address, *(ip for _, ips in others for ip in ips)]
    record["guest_interfaces"] = [{"mac": None, "network": net, "ip_addresses": ips} for net, ips in others]
    return record


def test_guest_only_addresses_map_to_their_vm_unless_shared_or_on_a_nic() -> None:
    vms = [
        _with_nic("edge", "10.1.0.1", ("", ["100.64.0.1"]), ("docker0", ["172.17.0.1"])),
        _with_nic("docker-b", "10.1.0.2", ("docker0", ["172.17.0.1"])),
        _with_nic("db", "10.1.0.9"),
        _with_nic("real", "192.0.2.50"),
        _with_nic("shadow", "10.1.0.3", ("br0", ["192.0.2.50"])),
    ]
    g, _ = graph(
        vms,
        [
            flow("100.64.0.1", "10.1.0.9", 5432),  # from the NSX router port: edge's traffic
            flow("172.17.0.1", "10.1.0.9", 5432),  # on two docker hosts: nobody's
            flow("10.1.0.2", "192.0.2.50", 443),  # a NIC address wins over a guest-only one
        ],
    )
    assert g.g.has_edge("edge", "db") and g.g.edges["edge", "db"]["ports"] == ["tcp/5432"]
    assert g.g.has_edge(EXTERNAL_PREFIX + "172.17.0.1", "db")
    assert g.g.has_edge("docker-b", "real") and not g.g.has_edge("docker-b", "shadow")
    assert g.stats["ambiguous_ips"] == 1
    # Only NIC addresses are the VM's own (what a firewall rule may name); the others are kept apart.
    assert (g.facts["edge"].ips, g.facts["edge"].guest_only_ips) == (
        ["10.1.0.1"],
        ["100.64.0.1", "172.17.0.1"],
    )
    assert (g.facts["shadow"].ips, g.facts["shadow"].guest_only_ips) == (["10.1.0.3"], ["192.0.2.50"])


def test_inventories_without_guest_interfaces_are_read_as_before() -> None:
    record = vm("old", nics=[{"network": "pg", "ip_addresses": ["10.2.0.1", "10.2.0.2"]}])
    g, _ = graph([record, vm("peer")], [flow("10.2.0.2", "peer")])
    assert g.facts["old"].ips == [record["ip_addresses"][0], "10.2.0.1", "10.2.0.2"]
    assert g.facts["old"].guest_only_ips == [] and g.g.has_edge("old", "peer")
