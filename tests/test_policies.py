"""The policy pack as a whole: unique ids, complete metadata, fixtures that behave, docs that
describe every policy, and the commands that expose it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policies.docs import render_markdown
from policies.engine import blocking, source_findings
from policies.registry import FAMILIES, REQUIRED_METADATA, SCOPES, SEVERITIES, fixtures, policies
from policies.selftest import run_fixtures
from tests.golden import FIXTURES, workspace_with
from tests.helpers import assert_one_line_error, migrator

ROOT = Path(__file__).parents[1]
FORKLIFT_CONCERNS = {
    "SRC-PASSTHROUGH",
    "SRC-RDM",
    "SRC-SHARED-DISK",
    "SRC-INDEPENDENT-DISK",
    "SRC-SNAPSHOTS",
    "SRC-CBT-DISABLED",
    "SRC-USB",
    "SRC-SRIOV",
    "SRC-VTPM",
    "SRC-HOT-PLUG",
    "SRC-CPU-NUMA-AFFINITY",
    "SRC-FAULT-TOLERANCE",
    "SRC-NO-GUEST-IP",
    "SRC-DEFAULT-HOSTNAME",
    "SRC-INVALID-NAME",
    "SRC-UNSUPPORTED-OS",
    "SRC-TOO-MANY-DISKS",
    "SRC-CONSOLIDATION-NEEDED",
    "SRC-DRS-DPM",
    "SRC-VM-HOST-AFFINITY",
    "SRC-DISK-WITHOUT-DATASTORE",
    "SRC-ZERO-CAPACITY-DISK",
}
GUARDRAILS = {
    "IAC-ENCRYPTION-AT-REST",
    "IAC-IMDSV2",
    "IAC-ADMIN-PORTS-WORLD",
    "IAC-DATABASE-PORTS-WORLD",
    "IAC-REQUIRED-TAGS",
    "IAC-NO-PROVISIONERS",
    "IAC-DATABASE-NOT-PUBLIC",
    "IAC-REPLICA-ANTI-AFFINITY",
    "IAC-NO-INLINE-SECRETS",
    "IAC-NO-LATEST-IMAGES",
    "IAC-FORKLIFT-PLAN-VMS",
    "IAC-FORKLIFT-MAPPED",
    "IAC-FORKLIFT-NO-CREDENTIALS",
    "IAC-FORKLIFT-HOOKS",
    "IAC-AZURE-DISK-ENCRYPTION",
    "IAC-GOOGLE-DISK-ENCRYPTION",
}


def test_registry_ids_metadata_and_files() -> None:
    found = policies()
    ids = [p.id for p in found]
    assert len(ids) == len(set(ids)), "policy ids must be unique"
    assert {p.id for p in policies("source")} == FORKLIFT_CONCERNS
    assert {p.id for p in policies("iac")} == GUARDRAILS
    for p in found:
        assert p.family in FAMILIES and p.id.startswith("SRC-" if p.family == "source" else "IAC-")
        for key in REQUIRED_METADATA:
            assert str(p.metadata.get(key, "")).strip(), (p.id, key)
        assert p.severity in SEVERITIES
        assert p.package.endswith(Path(p.file).stem), "one policy per file, named after its package"
        if p.family == "source":
            assert p.metadata["vsphere_path"] and set(p.metadata["targets"]) == {
                "kubevirt",
                "terraform-aws",
                "terraform-azure",
            }
        else:
            assert set(p.metadata["applies_to"]) <= {"terraform", "kubernetes"}
            assert p.scope in SCOPES, (p.id, "every guardrail states whose code it judges")
    # the guardrails that check migrator's own conventions, and only those, judge only its output
    assert {p.id for p in policies("iac") if p.scope == "generated"} == {
        "IAC-REQUIRED-TAGS",
        "IAC-NO-PROVISIONERS",
        "IAC-REPLICA-ANTI-AFFINITY",
        "IAC-FORKLIFT-PLAN-VMS",  # they read the source-facts ConfigMap only migrator writes
        "IAC-FORKLIFT-MAPPED",
        "IAC-FORKLIFT-HOOKS",  # a wave's hooks are applied with its Plan; elsewhere they may not be
    }


def test_every_policy_has_fixtures_that_behave() -> None:
    results = run_fixtures()
    assert len(results) == 2 * len(policies())
    assert [r for r in results if not r.ok] == []
    for p in policies():
        data = fixtures(p.id)
        assert data is not None and data["fail"]["expect"], p.id


def test_docs_describe_every_policy() -> None:
    text = (ROOT / "docs" / "policies.md").read_text(encoding="utf-8")
    assert [p.id for p in policies() if f"`{p.id}`" not in text] == []
    assert text == render_markdown(), "docs/policies.md is stale: run `make docs`"


def test_findings_on_the_demo_estate() -> None:
    inventory = json.loads((FIXTURES / "inventories" / "demo.json").read_text(encoding="utf-8"))
    found = source_findings(inventory["vms"], inventory["clusters"], "kubevirt")
    by_vm = {(f.vm, f.policy) for f in found}
    assert ("crm-db-01", "SRC-INDEPENDENT-DISK") in by_vm
    assert ("crm-db-01", "SRC-VM-HOST-AFFINITY") in by_vm
    assert ("shop-db-01", "SRC-SNAPSHOTS") in by_vm
    assert ("legacy web (old)", "SRC-UNSUPPORTED-OS") in by_vm
    assert ("crm-app-01", "SRC-HOT-PLUG") in by_vm
    assert ("shop-app-01", "SRC-CBT-DISABLED") not in by_vm  # it has CBT on
    assert blocking(found) == {}  # nothing critical in the demo estate


def test_minimal_input_survives_every_policy() -> None:
    """Every field missing: defaults must not reach a message (see docs/policies.md)."""
    found = source_findings([{"name": "bare"}, {"name": "disks", "disks": [{}]}], [{"name": "c"}], "kubevirt")
    assert {f.vm for f in found} == {"bare", "disks"}


def test_hostile_names_survive_the_policy_engine() -> None:
    names = ['a"b\\c', "line\nbreak", "${x} %{y}", "\u202eevil", "x" * 3000]
    vms = [{"name": n, "snapshot_count": 1, "disks": []} for n in names]
    found = source_findings(vms, [], "kubevirt")
    assert {f.vm for f in found if f.policy == "SRC-SNAPSHOTS"} == set(names)


@pytest.fixture(scope="module")
def planned_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = workspace_with(tmp_path_factory.mktemp("ws"), "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0
    return ws


def test_policies_commands() -> None:
    listed = migrator("policies", "list", "--format", "json")
    assert listed.code == 0
    assert {p["id"] for p in listed.json()} == FORKLIFT_CONCERNS | GUARDRAILS
    tested = migrator("policies", "test", "--format", "json")
    assert (
        tested.code == 0 and tested.json()["failed"] == 0 and tested.json()["passed"] == 2 * len(policies())
    )


def test_findings_command(planned_ws: Path) -> None:
    everything = migrator("findings", "--format", "json", "--target", "terraform-aws", workspace=planned_ws)
    assert everything.code == 0
    rows = everything.json()
    assert {"vm", "severity", "policy", "message", "meaning", "vsphere_path"} <= set(rows[0])
    one = migrator("findings", "crm-db-01", "--format", "json", workspace=planned_ws).json()
    assert {r["vm"] for r in one} == {"crm-db-01"} and len(one) >= 2
    wave = migrator("findings", "--wave", "1", "--format", "json", workspace=planned_ws).json()
    assert {r["vm"] for r in wave} <= {"Lagerverwaltung Prüfstand 01", "payroll-app-dev", "payroll-db-dev"}
    assert wave
    assert_one_line_error(migrator("findings", "nope", workspace=planned_ws), 6, "nope")
    assert_one_line_error(migrator("findings", "--wave", "9", workspace=planned_ws), 6, "wave 9")
    assert_one_line_error(migrator("findings", "--target", "gcp", workspace=planned_ws), 2, "--target")


def test_plan_command_errors(planned_ws: Path, tmp_path: Path) -> None:
    assert_one_line_error(migrator("plan", "--target", "azure", workspace=planned_ws), 2, "--target 'azure'")
    assert_one_line_error(
        migrator("plan", "--target", "kubevirt", "--wave", "7", "--out", str(tmp_path), workspace=planned_ws),
        6,
        "wave 7",
    )
    empty = tmp_path / "empty-ws"
    assert_one_line_error(migrator("plan", "--target", "kubevirt", workspace=empty), 6, "no wave plan")


def test_plan_one_wave_stores_its_diagnostics(planned_ws: Path, tmp_path: Path) -> None:
    result = migrator(
        "plan",
        "--target",
        "kubevirt",
        "--wave",
        "2",
        "--out",
        str(tmp_path),
        "--format",
        "json",
        workspace=planned_ws,
    )
    assert result.code == 0, result.stderr
    (wave,) = result.json()["waves"]
    assert wave["wave"] == 2 and wave["status"] == "clean"
    # no vCenter URL and no storage class were given: the transpiler says so, as warnings, and the
    # report shows them and, per VM, how Forklift will read its disks (info)
    assert [d["rule"] for d in wave["diagnostics"]] == [
        "KV-VDDK-SETTING-MISSING",
        "FORKLIFT-STORAGE-CLASS",
    ] + ["FORKLIFT-TRANSFER-PATH"] * 4 + ["FORKLIFT-HOOKS"]  # halted VMs: why no hook (info)
    assert "KV-VDDK-SETTING-MISSING" in (tmp_path / "kubevirt" / "wave-02" / "REPORT.md").read_text(
        encoding="utf-8"
    )
    assert not list((tmp_path / "kubevirt").glob(".wave-*"))  # no staging folder left behind
