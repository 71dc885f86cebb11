"""`import cmdb` and `drift`: a CMDB export read by header name, hostile files refused with nothing
stored, business facts feeding the planner with provenance, and CMDB-vs-vCenter drift."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from migrator.app.cmdb import drift, import_cmdb
from migrator.app.cmdb_csv import read_cmdb
from migrator.app.planning import plan_waves
from migrator.errors import InputFileError, NotFound
from tests.conftest import fresh_pg_database
from tests.drift_helpers import DEMO, demo_workspace
from tests.helpers import assert_one_line_error, migrator
from waves.parameters import PlanParameters

# ServiceNow display labels as an export writes them (docs/drift.md lists the accepted headers)
HEADER = [
    "Name",
    "u_application",
    "Environment",
    "Owned by",
    "Busines criticality",
    "Operational status",
    "CPU count",
    "RAM (MB)",
    "IP Address",
    "Support group",
]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def demo_cmdb(tmp: Path) -> Path:
    return write_csv(
        tmp / "cmdb.csv",
        [
            # agrees with vCenter
            [
                "crm-web-01",
                "crm",
                "prod",
                "team-sales",
                "3 - less critical",
                "1",
                "2",
                "8192",
                "10.0.110.41",
                "web",
            ],
            # CPU, memory and IP differ; application disagrees with the vCenter attribute
            [
                "CRM-DB-01",
                "billing",
                "prod",
                "dba",
                "1 - most critical",
                "1",
                "16",
                "65536",
                "10.0.130.99",
                "dba",
            ],
            # the VM vCenter states nothing about: the CMDB fills application, environment, owner
            ["legacy web (old)", "crm", "prod", "=cmd|' /C calc'!A0", "", "1", "1", "1 GB", "", ""],
            # matched by host name, not VM name
            ["shop-db-02.corp.example", "shop", "prod", "team-shop", "", "1", "8", "32768", "", ""],
            # CIs with no VM: one live, one retired (not drift)
            ["ghost-01", "crm", "prod", "x", "", "1", "2", "2048", "10.9.9.9", ""],
            ["old-01", "crm", "prod", "x", "", "6", "", "", "", ""],
        ],
    )


def test_reads_by_header_name_with_servicenow_labels(tmp_path: Path) -> None:
    parsed = read_cmdb(demo_cmdb(tmp_path))
    assert parsed.columns == {
        "name": "Name",
        "application": "u_application",
        "environment": "Environment",
        "owner": "Owned by",
        "support_group": "Support group",
        "criticality": "Busines criticality",
        "operational_status": "Operational status",
        "cpu": "CPU count",
        "memory_mb": "RAM (MB)",
        "ip_addresses": "IP Address",
    }
    legacy = next(i for i in parsed.items if i["name"] == "legacy web (old)")
    assert legacy["owner"] == "=cmd|' /C calc'!A0"  # kept as text: data, never a formula
    assert legacy["memory_mb"] == 1024 and legacy["cpu"] == 1 and legacy["ip_addresses"] == []
    db = next(i for i in parsed.items if i["name"] == "CRM-DB-01")
    assert (db["cpu"], db["memory_mb"], db["ip_addresses"]) == (16, 65536, ["10.0.130.99"])


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"Application,Owner\ncrm,x\n", "no name column"),
        (b"", "empty file"),
        (b"name,cpu_count\n\xff\xfebad,2\n", "not UTF-8 text"),
        (b"name,cpu_count\nvm-1,two\n", "row 2: cpu 'two' is not a whole number"),
        (b"name,ram\nvm-1,lots\n", "row 2: memory 'lots' is not a size"),
        (b"name,ip_address\nvm-1,10.0.0.300\n", "row 2: ip_address '10.0.0.300' is not an IP address"),
        (b'name,owner\nvm-1,"unterminated\x00\n', "NUL bytes"),
        (b"name,owner\n,nobody\n", "no configuration items"),
    ],
)
def test_malformed_files_fail_with_one_line_and_store_nothing(
    tmp_path: Path, content: bytes, fragment: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    ws_dir = tmp_path / "ws"
    result = migrator("import", "cmdb", str(path), workspace=ws_dir)
    assert_one_line_error(result, 2, fragment)
    ws = demo_workspace(tmp_path / "w2")
    with pytest.raises(InputFileError):
        import_cmdb(ws, path)
    assert ws.cmdb.latest() is None


def test_a_huge_field_is_refused_at_the_limit(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "huge.csv", [["vm-1", "x" * 70_000]], ["name", "application"])
    assert_one_line_error(
        migrator("import", "cmdb", str(path), workspace=tmp_path / "ws"), 2, "MIGRATOR_LIMIT_STRING_CHARS"
    )
    too_many = write_csv(tmp_path / "rows.csv", [[f"vm-{i}"] for i in range(5)], ["name"])
    result = migrator(
        "import", "cmdb", str(too_many), workspace=tmp_path / "ws", env={"MIGRATOR_LIMIT_ROWS_CSV": "3"}
    )
    assert_one_line_error(result, 2, "rows exceeds the limit of 3")


def test_cmdb_facts_feed_the_plan_with_provenance_and_never_override_inventory(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    before = plan_waves(ws, PlanParameters()).document
    assert before["vms"]["legacy web (old)"]["app"] is None
    assert before["vms"]["legacy web (old)"]["wave"] != before["vms"]["crm-web-01"]["wave"]

    result = import_cmdb(ws, demo_cmdb(tmp_path))
    assert (result.items, result.matched) == (6, 4)
    after = plan_waves(ws, PlanParameters()).document

    legacy = after["vms"]["legacy web (old)"]
    assert (legacy["app"], legacy["env"], legacy["owner"]) == ("crm", "prod", "=cmd|' /C calc'!A0")
    assert legacy["sources"] == {
        "app": "CMDB u_application (cmdb.csv)",
        "env": "CMDB Environment (cmdb.csv)",
        "owner": "CMDB Owned by (cmdb.csv)",
    }
    # declared one application in the CMDB: it now moves with the rest of crm
    assert legacy["wave"] == after["vms"]["crm-web-01"]["wave"]
    assert any(link["rule"] == "application-together" for link in legacy["tied_by"])
    # vCenter states crm-db-01's application and criticality: the CMDB's "billing" does not win
    db = after["vms"]["crm-db-01"]
    assert (db["app"], db["sources"]["app"]) == ("crm", "custom attribute app")
    assert db["sources"]["criticality"] == "tag Criticality:high"
    # the stated size is what the plan sizes, whatever the CMDB expects
    wave = next(w for w in after["waves"] if "crm-db-01" in w["vms"])
    stated = {vm["name"]: vm["num_cpu"] for vm in json.loads(DEMO.read_text())["vms"]}
    assert stated["crm-db-01"] == 8
    assert wave["metrics"]["vcpu"] == sum(stated[name] for name in wave["vms"])


def test_explain_shows_where_each_fact_came_from(tmp_path: Path) -> None:
    ws_dir = tmp_path / "ws"
    assert migrator("import", "inventory", str(DEMO), workspace=ws_dir).code == 0
    imported = migrator("import", "cmdb", str(demo_cmdb(tmp_path)), "--format", "json", workspace=ws_dir)
    assert imported.code == 0, imported.stderr
    assert imported.json()["matched"] == 4
    assert migrator("waves", "plan", workspace=ws_dir).code == 0
    text = migrator("waves", "explain", "legacy web (old)", workspace=ws_dir)
    assert "  app: crm (from CMDB u_application (cmdb.csv))" in text.stdout
    assert "  owner: =cmd|' /C calc'!A0 (from CMDB Owned by (cmdb.csv))" in text.stdout


def test_drift_lists_exact_disagreements(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    with pytest.raises(NotFound):
        drift(ws)
    import_cmdb(ws, demo_cmdb(tmp_path))
    report = drift(ws).as_dict()
    assert report["counts"] == {"mismatch": 3, "ci-without-vm": 1, "vm-without-ci": 12}
    mismatches = [
        (i["name"], i["field"], i["cmdb"], i["vcenter"], i["ci"])
        for i in report["items"]
        if i["kind"] == "mismatch"
    ]
    assert mismatches == [
        ("crm-db-01", "cpu", 16, 8, "CRM-DB-01"),
        ("crm-db-01", "ip_addresses", ["10.0.130.99"], ["10.0.130.43"], "CRM-DB-01"),
        ("crm-db-01", "application", "billing", "crm", "CRM-DB-01"),
    ]
    assert [i["name"] for i in report["items"] if i["kind"] == "ci-without-vm"] == ["ghost-01"]
    without = [i["name"] for i in report["items"] if i["kind"] == "vm-without-ci"]
    assert "crm-web-01" not in without and "shop-db-02" not in without and "ad-01" in without


def test_drift_cli_json_csv_and_no_cmdb(tmp_path: Path) -> None:
    ws_dir = tmp_path / "ws"
    assert migrator("import", "inventory", str(DEMO), workspace=ws_dir).code == 0
    assert_one_line_error(migrator("drift", workspace=ws_dir), 6, "no CMDB imported yet")
    assert migrator("import", "cmdb", str(demo_cmdb(tmp_path)), workspace=ws_dir).code == 0
    data = migrator("drift", "--format", "json", workspace=ws_dir).json()
    assert data["cmdb_origin"] == "cmdb.csv" and data["snapshot_id"] == 1
    hostile = write_csv(tmp_path / "h.csv", [['=HYPERLINK("http://x")']], ["name"])
    assert migrator("import", "cmdb", str(hostile), workspace=ws_dir).code == 0
    out = migrator("drift", "--format", "csv", workspace=ws_dir).stdout
    assert "'=HYPERLINK" in out and "\n=HYPERLINK" not in out and ",=HYPERLINK" not in out


@pytest.mark.postgres
def test_import_and_drift_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    url = fresh_pg_database(postgres_url, "migrator_cmdb")
    ws = demo_workspace(tmp_path, url)
    bad = write_csv(tmp_path / "bad.csv", [["vm-1", "", "", "", "", "", "many"]])
    with pytest.raises(InputFileError):
        import_cmdb(ws, bad)
    assert ws.cmdb.latest() is None
    import_cmdb(ws, demo_cmdb(tmp_path))
    assert drift(ws).as_dict()["counts"] == {"mismatch": 3, "ci-without-vm": 1, "vm-without-ci": 12}
    ws.close()


def test_the_demo_cmdb_of_the_readme(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    result = import_cmdb(ws, Path(__file__).resolve().parents[1] / "fixtures" / "cmdb" / "demo-cmdb.csv")
    assert (result.items, result.matched, result.warnings) == (6, 5, [])
    items = drift(ws).items
    assert [(i.kind, i.name, i.field, i.cmdb, i.vcenter) for i in items if i.kind != "vm-without-ci"] == [
        ("mismatch", "crm-db-01", "cpu", 16, 8),
        ("ci-without-vm", "intranet-01", None, None, None),
    ]
