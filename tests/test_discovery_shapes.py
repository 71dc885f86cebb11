"""Discovery of the shapes real estates have (fixtures/estates/real-shapes.yaml), against vcsim.

VMs inside a vApp (no parent folder), NICs on NSX-T opaque networks,
guest interfaces that are not a virtual NIC, and tags read through the real vAPI endpoints.
What vcsim 0.24 cannot create through the vSphere API (a VM moved into a vApp the way vCenter
does it, an opaque network, a non-NIC guest interface) the launcher's /migrator/ harness
creates; discovery itself only ever sees the vSphere API.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator.flows.records import Flow
from migrator.secrets import Secret
from migrator.simulator.estate import Estate
from migrator.simulator.launcher import Simulator
from migrator.simulator.seed import seed
from migrator.vcenter.address import parse_server
from migrator.vcenter.connection import ConnectionParams, TLSOptions
from migrator.vcenter.tags import collect_tags
from tests.conftest import ROOT, discover_args, sim_env
from tests.helpers import assert_one_line_error, migrator
from waves.graph import build_graph
from waves.parameters import PlanParameters

pytestmark = pytest.mark.vcsim

ESTATE = ROOT / "fixtures" / "estates" / "real-shapes.yaml"
SEG_WEB = "5b0c7f4e-1d2a-4f6b-9e3c-8a7d6c5b4a01"
SEG_DB = "5b0c7f4e-1d2a-4f6b-9e3c-8a7d6c5b4a02"


@pytest.fixture(scope="module")
def shapes() -> Iterator[tuple[Simulator, dict[str, str]]]:
    estate = Estate.load(ESTATE)
    sim = Simulator(topology=estate.topology(), password="shapes-S3cret!").start()
    try:
        yield sim, seed(sim, estate)
    finally:
        sim.stop()


@pytest.fixture(scope="module")
def export(
    shapes: tuple[Simulator, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    sim, _ = shapes
    ws: Path = tmp_path_factory.mktemp("ws")
    result = migrator(*discover_args(sim, "--perf-days", "0"), workspace=ws, env=sim_env(sim))
    assert result.code == 0, result.stderr
    exported = migrator("inventory", "export", "--format", "json", workspace=ws)
    assert exported.code == 0, exported.stderr
    doc: dict[str, Any] = exported.json()
    return doc


def _vm(doc: dict[str, Any], name: str) -> dict[str, Any]:
    (vm,) = [v for v in doc["vms"] if v["name"] == name]
    return vm


def test_vapp_members_keep_datacenter_folder_and_pool(export: dict[str, Any]) -> None:
    for name in ("erp-app-01", "erp-db-01"):
        vm = _vm(export, name)
        placement = {k: vm[k] for k in ("datacenter", "cluster", "folder", "resource_pool", "vapp")}
        assert placement == {
            "datacenter": "DC0",
            "cluster": "Prod-Cluster",
            "folder": "vm",  # the vApp's folder: the VM itself has none
            "resource_pool": "Resources/erp-vapp",
            "vapp": "erp-vapp",
        }, name
        assert vm["host"] in ("DC0_C0_H0", "DC0_C0_H1")
    plain = _vm(export, "edge-01")
    assert (plain["datacenter"], plain["folder"], plain["resource_pool"], plain["vapp"]) == (
        "DC0",
        "vm",
        "Resources",
        None,
    )


def test_opaque_networks_named_with_kind_and_segment(export: dict[str, Any]) -> None:
    networks = {n["name"]: n for n in export["networks"]}
    for name, segment in (("seg-web", SEG_WEB), ("seg-db", SEG_DB)):
        net = networks[name]
        assert (net["kind"], net["segment_id"], net["segment_type"], net["vlan"], net["datacenter"]) == (
            "opaque",
            segment,
            "nsx.LogicalSwitch",
            None,
            "DC0",
        )
        assert net["moref"].startswith("opaquenetwork-")
    assert (networks["app-vlan120"]["segment_id"], networks["VM Network"]["segment_id"]) == (None, None)
    web = _vm(export, "web-nsx-01")
    assert [(n["network"], n["network_kind"], n["segment_id"], n["vlan"]) for n in web["nics"]] == [
        ("seg-web", "opaque", SEG_WEB, None),
        ("app-vlan120", "distributed", None, 120),
    ]
    db = _vm(export, "erp-db-01")
    assert [(n["network"], n["network_kind"], n["segment_id"]) for n in db["nics"]] == [
        ("seg-db", "opaque", SEG_DB)
    ]


def test_guest_interfaces_that_are_not_nics_keep_their_addresses(export: dict[str, Any]) -> None:
    web = _vm(export, "web-nsx-01")
    assert web["ip_addresses"] == ["10.10.0.11", "172.17.0.1"]  # the docker bridge; fe80:: dropped
    assert web["guest_interfaces"] == [
        {"mac": "02:42:ac:11:00:01", "network": "docker0", "ip_addresses": ["172.17.0.1"]}
    ]
    assert [n["ip_addresses"] for n in web["nics"]] == [["10.10.0.11"], []]
    edge = _vm(export, "edge-01")
    assert edge["ip_addresses"] == ["10.10.0.1", "100.64.0.1"]
    assert edge["guest_interfaces"] == [
        {"mac": "02:50:56:56:44:52", "network": None, "ip_addresses": ["100.64.0.1"]}
    ]
    assert _vm(export, "erp-app-01")["guest_interfaces"] == []


def test_tags_come_from_the_vapi_endpoint(
    export: dict[str, Any], shapes: tuple[Simulator, dict[str, str]]
) -> None:
    assert not [w for w in export["warnings"] if "tag" in w], export["warnings"]
    assert {vm["name"]: vm["tags"] for vm in export["vms"]} == {
        "edge-01": [],
        "erp-app-01": ["Application:erp", "Backup:daily"],
        "erp-db-01": ["Application:erp"],
        "web-nsx-01": ["Application:web"],
    }
    sim, morefs = shapes  # the vAPI client itself, keyed by moref as vCenter answers
    params = ConnectionParams(parse_server(sim.url), sim.username, Secret(sim.password), TLSOptions())
    tags = {ref: sorted(names) for ref, names in collect_tags(params).items()}
    assert tags == {
        morefs["erp-app-01"]: ["Application:erp", "Backup:daily"],
        morefs["erp-db-01"]: ["Application:erp"],
        morefs["web-nsx-01"]: ["Application:web"],
    }


def test_flows_to_discovered_guest_only_addresses_map_to_their_vm(export: dict[str, Any]) -> None:
    flows = [
        Flow("100.64.0.1", "10.20.0.52", 1433, "tcp", 5000, 10, 1),  # edge-01's NSX router port
        Flow("172.17.0.1", "10.0.120.51", 8080, "tcp", 5000, 10, 1),  # web-nsx-01's docker bridge
    ]
    g = build_graph(export["vms"], export["clusters"], flows, PlanParameters())
    assert sorted((u, v, tuple(d["ports"])) for u, v, d in g.vm_edges()) == [
        ("edge-01", "erp-db-01", ("tcp/1433",)),
        ("web-nsx-01", "erp-app-01", ("tcp/8080",)),
    ]


def test_new_fields_round_trip_through_inventory_import(export: dict[str, Any], tmp_path: Path) -> None:
    source = tmp_path / "shapes.json"
    source.write_text(json.dumps(export), encoding="utf-8")
    ws = tmp_path / "ws"
    assert migrator("import", "inventory", str(source), workspace=ws).code == 0
    again = migrator("inventory", "export", "--format", "json", workspace=ws).json()
    assert again["vms"] == export["vms"] and again["networks"] == export["networks"]
    broken = json.loads(json.dumps(export))
    broken["vms"][0]["nics"][0]["network_kind"] = "nsx"
    source.write_text(json.dumps(broken), encoding="utf-8")
    result = migrator("import", "inventory", str(source), workspace=tmp_path / "ws2")
    assert_one_line_error(result, 2, "network_kind")
