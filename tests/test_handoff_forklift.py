"""The Forklift hand-off of the kubevirt target: golden CRs on the demo estate, every CR checked
against Forklift's own CRD schemas, every VM of every wave in its Plan exactly once (demo and
the 300-VM synthetic estate), warm/cold and cutover decisions, and hostile names.

Regenerate the golden files with `make golden` after an intended change.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from agents.validator import ValidatorOptions, validate_folder
from migrator.app.generation import GenerateRequest, generate
from migrator.app.planning import plan_waves
from migrator.review.schedule_md import forklift_schedule_note
from tests.drift_helpers import demo_workspace
from tests.golden import FIXTURES, check_golden_tree, workspace_with
from tests.helpers import migrator
from tests.test_transpilers import hostile_wave
from transpilers import forklift
from transpilers.model import TargetOptions, VMInput, WaveInput
from transpilers.naming import DNS1123_MAX
from transpilers.registry import TRANSPILERS
from waves.planner import PlanParameters

FLAGS = ("--vddk-url", "https://vcenter.example/sdk", "--executor", "forklift")
# VMs Forklift starts itself (targetPowerState auto), so the runbook's port check becomes a PostHook
HOOK_FLAGS = ("--run-strategy", "Always", "--hook-image", "quay.io/kubev2v/hook-runner:v2.9.0")


def docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def by_kind(folder: Path, kind: str) -> list[dict[str, Any]]:
    return [d for f in sorted(folder.glob("forklift-*.yaml")) for d in docs(f) if d["kind"] == kind]


def generate_forklift(ws: Path, out: Path, *extra: str) -> dict[str, Any]:
    result = migrator(
        "plan", "--target", "kubevirt", "--out", str(out), "--format", "json", *FLAGS, *extra, workspace=ws
    )
    assert result.code == 0, result.stderr
    report: dict[str, Any] = result.json()
    return report


def wave_morefs(ws: Path, inventory: str) -> dict[int, list[str]]:
    """Wave number -> the morefs of its VMs, from the stored plan and the inventory file."""
    plan = migrator("waves", "show", "--format", "json", workspace=ws).json()
    records = yaml.safe_load((FIXTURES / "inventories" / inventory).read_text(encoding="utf-8"))["vms"]
    moref = {r["name"]: r["moref"] for r in records}
    return {w["number"]: sorted(moref[n] for n in w["vms"]) for w in plan["waves"]}


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = workspace_with(tmp_path_factory.mktemp("ws"), "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0
    return ws


def test_demo_forklift_output_matches_golden_and_passes_the_crd_schemas(
    demo_ws: Path, tmp_path: Path
) -> None:
    report = generate_forklift(demo_ws, tmp_path)
    assert [w["status"] for w in report["waves"]] == ["clean"] * 3
    rules = {d["rule"] for w in report["waves"] for d in w["diagnostics"]}
    assert not any(r.startswith("K8S-") for r in rules)  # no missing schema, no schema error
    root = tmp_path / "kubevirt"
    assert sorted(p.name for p in (root / "wave-01").iterdir()) == [
        "PLAN.md",
        "REPORT.md",
        "forklift-migration.yaml",
        "forklift-plan.yaml",
        "networks.yaml",
    ]
    check_golden_tree("iac/kubevirt-forklift", root)


def test_the_providers_file_passes_the_schemas_and_holds_no_credential(demo_ws: Path, tmp_path: Path) -> None:
    generate_forklift(demo_ws, tmp_path / "out")
    folder = tmp_path / "providers"
    folder.mkdir()
    shutil.copy(tmp_path / "out" / "kubevirt" / forklift.PROVIDERS_FILE, folder)
    report = validate_folder(folder, ValidatorOptions(use_tools=False))
    assert [d.rule for d in report.diagnostics if d.severity != "info"] == []
    source, host = docs(folder / forklift.PROVIDERS_FILE)
    assert source["spec"] == {
        "type": "vsphere",
        "secret": {"name": "vcenter-credentials", "namespace": "vm-migration"},
        "url": "https://vcenter.example/sdk",
        "settings": {"sdkEndpoint": "vcenter"},
    }
    assert host["spec"] == {"type": "openshift", "secret": {}}


def test_a_plan_field_forklift_does_not_know_is_a_schema_error(demo_ws: Path, tmp_path: Path) -> None:
    """The Forklift CRs are checked against the CRD schema, not skipped for a missing one."""
    generate_forklift(demo_ws, tmp_path / "out")
    folder = tmp_path / "edited"
    shutil.copytree(tmp_path / "out" / "kubevirt" / "wave-01", folder)
    plan = folder / "forklift-plan.yaml"
    plan.write_text(
        plan.read_text(encoding="utf-8").replace("  warm: false\n", "  warm: false\n  wram: true\n")
    )
    report = validate_folder(folder, ValidatorOptions(use_tools=False))
    errors = [(d.rule, d.resource) for d in report.diagnostics if d.severity == "error"]
    assert errors == [("K8S-SCHEMA-ADDITIONAL-PROPERTY", "Plan/wave-01")]


def test_every_vm_of_every_wave_is_in_its_plan_exactly_once(demo_ws: Path, tmp_path: Path) -> None:
    generate_forklift(demo_ws, tmp_path)
    expected = wave_morefs(demo_ws, "demo.json")
    for number, morefs in expected.items():
        [plan] = by_kind(tmp_path / "kubevirt" / f"wave-{number:02d}", "Plan")
        ids = [vm["id"] for vm in plan["spec"]["vms"]]
        assert sorted(ids) == morefs  # the demo blocks no VM
        assert len(set(ids)) == len(ids)


def test_the_synthetic_estate_hands_every_wave_to_forklift(tmp_path: Path) -> None:
    ws = workspace_with(tmp_path / "ws", "synthetic-300.json", "synthetic-300.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0
    report = generate_forklift(ws, tmp_path / "out", "--storage-class", "fast")
    expected = wave_morefs(ws, "synthetic-300.json")
    inventory = yaml.safe_load((FIXTURES / "inventories" / "synthetic-300.json").read_text(encoding="utf-8"))
    records = {r["moref"]: r for r in inventory["vms"]}
    assert [w["wave"] for w in report["waves"]] == sorted(expected)
    for outcome in report["waves"]:
        assert outcome["errors"] == 0, outcome["diagnostics"]
        folder = tmp_path / "out" / "kubevirt" / f"wave-{outcome['wave']:02d}"
        [plan] = by_kind(folder, "Plan")
        ids = [vm["id"] for vm in plan["spec"]["vms"]]
        assert len(set(ids)) == len(ids) == outcome["vms"] - outcome["blocked"]
        assert set(ids) <= set(expected[outcome["wave"]])
        [storage] = by_kind(folder, "StorageMap")
        datastores = {d["datastore"] for i in ids for d in records[i]["disks"] if d.get("datastore")}
        assert {e["source"]["name"] for e in storage["spec"]["map"]} == datastores
        assert all(e["destination"]["storageClass"] == "fast" for e in storage["spec"]["map"])


def _vm(name: str, moref: str, cbt: bool) -> VMInput:
    record = {
        "name": name,
        "moref": moref,
        "cbt_enabled": cbt,
        "disks": [{"label": "d0", "datastore": "ds-1", "capacity_gb": 10}],
        "nics": [{"label": "n0", "network": "app"}],
    }
    return VMInput(name, record, {}, None, None, None, ())


def _wave(*vms: VMInput, cutover: tuple[datetime, datetime] | None = None) -> WaveInput:
    return WaveInput(4, "w", vms, (), (), {}, {vm.name: 4 for vm in vms}, cutover=cutover)


def _render(
    wave: WaveInput, options: TargetOptions, scheduled: datetime | None = None
) -> list[dict[str, Any]]:
    placed = list(wave.vms)
    choices = forklift.Choices({vm.name: vm.name for vm in placed}, {"app": "app"})
    documents, _notes = forklift.wave_documents(wave, placed, options, choices, scheduled)
    return documents


def test_warm_only_with_cbt_on_every_vm_and_a_vddk_image() -> None:
    image = TargetOptions(vddk_init_image="registry.example/vddk:8.0.3")
    cases = [
        (_wave(_vm("a", "vm-1", True), _vm("b", "vm-2", True)), image, True),
        (_wave(_vm("a", "vm-1", True), _vm("b", "vm-2", False)), image, False),
        (_wave(_vm("a", "vm-1", True)), TargetOptions(), False),  # no VDDK: cold, and said so
    ]
    for wave, options, warm in cases:
        plan = next(d for d in _render(wave, options) if d["kind"] == "Plan")
        assert plan["spec"]["warm"] is warm
    reason = next(d for d in _render(cases[1][0], image) if d["kind"] == "Plan")["metadata"]["annotations"]
    assert reason["migrator.io/migration-type"] == "cold: CBT is not known enabled on b"


def test_the_cutover_comes_from_the_window_edit_then_from_the_schedule() -> None:
    image = TargetOptions(vddk_init_image="registry.example/vddk:8.0.3")
    window = (datetime(2027, 1, 16, 22, 0), datetime(2027, 1, 17, 6, 0))
    scheduled = datetime(2027, 2, 6, 23, 30, tzinfo=UTC)
    warm = _wave(_vm("a", "vm-1", True))

    def migration(wave: WaveInput, options: TargetOptions, when: datetime | None) -> dict[str, Any]:
        return _render(wave, options, when)[-1]

    assert migration(warm, image, None)["spec"] == {"plan": {"name": "wave-04", "namespace": "vm-migration"}}
    assert migration(warm, image, scheduled)["spec"]["cutover"] == "2027-02-06T23:30:00Z"
    assert migration(replace(warm, scheduled_cutover=scheduled), image, None)["spec"]["cutover"] == (
        "2027-02-06T23:30:00Z"
    )
    assert (
        migration(replace(warm, cutover=window), image, scheduled)["spec"]["cutover"]
        == "2027-01-16T22:00:00Z"
    )
    cold = migration(_wave(_vm("a", "vm-1", False)), image, scheduled)
    assert "cutover" not in cold["spec"]  # a cold Migration starts when applied: it says when
    assert cold["metadata"]["annotations"] == {"migrator.io/apply-at": "2027-02-06T23:30:00Z"}


def test_generate_request_cutovers_reach_the_migration(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    plan_waves(ws, PlanParameters(target="kubevirt"))
    when = datetime(2027, 3, 6, 22, 0, tzinfo=UTC)
    request = GenerateRequest(
        target="kubevirt", wave=2, out=tmp_path / "out", use_tools=False, cutovers={2: when, 3: when}
    )
    [outcome] = generate(ws, request).waves
    [migration] = docs(outcome.out_dir / forklift.MIGRATION_FILE)
    assert migration["metadata"]["annotations"] == {"migrator.io/apply-at": "2027-03-06T22:00:00Z"}


def test_the_stored_schedule_gives_each_waves_migration_its_cutover(tmp_path: Path) -> None:
    demo_ws = workspace_with(
        tmp_path / "ws", "demo.json", "demo-flows.csv"
    )  # not the shared one: it keeps no schedule
    assert migrator("waves", "plan", workspace=demo_ws).code == 0
    window = ("--start", "2027-01-11", "--window", "Sat 22:00-06:00", "--bandwidth", "1Gbps")
    scheduled = migrator("schedule", *window, "--timezone", "UTC", "--format", "json", workspace=demo_ws)
    assert scheduled.code == 0, scheduled.stderr
    starts = {w["number"]: w["cutover_start"] for w in scheduled.json()["waves"]}
    generate_forklift(demo_ws, tmp_path / "out")
    for number, start in starts.items():
        [migration] = docs(tmp_path / "out" / "kubevirt" / f"wave-{number:02d}" / forklift.MIGRATION_FILE)
        when = datetime.fromisoformat(start).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert migration["metadata"]["annotations"] == {"migrator.io/apply-at": when}
        assert datetime.fromisoformat(start).weekday() in (5, 6)  # a Saturday-night window


def test_a_landed_wave_carries_the_providers_file_its_runbook_names(tmp_path: Path) -> None:
    ws = workspace_with(tmp_path / "ws", "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0
    generate_forklift(ws, tmp_path / "out")
    result = migrator("pr", "land", "--target", "kubevirt", "--wave", "2", "--format", "json", workspace=ws)
    assert result.code == 0, result.stderr
    branch = result.json()[0]["branch"]
    repo = ws / "plans.git"
    listing = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", branch], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "kubevirt/forklift-providers.yaml" in listing and "kubevirt/wave-02/forklift-plan.yaml" in listing
    shown = subprocess.run(
        ["git", "show", f"{branch}:kubevirt/forklift-providers.yaml"],
        cwd=repo,
        capture_output=True,
        check=True,
    ).stdout
    assert shown == (tmp_path / "out" / "kubevirt" / forklift.PROVIDERS_FILE).read_bytes()
    runbook = (tmp_path / "out" / "kubevirt" / "wave-02" / "PLAN.md").read_text(encoding="utf-8")
    assert "../forklift-providers.yaml" in runbook


def test_a_cdi_run_removes_the_providers_file_an_earlier_forklift_run_wrote(
    demo_ws: Path, tmp_path: Path
) -> None:
    generate_forklift(demo_ws, tmp_path)
    assert (tmp_path / "kubevirt" / forklift.PROVIDERS_FILE).is_file()
    result = migrator(
        "plan", "--target", "kubevirt", "--out", str(tmp_path), "--executor", "cdi", workspace=demo_ws
    )
    assert result.code == 0, result.stderr
    assert not (tmp_path / "kubevirt" / forklift.PROVIDERS_FILE).exists()


def test_hostile_names_stay_data_in_the_forklift_crs() -> None:
    wave = hostile_wave()
    rendered = TRANSPILERS["kubevirt"].render(wave, TargetOptions(vddk_url="https://vc/sdk"))
    assert sorted(rendered.files) == ["forklift-migration.yaml", "forklift-plan.yaml", "networks.yaml"]
    parsed = list(yaml.safe_load_all(rendered.files["forklift-plan.yaml"]))
    assert [d["kind"] for d in parsed] == ["ConfigMap", "NetworkMap", "StorageMap", "Plan"]
    plan = parsed[-1]
    assert [vm["id"] for vm in plan["spec"]["vms"]] == [f"vm-{i}" for i in range(len(wave.vms))]
    for vm, source in zip(plan["spec"]["vms"], wave.vms, strict=True):
        # the name only where Forklift can match it verbatim; the moref always
        assert vm.get("name", source.name) == source.name
        assert len(vm["targetName"]) <= DNS1123_MAX and vm["targetName"] == vm["targetName"].lower()
    assert "name" not in plan["spec"]["vms"][2]  # "line one\nline two..." is not one line
    assert "name" in plan["spec"]["vms"][5]  # unicode and emoji are fine


# --- hooks (transpilers/forklift_hooks.py) ------------------------------------------------------


def _playbook(hook: dict[str, Any]) -> list[dict[str, Any]]:
    plays: list[dict[str, Any]] = yaml.safe_load(base64.b64decode(hook["spec"]["playbook"]))
    return plays


def test_started_vms_get_a_post_hook_per_runbook_port_check(demo_ws: Path, tmp_path: Path) -> None:
    report = generate_forklift(demo_ws, tmp_path, *HOOK_FLAGS, "--hook-service-account", "forklift-hooks")
    assert [w["status"] for w in report["waves"]] == ["clean"] * 3  # Hook schema and every guardrail
    inventory = yaml.safe_load((FIXTURES / "inventories" / "demo.json").read_text(encoding="utf-8"))
    power = {r["moref"]: r["power_state"] for r in inventory["vms"]}
    flows = migrator("waves", "show", "--format", "json", workspace=demo_ws).json()
    seen = 0
    for number in [w["number"] for w in flows["waves"]]:
        folder = tmp_path / "kubevirt" / f"wave-{number:02d}"
        hooks = {h["metadata"]["name"]: h for h in by_kind(folder, "Hook")}
        [plan] = by_kind(folder, "Plan")
        for vm in plan["spec"]["vms"]:
            refs = vm.get("hooks", [])
            if not refs:
                continue
            [ref] = refs
            assert ref["step"] == "PostHook" and power[vm["id"]] == "poweredOn"
            hook = hooks[ref["hook"]["name"]]
            assert hook["spec"]["serviceAccount"] == "forklift-hooks"
            [play] = _playbook(hook)
            assert play["vars"]["vm_name"] == vm["targetName"]
            ports = hook["metadata"]["annotations"]["migrator.io/ports"]
            assert [f"tcp/{p}" for p in play["vars"]["tcp_ports"]] == ports.split(", ")
            seen += 1
        assert len(hooks) == sum(bool(vm.get("hooks")) for vm in plan["spec"]["vms"])
        if hooks:  # the runbook's verification says Forklift already ran the checks
            plan_md = (folder / "PLAN.md").read_text(encoding="utf-8")
            assert "already ran these port checks as PostHooks" in plan_md
            assert all(f"`{name}`" in plan_md for name in hooks)
            # Forklift starts the VMs (targetPowerState auto): the runbook does not start them again
            cutover = plan_md.split("## Cutover runbook")[1].split("## Rollback runbook")[0]
            assert "The VMs start by themselves" in cutover and not re.search(r"virtctl .* start ", cutover)
    assert seen >= 5  # the demo's databases, app and web servers have observed clients


def test_halted_vms_get_no_hook_and_the_report_says_why(demo_ws: Path, tmp_path: Path) -> None:
    report = generate_forklift(demo_ws, tmp_path)
    notes = [d for w in report["waves"] for d in w["diagnostics"] if d["rule"] == "FORKLIFT-HOOKS"]
    assert notes and all("--run-strategy Halted" in d["message"] for d in notes)
    for folder in sorted((tmp_path / "kubevirt").glob("wave-*")):
        assert by_kind(folder, "Hook") == []
        [plan] = by_kind(folder, "Plan")
        assert all("hooks" not in vm for vm in plan["spec"]["vms"])


def test_a_plan_naming_a_hook_the_wave_lacks_fails_the_guardrail(demo_ws: Path, tmp_path: Path) -> None:
    generate_forklift(demo_ws, tmp_path / "out", *HOOK_FLAGS)
    source = next(f for f in sorted((tmp_path / "out" / "kubevirt").glob("wave-*")) if by_kind(f, "Hook"))
    folder = tmp_path / "edited"
    shutil.copytree(source, folder)
    plan_file = folder / forklift.PLAN_FILE
    kept = [d for d in docs(plan_file) if d["kind"] != "Hook"]
    plan_file.write_text(
        plan_file.read_text(encoding="utf-8").splitlines(keepends=True)[0]  # migrator's header
        + "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in kept),
        encoding="utf-8",
    )
    report = validate_folder(folder, ValidatorOptions(use_tools=False))
    found = {(d.rule, d.severity) for d in report.diagnostics if d.severity == "error"}
    assert found == {("IAC-FORKLIFT-HOOKS", "error")}  # critical guardrails are errors


def test_a_hook_field_forklift_does_not_know_is_a_schema_error(demo_ws: Path, tmp_path: Path) -> None:
    generate_forklift(demo_ws, tmp_path / "out", *HOOK_FLAGS)
    source = next(f for f in sorted((tmp_path / "out" / "kubevirt").glob("wave-*")) if by_kind(f, "Hook"))
    folder = tmp_path / "edited"
    shutil.copytree(source, folder)
    plan = folder / forklift.PLAN_FILE
    plan.write_text(
        plan.read_text(encoding="utf-8").replace("  deadline: 1800\n", "  deadline: 1800\n  retries: 3\n")
    )
    report = validate_folder(folder, ValidatorOptions(use_tools=False))
    errors = {d.rule for d in report.diagnostics if d.severity == "error"}
    assert errors == {"K8S-SCHEMA-ADDITIONAL-PROPERTY"}


def test_hostile_names_never_reach_a_hooks_playbook() -> None:
    wave = hostile_wave()
    options = TargetOptions(vddk_url="https://vc/sdk", run_strategy="Always")
    rendered = TRANSPILERS["kubevirt"].render(wave, options)
    parsed = [d for d in yaml.safe_load_all(rendered.files["forklift-plan.yaml"]) if d]
    hooks = [d for d in parsed if d["kind"] == "Hook"]
    assert hooks, "the hostile wave has a server with observed clients"
    names = {vm.name for vm in wave.vms}
    for hook in hooks:
        assert hook["metadata"]["annotations"]["migrator.io/source-name"] in names  # exact, as data
        text = base64.b64decode(hook["spec"]["playbook"]).decode()
        [play] = yaml.safe_load(text)
        assert set(play) == {"name", "hosts", "gather_facts", "vars", "tasks"}
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", play["vars"]["vm_name"])
        # Ansible evaluates {{ }} in any string: only migrator's own templates are in the playbook
        templates = set(re.findall(r"\{\{.*?\}\}", text))
        own = {t for t in templates if "vm_" not in t and "item" not in t and "tcp_ports" not in t}
        assert own == {
            "{{ (vmi.resources[0].status.interfaces | selectattr(''ipAddress'', ''defined'') "
            "| first).ipAddress }}"
        }
        for name in names:
            assert name not in text or name.isalnum()


def test_a_namespace_ansible_could_misread_gets_no_hook() -> None:
    wave = hostile_wave()
    options = TargetOptions(
        vddk_url="https://vc/sdk", run_strategy="Always", namespace="{{ lookup('env','HOME') }}"
    )
    rendered = TRANSPILERS["kubevirt"].render(wave, options)
    assert "kind: Hook" not in rendered.files["forklift-plan.yaml"]
    [note] = [d for d in rendered.diagnostics if d.rule == "FORKLIFT-HOOKS"]
    assert "not a DNS-1123 label" in note.message


# --- the transfer path and the schedule ---------------------------------------------------------


def _schedule(gigabytes: float, mbps: float) -> dict[str, Any]:
    wave = {
        "number": 4,
        "gigabytes": gigabytes,
        "cutover_start": "2027-01-16T22:00:00+00:00",
        "cutover_end": "2027-01-17T06:00:00+00:00",
    }
    return {"inputs": {"bandwidth_mbps": mbps, "link_efficiency": 0.8}, "waves": [wave]}


def test_what_the_transfer_path_means_for_the_schedule() -> None:
    # 1000 GB at 800 Mbps usable: 8000000 Mb / 800 / 3600 = 2.8 h of an 8 h window
    fits = forklift_schedule_note(_schedule(1000, 1000), 4, warm=False, vddk=True)
    assert "inside the cutover window: at least 2.8 h at 800 Mbps of the window's 8 h; it fits." in fits
    assert "HTTPS" not in fits
    late = forklift_schedule_note(_schedule(5000, 1000), 4, warm=False, vddk=False)
    assert "at least 13.9 h" in late and "it does not fit" in late and "HTTPS file access, slower" in late
    assert "ahead of the window over VDDK" in forklift_schedule_note(
        _schedule(5000, 1), 4, warm=True, vddk=True
    )
    assert "`migrator schedule` says how long" in forklift_schedule_note(None, 4, warm=False, vddk=False)


def test_plan_md_says_what_the_cold_copy_means_for_the_scheduled_window(tmp_path: Path) -> None:
    ws = workspace_with(tmp_path / "ws", "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0
    window = ("--start", "2027-01-11", "--window", "Sat 22:00-06:00", "--bandwidth", "1Gbps")
    assert migrator("schedule", *window, workspace=ws).code == 0
    generate_forklift(ws, tmp_path / "out")
    text = (tmp_path / "out" / "kubevirt" / "wave-01" / "PLAN.md").read_text(encoding="utf-8")
    [line] = [line for line in text.splitlines() if line.startswith("- For the schedule: ")]
    assert "cold: nothing is copied before the Migration is applied" in line
    assert "of the window's 8 h; it fits." in line and "HTTPS file access, slower than VDDK" in line
