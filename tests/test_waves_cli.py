"""The planning commands through the real CLI: golden plans on fixture estates, explain, pin, diff,
graph export, size, and the errors a user can meet.

Golden files live in fixtures/golden; regenerate them with `make golden` after an intended change.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from tests.fixture_estates import render as render_synthetic
from tests.golden import FIXTURES, check_golden, workspace_with
from tests.helpers import assert_one_line_error, migrator


def normalised(doc: dict[str, Any], explanations: bool = True) -> str:
    doc = json.loads(json.dumps(doc))
    for key in ("id", "created_at", "snapshot_id"):
        doc["plan"][key] = None
    if not explanations:  # keeps the large estate's golden file reviewable
        doc["vms"] = f"{len(doc['vms'])} explanations (checked in the demo golden file)"
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.fixture
def demo_ws(tmp_path: Path) -> Path:
    return workspace_with(tmp_path, "demo.json", "demo-flows.csv")


def test_synthetic_fixture_files_are_current() -> None:
    inventory, flows = render_synthetic()
    assert (FIXTURES / "inventories" / "synthetic-300.json").read_text(encoding="utf-8") == inventory
    assert (FIXTURES / "flows" / "synthetic-300.csv").read_text(encoding="utf-8") == flows


@pytest.mark.parametrize(
    ("inventory", "flows", "golden"),
    [
        ("demo.json", "demo-flows.csv", "waves-demo.json"),
        ("synthetic-300.json", "synthetic-300.csv", "waves-synthetic-300.json"),
    ],
)
def test_plan_matches_golden(tmp_path: Path, inventory: str, flows: str, golden: str) -> None:
    ws = workspace_with(tmp_path, inventory, flows)
    planned = migrator("waves", "plan", "--format", "json", workspace=ws)
    assert planned.code == 0, planned.stderr
    shown = migrator("waves", "show", "--format", "json", workspace=ws)
    assert shown.json() == planned.json()
    doc = shown.json()
    assert doc["plan"]["id"] == 1 and doc["plan"]["snapshot_id"] == 1 and doc["violations"] == []
    check_golden(golden, normalised(doc, explanations=golden == "waves-demo.json"))


def test_demo_plan_reads_as_an_architect_expects(demo_ws: Path) -> None:
    doc = migrator("waves", "plan", "--format", "json", workspace=demo_ws).json()
    waves = {w["number"]: w["vms"] for w in doc["waves"]}
    assert waves == {
        1: ["Lagerverwaltung Prüfstand 01", "payroll-app-dev", "payroll-db-dev"],
        2: ["ad-01", "dns-01", "legacy web (old)", "nfs-01"],
        3: [
            "crm-app-01",
            "crm-db-01",
            "crm-web-01",
            "shop-app-01",
            "shop-app-02",
            "shop-db-01",
            "shop-db-02",
            "shop-web-01",
            "shop-web-02",
        ],
    }
    assert [w["risk"]["level"] for w in doc["waves"]] == ["Medium", "Medium", "High"]
    assert doc["anti_affinity"][0]["rule"] == "shop-db-separate"
    assert {s["vm"] for s in doc["shared_services"]} == {"ad-01", "dns-01", "nfs-01"}
    assert doc["cost"]["aws_monthly_usd"] < doc["cost"]["aws_as_is_monthly_usd"]
    # the contract's top-level shape (docs/waves-json.md)
    assert {"plan", "waves", "unplaced", "cross_wave"} <= set(doc)
    assert set(doc["waves"][0]) >= {"number", "name", "vms", "metrics", "risk", "rationale"}


def test_explain_pin_replan_and_diff(demo_ws: Path) -> None:
    assert migrator("waves", "plan", workspace=demo_ws).code == 0
    explained = migrator("waves", "explain", "crm-app-01", "--format", "json", workspace=demo_ws).json()
    assert explained["wave"] == 3
    assert {d["vm"] for d in explained["depends_on"]} == {"ad-01", "crm-db-01", "dns-01", "shop-app-01"}
    text = migrator("waves", "explain", "crm-app-01", workspace=demo_ws).stdout
    assert "crm-app-01 + crm-db-01: application-together: same application 'crm'" in text
    assert "depends on shop-app-01 (wave 3; tcp/8080" in text

    kubevirt = migrator("waves", "plan", "--target", "kubevirt", workspace=demo_ws)
    assert "Sized cores" in kubevirt.stdout and "AWS $/month" not in kubevirt.stdout
    assert (
        "compared with plan 1: 0 VM(s) moved, 0 added, 0 removed (migrator waves diff 1 2)" in kubevirt.stderr
    )
    pinned = migrator("waves", "pin", "legacy web (old)", "--wave", "4", workspace=demo_ws)
    assert pinned.code == 0 and "pinned legacy web (old) to wave 4" in pinned.stdout
    pins = migrator("waves", "pins", "--format", "json", workspace=demo_ws).json()
    assert pins == [{"vm": "legacy web (old)", "wave": 4}]
    replanned = migrator("waves", "plan", "--format", "json", workspace=demo_ws).json()
    assert replanned["waves"][3]["vms"] == ["legacy web (old)"]
    diff = migrator("waves", "diff", "--format", "json", workspace=demo_ws).json()
    assert (diff["from_plan"], diff["to_plan"]) == (2, 3)
    assert diff["moved"] == [
        {
            "vm": "legacy web (old)",
            "from": 2,
            "to": 4,
            "why": "pinned to wave 4 by an architect (rule pins)",
            "pinned": True,
        }
    ]
    assert diff["pins"]["added"] == {"legacy web (old)": 4}
    table = migrator("waves", "diff", "1", "3", workspace=demo_ws)
    assert "pin legacy web (old) -> wave 4" in table.stdout
    assert (
        "parameter target: kubevirt -> aws" in migrator("waves", "diff", "2", "3", workspace=demo_ws).stdout
    )
    listed = migrator("waves", "list", "--format", "json", workspace=demo_ws).json()
    assert [p["id"] for p in listed] == [1, 2, 3]
    assert migrator("waves", "unpin", "legacy web (old)", workspace=demo_ws).code == 0
    one = migrator("waves", "show", "3", "--format", "json", "--plan", "1", workspace=demo_ws).json()
    assert one["number"] == 3 and "shop-db-01" in one["vms"]


def test_capacity_shortfall_is_reported_and_exits_incomplete(demo_ws: Path) -> None:
    result = migrator("waves", "plan", "--max-vms", "4", workspace=demo_ws)
    assert result.code == 7, result.stderr
    assert (
        "unplaced: move group of 6 VMs (shop-app-01, shop-app-02, shop-db-01, shop-db-02, shop-web-01, ...)"
        in result.stderr
    )
    assert "6 VMs > --max-vms 4 (smallest relaxation: --max-vms 6)" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: plan 1 stored with 6 unplaced VM(s)")
    doc = migrator("waves", "show", "--format", "json", workspace=demo_ws).json()
    assert {u["vm"] for u in doc["unplaced"]} == {
        f"shop-{t}-0{i}" for t in ("web", "app", "db") for i in (1, 2)
    }


def test_user_errors_are_one_line(tmp_path: Path, demo_ws: Path) -> None:
    empty = tmp_path / "empty"
    assert_one_line_error(migrator("waves", "show", workspace=empty), 6, "no wave plan yet")
    assert_one_line_error(migrator("waves", "plan", workspace=empty), 6, "no complete snapshot yet")
    assert_one_line_error(
        migrator("waves", "pin", "no-such-vm", "--wave", "2", workspace=demo_ws), 6, "no VM named"
    )
    assert_one_line_error(
        migrator("waves", "plan", "--bandwidth-mbps", "100", workspace=demo_ws),
        2,
        "--bandwidth-mbps and --window-hours go together",
    )
    assert_one_line_error(
        migrator("waves", "plan", "--target", "oci", workspace=demo_ws), 2, "use aws, azure, gcp or kubevirt"
    )
    assert migrator("waves", "plan", workspace=demo_ws).code == 0
    assert_one_line_error(
        migrator("waves", "explain", "ghost", workspace=demo_ws), 6, "no VM named 'ghost' in plan 1"
    )
    assert_one_line_error(migrator("waves", "show", "9", workspace=demo_ws), 6, "has no wave 9")
    assert_one_line_error(migrator("waves", "diff", workspace=demo_ws), 6, "no plan before plan 1")
    migrator("waves", "pin", "shop-web-01", "--wave", "1", workspace=demo_ws)
    migrator("waves", "pin", "shop-db-01", "--wave", "2", workspace=demo_ws)
    assert_one_line_error(migrator("waves", "plan", workspace=demo_ws), 2, "pins conflict")


def test_graph_export_formats(demo_ws: Path, tmp_path: Path) -> None:
    graphml = tmp_path / "g.graphml"
    result = migrator("graph", "export", "--format", "graphml", "-o", str(graphml), workspace=demo_ws)
    assert result.code == 0 and "wrote 19 nodes" in result.stderr
    g = nx.read_graphml(graphml)
    edge = g.edges["shop-app-01", "shop-db-01"]
    assert edge["ports"] == "tcp/5432" and edge["depends"] is True and edge["bytes"] == 50 * 10**9
    assert g.nodes["ext:203.0.113.50"]["kind"] == "external"
    assert "drs-affinity" in edge["kinds"]
    data = migrator("graph", "export", "--format", "json", workspace=demo_ws).json()
    assert data["anti_affinity"] == [
        {
            "rule": "shop-db-separate",
            "cluster": "Prod-Cluster",
            "vms": ["shop-db-01", "shop-db-02"],
            "mandatory": False,
        }
    ]
    dot = migrator("graph", "export", "--format", "dot", workspace=demo_ws).stdout
    assert (
        dot.startswith("digraph dependencies {")
        and '"shop-web-01" -> "shop-app-01" [label="tcp/8080"];' in dot
    )
    # names with quotes and newlines stay inside their DOT string
    assert '"Lagerverwaltung Prüfstand 01" [label="Lagerverwaltung Prüfstand 01\\nlager"];' in dot


def test_size_command(demo_ws: Path) -> None:
    doc = migrator("size", "--format", "json", workspace=demo_ws).json()
    by_vm = {s["vm"]: s for s in doc["vms"]}
    assert doc["prices"]["region"] == "us-east-1" and "aws.amazon.com" in doc["prices"]["source"]
    off = by_vm["legacy web (old)"]
    assert off["coverage"] == "none" and off["basis"] == "as-is: no utilisation data"
    assert (off["vcpu"], off["memory_mb"], off["flags"]) == (1, 1024, ["sized as-is: no utilisation samples"])
    assert any("SQL Server" in f for f in by_vm["crm-db-01"]["flags"])
    assert by_vm["crm-db-01"]["os_family"] == "windows"
    assert doc["totals"]["aws_monthly_saving_usd"] == round(
        doc["totals"]["aws_as_is_monthly_usd"] - doc["totals"]["aws_monthly_usd"], 2
    )
    assert_one_line_error(migrator("size", "--percentile", "90", workspace=demo_ws), 2, "50, 95 or 100")


def test_inventory_import_rejects_bad_files(tmp_path: Path) -> None:
    cases = {
        "not-json.json": ("{not json", "not JSON (line 1"),
        "wrong-version.json": (json.dumps({"schema_version": 99, "vms": []}), "at schema_version"),
        "bad-vm.json": (
            json.dumps({"schema_version": 1, "vms": [{"name": "", "moref": "vm-1"}]}),
            "at vms/0/name",
        ),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        assert_one_line_error(migrator("import", "inventory", str(path), workspace=tmp_path), 2, message)
    assert migrator("snapshots", "list", "--format", "json", workspace=tmp_path).json() == []


@pytest.mark.postgres
def test_flows_and_plans_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    env = {"MIGRATOR_DB_URL": postgres_url}
    imports = [
        ("import", "inventory", str(FIXTURES / "inventories" / "demo.json")),
        ("import", "flows", str(FIXTURES / "flows" / "demo-flows.csv"), "--replace"),
    ]
    for args in imports:
        result = migrator(*args, env=env, workspace=tmp_path / "pg")
        assert result.code == 0, result.stderr
    on_pg = migrator("waves", "plan", "--format", "json", env=env, workspace=tmp_path / "pg")
    assert on_pg.code == 0, on_pg.stderr
    on_sqlite = migrator(
        "waves",
        "plan",
        "--format",
        "json",
        workspace=workspace_with(tmp_path / "lite", "demo.json", "demo-flows.csv"),
    )
    assert normalised(on_pg.json()) == normalised(on_sqlite.json())
    shown = migrator("waves", "show", "--format", "json", env=env, workspace=tmp_path / "pg").json()
    assert shown == on_pg.json()
