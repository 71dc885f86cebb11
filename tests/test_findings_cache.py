"""The findings cache: whole-snapshot findings computed once per snapshot, target and policy
bundle (real SQLite, real Rego), read back unchanged for a VM, a wave or the estate, and never
served for another snapshot or another bundle. Also: the source policies see only a batch's
clusters and DRS rules, with the same findings as when every cluster is sent."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

import policies.engine as engine
from migrator.app import findings as app_findings
from migrator.app.findings import FindingsQuery, findings_of, findings_summary, list_findings
from migrator.app.planning import plan_waves
from migrator.app.snapshots import store_inventory
from migrator.app.workspace import Workspace
from migrator.inventory_import import read_export
from policies.engine import source_findings
from tests.drift_helpers import demo_workspace
from tests.policy_reference import reference_findings
from waves.parameters import PlanParameters
from waves.synthetic import generate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = demo_workspace(tmp_path)
    plan_waves(workspace, PlanParameters())
    return workspace


def fresh(ws: Workspace, target: str | None = None) -> list[engine.Finding]:
    snap = ws.store.get(None)
    assert snap.id is not None
    return source_findings(
        list(ws.store.records(snap.id, "vms")), list(ws.store.records(snap.id, "clusters")), target
    )


def test_the_estate_is_evaluated_once_then_read_from_the_cache(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = fresh(ws)
    assert expected, "the demo estate has findings"
    assert list_findings(ws, FindingsQuery()).findings == expected
    snap_id = ws.store.get(None).id
    assert snap_id is not None
    entry = ws.findings_cache.entry(app_findings._key(snap_id, None))
    assert entry is not None
    assert sum(entry.counts.values()) == len(expected)

    def no_rego(*args: object, **kwargs: object) -> list[engine.Finding]:
        raise AssertionError("the cached entry should have answered")

    monkeypatch.setattr(app_findings, "source_findings", no_rego)
    assert list_findings(ws, FindingsQuery()).findings == expected
    summary = findings_summary(ws)
    assert summary.counts == {
        s: sum(1 for f in expected if f.severity == s) for s in ("critical", "warning", "info")
    }
    name = expected[0].vm
    assert list_findings(ws, FindingsQuery(vm=name)).findings == [f for f in expected if f.vm == name]
    doc = ws.plans.get(None)
    for wave in doc["waves"]:
        members = set(wave["vms"])
        got = list_findings(ws, FindingsQuery(wave=wave["number"])).findings
        assert got == [f for f in expected if f.vm in members]
        assert findings_of(ws, wave["vms"]).findings == got


def test_without_an_entry_a_vm_or_a_wave_is_evaluated_alone_and_nothing_is_stored(ws: Workspace) -> None:
    expected = fresh(ws, "kubevirt")
    name = expected[0].vm
    assert list_findings(ws, FindingsQuery(vm=name, target="kubevirt")).findings == [
        f for f in expected if f.vm == name
    ]
    snap_id = ws.store.get(None).id
    assert snap_id is not None
    assert ws.findings_cache.entry(app_findings._key(snap_id, "kubevirt")) is None
    # a target has its own entry: the meaning text differs
    assert list_findings(ws, FindingsQuery(target="kubevirt")).findings == expected
    assert ws.findings_cache.entry(app_findings._key(snap_id, "kubevirt")) is not None
    assert ws.findings_cache.entry(app_findings._key(snap_id, None)) is None


def test_a_new_snapshot_or_another_policy_bundle_is_never_served_an_old_entry(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = findings_summary(ws)
    export = read_export(FIXTURES / "inventories" / "demo.json")
    clean = [copy.deepcopy(vm) for vm in export.vms[:1]]
    clean[0]["snapshot_count"] = 9  # a new finding the first snapshot did not have
    store_inventory(ws, "import", "one.json", type(export)(vms=clean, clusters=export.clusters))
    after = findings_summary(ws)
    assert after.snapshot_id != before.snapshot_id
    assert list_findings(ws, FindingsQuery()).findings == fresh(ws)
    assert sum(after.counts.values()) == len(fresh(ws))
    assert sum(after.counts.values()) < sum(before.counts.values())

    monkeypatch.setattr(app_findings, "bundle_digest", lambda family: "an edited policy pack")
    assert ws.findings_cache.entry(app_findings._key(after.snapshot_id, None)) is None
    assert findings_summary(ws).counts == after.counts
    assert ws.findings_cache.entry(app_findings._key(after.snapshot_id, None)) is not None


def test_drs_rules_of_another_cluster_reach_the_vms_they_name() -> None:
    estate = generate(130)
    vms = [vm for vm in estate.vms if not vm.get("template")]
    clusters = copy.deepcopy(estate.clusters)
    clusters[0]["drs_enabled"] = True
    clusters[-1]["dpm_enabled"] = True
    # vm-host rules in a cluster that is not the VMs' own, naming VMs far apart in the list
    far = [vms[3]["name"], vms[57]["name"], vms[101]["name"]]
    clusters.append(
        {
            "name": "Licensing",
            "moref": "domain-c999",
            "drs_rules": [{"name": "sql-hosts", "kind": "vm-host", "vms": far, "hosts": ["h1", "h2"]}],
        }
    )
    found = source_findings(vms, clusters, "terraform-aws")
    assert found == reference_findings(vms, clusters, "terraform-aws")  # the old per-batch path
    assert {f.vm for f in found if f.policy == "SRC-VM-HOST-AFFINITY"} == set(far)
    assert any(f.policy == "SRC-DRS-DPM" for f in found)


def test_the_cli_and_the_dashboard_share_one_entry(ws: Workspace) -> None:
    """`migrator findings` (a real subprocess) fills the entry the dashboard's overview reads."""
    from migrator.web.app import create_app
    from migrator.web.security import Guard
    from tests.helpers import migrator
    from tests.web_helpers import local_client

    folder = ws.settings.workspace
    listed = migrator("findings", "--format", "json", workspace=folder)
    assert listed.code == 0, listed.stderr
    snap_id = ws.store.get(None).id
    assert snap_id is not None
    entry = ws.findings_cache.entry(app_findings._key(snap_id, None))
    assert entry is not None and sum(entry.counts.values()) == len(fresh(ws))
    overview = local_client(create_app(ws, Guard())).get("/api/overview").json()
    assert overview["findings"]["counts"] == {
        s: entry.counts.get(s, 0) for s in ("critical", "warning", "info")
    }


