"""The application layer used directly (as the dashboard and the PR lander will): a real SQLite
workspace, the demo inventory and flows, waves, code generation; errors that name their field."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from migrator.app.findings import FindingsQuery, list_findings
from migrator.app.generation import GenerateRequest, generate, select_waves
from migrator.app.inventory import size_snapshot, snapshot_vms
from migrator.app.planning import compare_plans, pin_vm, plan_waves, sizing_target
from migrator.app.snapshots import record_snapshot
from migrator.app.workspace import Workspace
from migrator.cli.flags import flag
from migrator.errors import ExitCode, Incomplete, InterruptedRun, NotFound, UsageError, VCenterError
from migrator.store.inventory import Inventory
from tests.drift_helpers import demo_workspace
from tests.helpers import assert_one_line_error, migrator
from transpilers.model import TargetOptions
from transpilers.registry import TARGETS, TRANSPILERS, option_specs, target_options
from waves.parameters import PlanParameters
from waves.sizing import SizingParameters

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return demo_workspace(tmp_path)


def test_plan_and_generate_through_the_application_layer(ws: Workspace, tmp_path: Path) -> None:
    first = plan_waves(ws, PlanParameters(target="kubevirt"))
    assert first.change is None and first.incomplete() is None
    assert sum(len(w["vms"]) for w in first.document["waves"]) == 16
    assert pin_vm(ws, "CRM-WEB-01", 3) == "crm-web-01"  # the stored name, found case-insensitively
    second = plan_waves(ws, PlanParameters(target="kubevirt"))
    assert second.change is not None and second.change.previous_plan_id == first.plan_id
    assert second.document["vms"]["crm-web-01"]["wave"] == 3
    comparison = compare_plans(ws)
    assert (comparison.plan_a, comparison.plan_b) == (first.plan_id, second.plan_id)
    request = GenerateRequest(
        target="kubevirt",
        wave=3,
        out=tmp_path / "out",
        options={"namespace": "wave-three", "vddk_url": "https://vc.example/sdk", "vddk_thumbprint": "AA:BB"},
        use_tools=False,
    )
    result = generate(ws, request)
    assert [w.wave for w in result.waves] == [3]
    outcome = result.waves[0]
    assert outcome.out_dir == tmp_path / "out" / "kubevirt" / "wave-03"
    manifests = "".join(p.read_text() for p in outcome.out_dir.rglob("*.yaml"))
    assert "namespace: wave-three" in manifests and "kind: Plan" in manifests  # Forklift by default
    providers = (outcome.out_dir.parent / "forklift-providers.yaml").read_text()
    assert "namespace: wave-three" in providers and "url: https://vc.example/sdk" in providers
    assert (outcome.out_dir / "REPORT.md").is_file()
    assert result.as_dict()["waves"][0]["out_dir"] == str(outcome.out_dir)
    stored = ws.generated.latest(second.plan_id, "kubevirt")
    assert [(g["wave"], g["status"], g["out_dir"]) for g in stored] == [
        (3, outcome.status, str(outcome.out_dir))
    ]
    assert (result.incomplete() is None) == (outcome.status == "clean")


def test_inventory_findings_and_sizing_use_cases(ws: Workspace) -> None:
    selected = snapshot_vms(ws)
    assert len(selected.vms) == 16
    findings = list_findings(ws, FindingsQuery(vm="legacy web (old)", target="kubevirt"))
    assert findings.snapshot_id == selected.snapshot_id
    assert {f.vm for f in findings.findings} <= {"legacy web (old)"}
    sizing = size_snapshot(ws, SizingParameters(percentile=50))
    assert sizing.as_dict()["parameters"] == {"percentile": 50, "comfort": 1.3}
    assert len(sizing.vms) == 16


def test_errors_name_their_field_and_the_cli_its_flag(ws: Workspace) -> None:
    plan_waves(ws, PlanParameters())
    with pytest.raises(UsageError) as bad_wave:
        select_waves([], "three")
    assert bad_wave.value.field == "wave"
    assert bad_wave.value.message == "wave 'three': give a wave number or 'all'"
    assert bad_wave.value.render(flag) == "--wave 'three': give a wave number or 'all'"
    with pytest.raises(UsageError) as both:
        PlanParameters(bandwidth_mbps=100)
    assert both.value.fields == ("bandwidth_mbps", "window_hours")
    assert both.value.render(flag) == "--bandwidth-mbps and --window-hours go together"
    with pytest.raises(UsageError) as target:
        generate(ws, GenerateRequest(target="azure"))
    assert target.value.field == "target"
    with pytest.raises(NotFound):
        generate(ws, GenerateRequest(target="kubevirt", wave=99, use_tools=False))
    # Text that merely looks like a placeholder is left alone when the error names no field.
    assert VCenterError("VM {wave} {x}").message == "VM {wave} {x}"


def test_cli_shows_the_flag_of_a_field(tmp_path: Path) -> None:
    result = migrator("waves", "plan", "--max-vms", "0", workspace=tmp_path)
    assert_one_line_error(result, ExitCode.USAGE, "--max-vms must be at least 1")
    result = migrator("flows", "collect", "--listen", "nowhere", workspace=tmp_path)
    assert_one_line_error(result, ExitCode.USAGE, "--listen 'nowhere': expected HOST:PORT")


def test_snapshot_sequence_records_failures_and_interruptions(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path)

    def broken() -> Inventory:
        raise VCenterError("login refused")

    def interrupted() -> Inventory:
        raise KeyboardInterrupt

    with pytest.raises(VCenterError):
        record_snapshot(ws, "vcenter", "vc1", broken)
    with pytest.raises(
        InterruptedRun, match=r"^interrupted \(Ctrl-C\) during discovery: the run is recorded"
    ):
        record_snapshot(ws, "vcenter", "vc1", interrupted, what="discovery")
    done = record_snapshot(ws, "vcenter", "vc1", lambda: Inventory(vms=[], warnings=["w"]))
    assert done.warnings == ["w"]
    rows = [(s.id, s.status, s.error) for s in ws.store.list()]
    assert rows == [
        (1, "failed", "login refused"),
        (2, "interrupted", "interrupted by the user"),
        (3, "complete", None),
    ]


def test_targets_and_their_options_come_from_the_registry() -> None:
    assert TARGETS == (
        "terraform-aws",
        "kubevirt",
        "terraform-azure",
        "terraform-google",
        "terraform-openstack",
    )
    defaults = TargetOptions()
    declared = option_specs()
    for name, (spec, targets) in declared.items():
        assert getattr(defaults, name) == spec.default, name  # the declaration states the real default
        assert targets and all(t in TRANSPILERS for t in targets)
    assert declared["region"][1] == ["terraform-aws"]
    assert "vddk_thumbprint" in declared and declared["vddk_thumbprint"][1] == ["kubevirt"]
    assert {f.name for f in fields(TargetOptions)} >= set(declared)
    assert target_options({"region": "eu-west-1", "namespace": None}) == TargetOptions(region="eu-west-1")
    with pytest.raises(UsageError) as unknown:
        target_options({"flavour": "x"})
    assert unknown.value.field == "flavour"
    help_text = migrator("plan", "--help", env={"COLUMNS": "200"}).stdout
    for name in declared:
        assert flag(name) in help_text, name
    assert sizing_target("terraform-aws") == "aws" and sizing_target("kubevirt") == "kubevirt"
    assert sizing_target("terraform-azure") == "azure" and sizing_target("terraform-google") == "gcp"
    assert sizing_target("terraform-openstack") == "aws"  # the need; the flavor comes from --flavors
    assert declared["flavors"][1] == ["terraform-openstack"]


def test_incomplete_results_become_exit_7_errors(ws: Workspace) -> None:
    result = plan_waves(ws, PlanParameters(max_vms=1, max_disks=1))  # move groups cannot fit
    error = result.incomplete()
    assert isinstance(error, Incomplete) and error.exit_code == ExitCode.INCOMPLETE
    assert f"plan {result.plan_id} stored with 12 unplaced VM(s)" in error.message
    assert any("cannot fit one wave" in reason for reason in result.unplaced_reasons())


def test_field_errors_survive_pickling() -> None:
    """Discovery workers are processes: their errors arrive pickled, still naming the field."""
    import pickle

    error = pickle.loads(pickle.dumps(VCenterError("{thumbprint} is bad", field="thumbprint")))
    assert isinstance(error, VCenterError) and error.field == "thumbprint"
    assert error.render(flag) == "--thumbprint is bad"
    plain = pickle.loads(pickle.dumps(NotFound("no VM {x}")))
    assert plain.message == "no VM {x}" and plain.fields == ()
