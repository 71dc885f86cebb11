"""`migrator edits` through the real CLI: a reviewer's edit is stored, applied by `migrator plan`,
listed in PLAN.md with its provenance and reverted; refused edits are kept with their
diagnostics; a pin is an edit; an edit that breaks a guardrail is refused at generation."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest

from agents.validator.tf_module import literal
from tests.golden import workspace_with
from tests.helpers import Result, assert_one_line_error, migrator, migrator_command


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    workspace = workspace_with(tmp_path / "ws", "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=workspace).code == 0
    return workspace


def wave_of(ws: Path, vm: str) -> int:
    shown = migrator("waves", "show", "--format", "json", workspace=ws).json()
    return int(shown["vms"][vm]["wave"])


def add(ws: Path, edit: dict[str, Any], *extra: str, who: str = "alice") -> Result:
    path = ws / "edit.json"
    path.write_text(json.dumps(edit), encoding="utf-8")
    return migrator("edits", "add", str(path), "--who", who, "--format", "json", *extra, workspace=ws)


def plan(ws: Path, wave: int, out: Path) -> tuple[Result, Path]:
    result = migrator(
        "plan",
        "--target",
        "terraform-aws",
        "--wave",
        str(wave),
        "--out",
        str(out),
        "--format",
        "json",
        workspace=ws,
    )
    return result, out / "terraform-aws" / f"wave-{wave:02d}"


def instance_type(folder: Path, ident: str) -> str:
    main = hcl2.loads((folder / "main.tf").read_text(encoding="utf-8"))
    for entry in main["resource"]:
        for rtype, named in entry.items():
            if literal(rtype) == "aws_instance" and ident in {literal(n) for n in named}:
                body = {literal(n): b for n, b in named.items()}[ident]
                return str(literal(body["instance_type"]))
    raise AssertionError(f"no aws_instance {ident}")


def test_reviewer_edit_is_applied_listed_in_plan_md_and_reverted(ws: Path, tmp_path: Path) -> None:
    wave = wave_of(ws, "crm-db-01")
    _, before = plan(ws, wave, tmp_path / "before")
    generated_type = instance_type(before, "crm_db_01")
    assert generated_type != "r6i.xlarge"
    who = "alice | `x` <b>"  # a reviewer's name is untrusted text in PLAN.md's table
    added = add(
        ws, {"kind": "instance-type", "vm": "crm-db-01", "instance_type": "r6i.xlarge"}, "--pr", "7", who=who
    )
    assert added.code == 0, added.stderr
    row = added.json()
    assert (row["status"], row["source"], row["who"], row["pr"], row["change"]) == (
        "applied",
        "reviewer",
        who,
        7,
        "crm-db-01: instance type r6i.xlarge",
    )
    listed = migrator("edits", "list", "--format", "json", workspace=ws).json()
    assert listed == [row]
    assert migrator("edits", "show", str(row["id"]), "--format", "json", workspace=ws).json() == row

    result, folder = plan(ws, wave, tmp_path / "edited")
    assert result.code == 0, result.stderr
    assert instance_type(folder, "crm_db_01") == "r6i.xlarge"
    plan_md = (folder / "PLAN.md").read_text(encoding="utf-8")
    stamp = row["created_at"][:16].replace("T", " ")
    assert "## Changes from the generated plan" in plan_md
    by = f"``reviewer alice \\| `x` <b>, {stamp} UTC, PR #7``"  # one code span, its pipe escaped
    assert f"| {row['id']} | `crm-db-01: instance type r6i.xlarge` | {by} |" in plan_md
    assert "## Changes from the generated plan" not in (before / "PLAN.md").read_text(encoding="utf-8")

    reverted = migrator("edits", "revert", str(row["id"]), "--format", "json", workspace=ws)
    assert reverted.code == 0, reverted.stderr
    assert reverted.json()["status"] == "reverted"
    _, again = plan(ws, wave, tmp_path / "again")
    assert instance_type(again, "crm_db_01") == generated_type
    assert (again / "PLAN.md").read_text(encoding="utf-8") == (before / "PLAN.md").read_text(encoding="utf-8")
    assert_one_line_error(
        migrator("edits", "revert", str(row["id"]), workspace=ws), 2, f"edit {row['id']} is reverted"
    )


def test_refused_edits_are_stored_with_their_diagnostics(ws: Path) -> None:
    ghost = add(ws, {"kind": "tags", "vm": "ghost-01", "tags": {"team": "x"}})
    assert_one_line_error(ghost, 8, "edit 1 refused: VM 'ghost-01' is not in plan 1")
    world = {
        "kind": "port-rule",
        "action": "add",
        "wave": 1,
        "group": "crm-web",
        "cidr": "0.0.0.0/0",
        "protocol": "tcp",
        "from_port": 22,
        "to_port": 22,
    }
    assert_one_line_error(
        add(ws, world), 8, "edit 2 refused: ", "to the whole internet (0.0.0.0/0) is refused"
    )
    unknown = add(ws, {"kind": "instance-type", "vm": "crm-db-01", "instance_type": "x9z.huge"})
    assert_one_line_error(
        unknown, 8, "edit 3 refused: instance_type: ", "'x9z.huge' is not in the instance catalogue"
    )
    disk = add(ws, {"kind": "volume", "vm": "crm-db-01", "disk": "disk-9", "size_gb": 50})
    assert_one_line_error(disk, 8, "edit 4 refused: VM 'crm-db-01' has no disk labelled 'disk-9'")
    refused = migrator("edits", "list", "--status", "refused", "--format", "json", workspace=ws).json()
    assert [(e["id"], e["kind"], e["status"], [d["rule"] for d in e["diagnostics"]]) for e in refused] == [
        (1, "tags", "refused", ["EDIT-NOT-IN-PLAN"]),
        (2, "port-rule", "refused", ["EDIT-INVALID"]),
        (3, "instance-type", "refused", ["EDIT-INVALID"]),
        (4, "volume", "refused", ["EDIT-NOT-IN-PLAN"]),
    ]
    assert migrator("edits", "list", "--status", "applied", "--format", "json", workspace=ws).json() == []
    assert refused[1]["edit"] == world  # what was asked is kept as asked


def test_an_edit_breaking_a_guardrail_is_refused_at_generation(ws: Path, tmp_path: Path) -> None:
    wave = wave_of(ws, "crm-web-01")
    edit = {
        "kind": "port-rule",
        "action": "add",
        "wave": wave,
        "group": "crm-web",
        "cidr": "0.0.0.0/0",
        "protocol": "tcp",
        "from_port": 22,
        "to_port": 22,
        "guardrail_exception": "vendor support needs SSH, CHG-991",
    }
    added = add(ws, edit)
    assert added.code == 0, added.stderr
    assert added.json()["status"] == "applied"
    result, folder = plan(ws, wave, tmp_path / "out")
    assert result.code == 0, result.stderr
    shown = migrator("edits", "show", str(added.json()["id"]), "--format", "json", workspace=ws).json()
    assert shown["status"] == "refused"
    assert "IAC-ADMIN-PORTS-WORLD" in {d["rule"] for d in shown["diagnostics"]}
    main = (folder / "main.tf").read_text(encoding="utf-8")
    assert "crm_web_tcp_22_" not in main  # the wave was generated without the refused edit
    assert "## Changes from the generated plan" not in (folder / "PLAN.md").read_text(encoding="utf-8")


def test_waves_pin_is_an_edit_and_reverting_it_unpins(ws: Path) -> None:
    assert migrator("waves", "pin", "crm-web-01", "--wave", "2", workspace=ws).code == 0
    assert migrator("waves", "pin", "crm-web-01", "--wave", "3", workspace=ws).code == 0
    edits = migrator("edits", "list", "--format", "json", workspace=ws).json()
    assert [(e["id"], e["kind"], e["source"], e["who"], e["status"], e["change"]) for e in edits] == [
        (1, "wave-pin", "pin", "waves pin", "reverted", "crm-web-01: pinned to wave 2"),
        (2, "wave-pin", "pin", "waves pin", "applied", "crm-web-01: pinned to wave 3"),
    ]
    assert migrator("waves", "pins", "--format", "json", workspace=ws).json() == [
        {"vm": "crm-web-01", "wave": 3}
    ]
    assert migrator("edits", "revert", "2", workspace=ws).code == 0
    assert migrator("waves", "pins", "--format", "json", workspace=ws).json() == []
    assert [e["status"] for e in migrator("edits", "list", "--format", "json", workspace=ws).json()] == [
        "reverted",
        "reverted",
    ]
    added = add(ws, {"kind": "wave-pin", "vm": "crm-app-01", "wave": 2})  # the same pin, as an edit
    assert added.code == 0, added.stderr
    assert (added.json()["id"], added.json()["source"], added.json()["change"]) == (
        3,
        "pin",
        "crm-app-01: pinned to wave 2",
    )
    assert migrator("waves", "pins", "--format", "json", workspace=ws).json() == [
        {"vm": "crm-app-01", "wave": 2}
    ]


def test_edits_add_reads_stdin_and_errors_are_one_line(ws: Path) -> None:
    edit = {"kind": "nic-model", "vm": "crm-app-01", "model": "e1000e"}
    proc = subprocess.run(
        migrator_command("edits", "add", "-", "--who", "bob", "--format", "json", workspace=ws),
        input=json.dumps(edit),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["edit"] == {**edit, "version": 1}
    bad = ws / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert_one_line_error(migrator("edits", "add", str(bad), "--who", "bob", workspace=ws), 2, "not JSON")
    bad.write_text('{"kind": "rewrite-main-tf"}', encoding="utf-8")
    assert_one_line_error(
        migrator("edits", "add", str(bad), "--who", "bob", workspace=ws), 2, "kind is one of"
    )
    assert_one_line_error(migrator("edits", "show", "99", workspace=ws), 6, "no plan edit with id 99")
    assert_one_line_error(migrator("edits", "list", "--status", "gone", workspace=ws), 2, "--status 'gone'")
    schema = migrator("edits", "schema", workspace=ws).json()
    assert "nic-model" in schema["discriminator"]["mapping"]


def test_cutover_window_lands_in_the_runbook_and_report_and_a_backwards_one_is_refused(
    ws: Path, tmp_path: Path
) -> None:
    wave = wave_of(ws, "crm-db-01")
    backwards = {
        "kind": "cutover-window",
        "wave": wave,
        "start": "2026-12-13T02:30:00Z",
        "end": "2026-12-12T22:00:00Z",
    }
    assert_one_line_error(
        add(ws, backwards),
        8,
        "edit 1 refused: ",
        "the window ends (2026-12-12 22:00 UTC) before it starts (2026-12-13 02:30 UTC)",
    )
    window = {**backwards, "start": "2026-12-12T23:00:00+01:00", "end": "2026-12-13T02:30:00Z"}
    added = add(ws, window)
    assert added.code == 0, added.stderr
    assert (
        added.json()["change"] == f"wave {wave}: cutover window 2026-12-12 22:00 UTC to 2026-12-13 02:30 UTC"
    )
    result, folder = plan(ws, wave, tmp_path / "out")
    assert result.code == 0, result.stderr
    plan_md = (folder / "PLAN.md").read_text(encoding="utf-8")
    runbook = plan_md.split("## Cutover runbook\n\n", 1)[1]
    assert runbook.startswith("1. Change window: 2026-12-12 22:00 to 2026-12-13 02:30 UTC (plan edit).\n")
    report = (folder / "REPORT.md").read_text(encoding="utf-8").splitlines()
    assert "- Cutover window: 2026-12-12 22:00 to 2026-12-13 02:30 UTC" in report


def test_anti_affinity_and_network_edits_naming_what_the_plan_lacks_are_refused(ws: Path) -> None:
    wave = wave_of(ws, "crm-db-01")
    spread = {"kind": "anti-affinity", "wave": wave, "name": "crm", "vms": ["crm-db-01", "ghost-01"]}
    assert_one_line_error(
        add(ws, spread), 8, f"edit 1 refused: VM(s) 'ghost-01' not in wave {wave} of plan 1"
    )
    nic = {"kind": "network", "vm": "crm-db-01", "nic": "Network adapter 9", "network": "db"}
    assert_one_line_error(
        add(ws, nic), 8, "edit 2 refused: VM 'crm-db-01' has no NIC labelled 'Network adapter 9' on a network"
    )
    refused = migrator("edits", "list", "--status", "refused", "--format", "json", workspace=ws).json()
    assert [(e["kind"], [d["rule"] for d in e["diagnostics"]]) for e in refused] == [
        ("anti-affinity", ["EDIT-NOT-IN-PLAN"]),
        ("network", ["EDIT-NOT-IN-PLAN"]),
    ]