def test_a_new_snapshot_evaluates_only_the_vms_whose_facts_changed(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next discovery of the same estate (real SQLite, real Rego): the findings of unchanged
    VMs come from the earlier snapshot's entry, the changed VM is evaluated, and the result is
    what a whole evaluation gives."""
    findings_summary(ws, "terraform-aws")  # the first snapshot's entry
    export = read_export(FIXTURES / "inventories" / "demo.json")
    vms = copy.deepcopy(export.vms)
    changed = next(vm for vm in vms if not vm.get("template"))
    changed["snapshot_count"] = int(changed.get("snapshot_count") or 0) + 4
    store_inventory(ws, "import", "next.json", type(export)(vms=vms, clusters=export.clusters))
    evaluated: list[str] = []
    whole = engine._evaluate_all

    def spy(part: list[dict[str, object]], *args: object) -> list[engine.Finding]:
        evaluated.extend(str(vm["name"]) for vm in part)
        return whole(part, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "_evaluate_all", spy)
    found = list_findings(ws, FindingsQuery(target="terraform-aws")).findings
    assert evaluated == [changed["name"]]
    monkeypatch.setattr(engine, "_evaluate_all", whole)
    assert found == fresh(ws, "terraform-aws")
    assert any(f.vm == changed["name"] and f.policy == "SRC-SNAPSHOTS" for f in found)
    # another target has no earlier entry: the whole estate is evaluated
    monkeypatch.setattr(engine, "_evaluate_all", spy)
    evaluated.clear()
    list_findings(ws, FindingsQuery(target="kubevirt"))
    assert len(evaluated) == len(vms)
