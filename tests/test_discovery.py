"""Discovery of the seeded demo estate, through the real CLI, against a real vSphere API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from migrator.simulator.estate import Estate
from migrator.simulator.launcher import Simulator
from tests.conftest import discover_args, sim_env
from tests.helpers import migrator

pytestmark = pytest.mark.vcsim


@pytest.fixture(scope="module")
def export(demo_sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    ws = tmp_path_factory.mktemp("ws")
    result = migrator(*discover_args(demo_sim, "--perf-days", "1"), workspace=ws, env=sim_env(demo_sim))
    assert result.code == 0, result.stderr
    exported = migrator("inventory", "export", "--format", "json", workspace=ws)
    assert exported.code == 0, exported.stderr
    doc = exported.json()
    doc["_workspace"] = ws
    return doc


def _vm(doc: dict[str, Any], name: str) -> dict[str, Any]:
    matches = [vm for vm in doc["vms"] if vm["name"] == name]
    assert len(matches) == 1, name
    return matches[0]


def test_export_contract_header(export: dict[str, Any]) -> None:
    assert export["schema_version"] == 1
    snap = export["snapshot"]
    assert snap["source"] == "vcenter"
    assert snap["status"] == "complete"
    assert snap["server"].startswith("http://127.0.0.1:")
    assert snap["started_at"].endswith("Z") and snap["finished_at"].endswith("Z")
    for key in ("vms", "hosts", "clusters", "networks", "datastores"):
        assert isinstance(export[key], list)


def test_every_seeded_vm_is_discovered_exactly(export: dict[str, Any], demo_estate: Estate) -> None:
    assert sorted(vm["name"] for vm in export["vms"]) == sorted(vm["name"] for vm in demo_estate.vms)
    for spec in demo_estate.vms:
        vm = _vm(export, spec["name"])
        assert vm["num_cpu"] == spec.get("cpus", 1), spec["name"]
        assert vm["cores_per_socket"] == spec.get("cores_per_socket", 1), spec["name"]
        assert vm["memory_mb"] == spec.get("memory_mb", 1024), spec["name"]
        assert vm["guest_id"] == spec.get("guest_id", "otherGuest"), spec["name"]
        assert vm["firmware"] == spec.get("firmware", "bios"), spec["name"]
        assert vm["secure_boot"] is bool(spec.get("secure_boot", False)), spec["name"]
        assert vm["annotation"] == spec.get("annotation", ""), spec["name"]
        assert vm["cluster"] == spec["cluster"], spec["name"]
        assert vm["datacenter"] == "DC0"
        assert vm["custom_fields"] == {k: str(v) for k, v in (spec.get("custom") or {}).items()}, spec["name"]
        assert vm["tags"] == sorted(spec.get("tags") or []), spec["name"]
        assert [d["capacity_gb"] for d in vm["disks"]] == [float(s) for s in spec["disks_gb"]], spec["name"]
        assert [n["network"] for n in vm["nics"]] == spec["nics"], spec["name"]
        assert vm["snapshot_count"] == spec.get("snapshots", 0), spec["name"]
        assert vm["cbt_enabled"] is bool(spec.get("cbt", False)), spec["name"]
        assert vm["memory_hot_add"] is bool(spec.get("memory_hot_add", False)), spec["name"]
        expected_power = "poweredOff" if spec.get("power") == "off" else "poweredOn"
        assert vm["power_state"] == expected_power, spec["name"]
        assert vm["ip_addresses"] == ([spec["ip"]] if spec.get("ip") else []), spec["name"]
        assert vm["hostname"] == spec.get("hostname"), spec["name"]
        assert vm["moref"].startswith("vm-") and vm["instance_uuid"] and vm["bios_uuid"]
        assert vm["host"].startswith("DC0_C")
        assert vm["template"] is False


def test_nic_vlans_and_guest_ips(export: dict[str, Any]) -> None:
    vm = _vm(export, "nfs-01")
    assert [(n["network"], n["vlan"]) for n in vm["nics"]] == [("infra-vlan10", 10), ("trunk-100-199", None)]
    assert vm["nics"][0]["ip_addresses"] == ["10.0.10.7"]
    assert vm["nics"][0]["mac"] and vm["nics"][0]["mac"] == vm["nics"][0]["mac"].lower()
    assert vm["nics"][1]["type"] == "vmxnet3"


def test_disk_details(export: dict[str, Any]) -> None:
    crm_db = _vm(export, "crm-db-01")
    assert [d["disk_mode"] for d in crm_db["disks"]] == ["persistent", "independent_persistent"]
    assert [d["independent"] for d in crm_db["disks"]] == [False, True]
    shop_db = _vm(export, "shop-db-01")
    assert [d["thin"] for d in shop_db["disks"]] == [True, True, False]
    for disk in shop_db["disks"]:
        assert disk["datastore"] == "LocalDS_0"
        assert disk["rdm"] is None and disk["sharing"] == "sharingNone"
        assert disk["controller"] in ("pvscsi", "lsilogic", "lsilogic-sas", "buslogic")


def test_non_ascii_and_spaces_survive(export: dict[str, Any]) -> None:
    vm = _vm(export, "Lagerverwaltung Prüfstand 01")
    assert vm["custom_fields"]["owner"] == "Müller & Söhne"
    assert vm["annotation"] == 'Prüfstand – do not touch\nline two with "quotes" and ${var}'
    assert _vm(export, "legacy web (old)")["power_state"] == "poweredOff"


def test_drs_rules_exact(export: dict[str, Any]) -> None:
    prod = next(c for c in export["clusters"] if c["name"] == "Prod-Cluster")
    rules = {r["name"]: r for r in prod["drs_rules"]}
    assert set(rules) == {"shop-db-separate", "shop-app-together", "crm-on-licensed-hosts"}
    assert rules["shop-db-separate"]["kind"] == "vm-anti-affinity"
    assert rules["shop-db-separate"]["vms"] == ["shop-db-01", "shop-db-02"]
    assert rules["shop-app-together"]["kind"] == "vm-affinity"
    assert rules["shop-app-together"]["vms"] == ["shop-app-01", "shop-db-01"]
    host_rule = rules["crm-on-licensed-hosts"]
    assert host_rule["kind"] == "vm-host" and host_rule["mandatory"] is True and host_rule["affine"] is True
    assert host_rule["vms"] == ["crm-db-01"]
    assert host_rule["hosts"] == ["DC0_C0_H0", "DC0_C0_H1"]
    dev = next(c for c in export["clusters"] if c["name"] == "Dev-Cluster")
    assert dev["drs_rules"] == []


def test_networks_with_vlans(export: dict[str, Any], demo_estate: Estate) -> None:
    networks = {n["name"]: n for n in export["networks"]}
    for pg in demo_estate.portgroups:
        net = networks[pg["name"]]
        assert net["kind"] == "distributed" and net["switch"] == "DVS0"
        if "trunk" in pg:
            assert net["vlan"] is None and net["vlan_trunk"] == pg["trunk"]
        else:
            assert net["vlan"] == pg["vlan"]
    assert networks["VM Network"]["kind"] == "standard"


def test_hosts_and_datastores(export: dict[str, Any]) -> None:
    assert len(export["hosts"]) == 6
    host = export["hosts"][0]
    assert host["cluster"] in ("Prod-Cluster", "Dev-Cluster")
    assert host["esxi_version"] and host["cpu_cores"] and host["memory_gb"] > 0
    assert host["connection_state"] == "connected" and host["maintenance_mode"] is False
    assert [d["name"] for d in export["datastores"]] == ["LocalDS_0"]
    assert export["datastores"][0]["capacity_gb"] > 0


def test_utilisation_only_for_running_vms(export: dict[str, Any]) -> None:
    for vm in export["vms"]:
        if vm["power_state"] == "poweredOn":
            perf = vm["perf"]
            assert perf is not None, vm["name"]
            assert perf["samples"] == perf["expected_samples"] == 288  # one day of 5-minute samples
            assert perf["window_days"] == 1.0 and perf["interval_s"] == 300
            assert 0 <= perf["cpu_p50_pct"] <= perf["cpu_p95_pct"] <= perf["cpu_max_pct"]
            assert 0 <= perf["mem_p50_pct"] <= perf["mem_p95_pct"] <= perf["mem_max_pct"]
        else:
            assert vm["perf"] is None, vm["name"]


def test_listing_formats(export: dict[str, Any]) -> None:
    ws: Path = export["_workspace"]
    listed = migrator("inventory", "list", "--format", "json", workspace=ws)
    assert listed.code == 0 and len(listed.json()) == len(export["vms"])
    csv_out = migrator("inventory", "list", "--format", "csv", workspace=ws)
    lines = csv_out.stdout.strip().splitlines()
    assert lines[0] == "VM,Power,vCPU,Memory MB,Disk GB,Guest OS,Cluster,IPs"
    assert any(line.startswith("shop-db-01,poweredOn,8,32768,760.0,") for line in lines)
    table = migrator("inventory", "list", workspace=ws)
    assert "Lagerverwaltung Prüfstand 01" in table.stdout
    shown = migrator("inventory", "show", "shop-db-01", "--format", "json", workspace=ws)
    assert shown.json() == _vm(export, "shop-db-01")
    shown_ci = migrator("inventory", "show", "SHOP-DB-01", workspace=ws)
    assert shown_ci.code == 0 and "db-vlan130" in shown_ci.stdout
    snaps = migrator("snapshots", "list", "--format", "json", workspace=ws).json()
    assert [(s["status"], s["vms"], s["source"]) for s in snaps] == [("complete", 16, "vcenter")]
    out_file = ws / "inv.json"
    written = migrator("inventory", "export", "--format", "json", "-o", str(out_file), workspace=ws)
    assert written.code == 0 and out_file.read_text(encoding="utf-8").count('"moref": "vm-') == 16
