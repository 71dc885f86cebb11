"""Size and disk type edits per cloud (vm-size, size-family, disk-type; docs/edits.md): each
changes exactly the VM and disk it names in the generated code, its price follows where the
cloud is priced, the edited wave still passes the real Terraform core, and a size or type the
cloud does not have is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from agents.validator import ValidatorOptions, validate_folder
from migrator.app.agent import preview_edits
from migrator.app.generation import planned_inputs, select_waves
from migrator.app.workspace import Workspace
from migrator.review.reviewer_edits import differences, hcl_resources
from tests.golden import workspace_with
from tests.helpers import Result, assert_one_line_error, migrator
from transpilers.edits import apply_edits
from transpilers.model import NetworkInput, TargetOptions, VMInput, WaveInput
from transpilers.registry import get
from transpilers.terraform_azure import azure_choice
from transpilers.terraform_google import gcp_choice
from waves.edits import TARGETS_OF, honoured_by, parse_edit
from waves.learning import Example, applicable, edits_for, generalise, slots_of
from waves.sizing import catalog, size_entry


def _vm(index: int, disks: int, tier: str, vcpu: int = 2, memory_mb: int = 4096) -> VMInput:
    name = f"vm-{index}"
    record = {
        "name": name,
        "moref": f"vm-{index}",
        "instance_uuid": f"uuid-{index}",
        "disks": [{"label": f"d{d}", "capacity_gb": 20 + d} for d in range(disks)],
        "nics": [{"label": "n0", "network": "net-0"}],
    }
    sizing = {
        "os_family": "linux",
        "vcpu": vcpu,
        "memory_mb": memory_mb,
        "vcpu_now": vcpu,
        "memory_mb_now": memory_mb,
        "aws": {"instance_type": "m6i.large", "monthly_usd": 70.08},
        "kubevirt": {"cores": 2, "memory_guest": "4Gi", "cpu_request": "2000m", "memory_request": "4Gi"},
    }
    return VMInput(name, record, sizing, "app", "prod", tier, (f"10.0.0.{index + 1}",))


WAVE = WaveInput(
    4, "w", (_vm(0, 3, "db"), _vm(1, 2, "web")), (), (), {"net-0": NetworkInput("net-0", 10)}, {}
)


def _resources(files: dict[str, str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name, text in files.items():
        if name.endswith(".tf"):
            parsed = hcl_resources(text.encode())
            assert parsed is not None, name
            found.update(parsed)
    return found


def _changed(target: str, edits: list[dict[str, Any]], tmp: Path) -> set[tuple[str, str, Any]]:
    """Render the wave with and without the edits (which all apply); the real core judges the
    edited wave; every (resource, attribute, new value) that differs."""
    transpiler = get(target)
    before = transpiler.render(WAVE, TargetOptions()).files
    applied = apply_edits(WAVE, TargetOptions(), [parse_edit(e) for e in edits])
    assert applied.refused == {}
    after = transpiler.render(applied.wave, applied.options).files
    for name, text in after.items():
        (tmp / name).write_text(text, encoding="utf-8")
    report = validate_folder(tmp, ValidatorOptions(use_tools=False))
    assert report.counts["error"] == 0, report.diagnostics
    old, new = _resources(before), _resources(after)
    assert set(old) == set(new)
    return {(a, p, v) for a in old for p, _, v in differences(old[a], new[a])}


def _edited_vm(edits: list[dict[str, Any]], name: str = "vm-0") -> VMInput:
    applied = apply_edits(WAVE, TargetOptions(), [parse_edit(e) for e in edits])
    assert applied.refused == {}
    return next(vm for vm in applied.wave.vms if vm.name == name)


def test_azure_size_family_and_disk_type_change_that_vm_and_disk_only(tmp_path: Path) -> None:
    edits = [
        {"kind": "vm-size", "vm": "vm-0", "cloud": "azure", "size": "Standard_E4s_v5"},
        {"kind": "size-family", "vm": "vm-1", "cloud": "azure", "family": "Dsv5"},
        {"kind": "disk-type", "vm": "vm-0", "disk": "d1", "cloud": "azure", "type": "StandardSSD_LRS"},
    ]
    assert _changed("terraform-azure", edits, tmp_path) == {
        ("azurerm_linux_virtual_machine.vm_0", "size", "Standard_E4s_v5"),
        ("azurerm_linux_virtual_machine.vm_1", "size", "Standard_D2s_v5"),  # smallest Dsv5 that fits
        ("azurerm_managed_disk.vm_0_disk1", "storage_account_type", "StandardSSD_LRS"),
        ("azurerm_virtual_machine_data_disk_attachment.vm_0_disk1", "caching", "ReadOnly"),  # not v2
    }
    entry = size_entry("azure", "Standard_E4s_v5")
    assert entry is not None
    price = round(entry["linux_hourly"] * catalog("azure")["hours_per_month"], 2)
    assert azure_choice(_edited_vm(edits))["monthly_usd"] == price  # PLAN.md's cost follows


def test_google_machine_type_family_and_disk_type(tmp_path: Path) -> None:
    edits = [
        {"kind": "vm-size", "vm": "vm-0", "cloud": "gcp", "size": "n2-standard-4"},
        {"kind": "size-family", "vm": "vm-1", "cloud": "gcp", "family": "c3"},
        {"kind": "disk-type", "vm": "vm-0", "disk": "d2", "cloud": "gcp", "type": "pd-balanced"},
    ]
    changed = _changed("terraform-google", edits, tmp_path)
    smallest_c3 = gcp_choice(_edited_vm(edits, "vm-1"))["machine_type"]
    assert str(smallest_c3).startswith("c3-")
    assert changed == {
        ("google_compute_instance.vm_0", "machine_type", "n2-standard-4"),
        ("google_compute_instance.vm_1", "machine_type", smallest_c3),
        ("google_compute_disk.vm_0_disk2", "type", "pd-balanced"),  # a database's disk: pd-ssd before
    }
    entry = size_entry("gcp", "n2-standard-4")
    assert entry is not None
    price = round(entry["linux_hourly"] * catalog("gcp")["hours_per_month"], 2)
    assert gcp_choice(_edited_vm(edits))["monthly_usd"] == price


def test_openstack_flavor_and_volume_type(tmp_path: Path) -> None:
    edits = [
        {"kind": "vm-size", "vm": "vm-1", "cloud": "openstack", "size": "r1.xlarge"},
        {"kind": "disk-type", "vm": "vm-0", "disk": "d0", "cloud": "openstack", "type": "ceph-ssd"},
        {"kind": "disk-type", "vm": "vm-0", "disk": "d2", "cloud": "openstack", "type": "ceph-hdd"},
    ]
    assert _changed("terraform-openstack", edits, tmp_path) == {
        ("openstack_compute_instance_v2.vm_1", "flavor_name", "r1.xlarge"),
        ("openstack_compute_instance_v2.vm_0", "block_device.volume_type", "ceph-ssd"),
        ("openstack_blockstorage_volume_v3.vm_0_vol2", "volume_type", "ceph-hdd"),
    }


def test_aws_disk_type_changes_that_volume_only(tmp_path: Path) -> None:
    edits = [{"kind": "disk-type", "vm": "vm-1", "disk": "d1", "cloud": "aws", "type": "st1"}]
    assert _changed("terraform-aws", edits, tmp_path) == {("aws_ebs_volume.vm_1_disk1", "type", "st1")}


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        ({"cloud": "azure", "size": "Standard_X99"}, "'Standard_X99' is not in the azure size catalogue"),
        ({"cloud": "gcp", "size": "n9-mega-4"}, "'n9-mega-4' is not in the gcp size catalogue"),
        ({"cloud": "openstack", "size": "m1 <b>"}, "is not a flavor name"),
    ],
)
def test_a_size_the_cloud_lacks_is_refused_when_read(edit: dict[str, Any], why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        parse_edit({"kind": "vm-size", "vm": "vm-0", **edit})


def test_families_and_disk_types_outside_the_cloud_are_refused_when_read() -> None:
    with pytest.raises(ValidationError, match="'r6i' is not a azure size family"):
        parse_edit({"kind": "size-family", "vm": "vm-0", "cloud": "azure", "family": "r6i"})
    with pytest.raises(ValidationError, match="'gp3' is not a gcp disk type"):
        parse_edit({"kind": "disk-type", "vm": "vm-0", "disk": "d0", "cloud": "gcp", "type": "gp3"})
    with pytest.raises(ValidationError, match="io2 volumes need iops"):
        parse_edit({"kind": "disk-type", "vm": "vm-0", "disk": "d0", "cloud": "aws", "type": "io2"})


def test_what_the_wave_or_the_flavor_file_lacks_is_refused_when_applied() -> None:
    edits = [
        {"kind": "vm-size", "vm": "vm-0", "cloud": "openstack", "size": "x1.huge"},
        {"kind": "disk-type", "vm": "vm-0", "disk": "d0", "cloud": "azure", "type": "PremiumV2_LRS"},
        {"kind": "disk-type", "vm": "vm-0", "disk": "d9", "cloud": "gcp", "type": "pd-ssd"},
        {"kind": "vm-size", "vm": "vm-0", "cloud": "azure", "size": "Standard_F2als_v6"},  # 2 data disks: ok
        {"kind": "size-family", "vm": "vm-1", "cloud": "gcp", "family": "n4"},
        {"kind": "disk-type", "vm": "vm-1", "disk": "d1", "cloud": "gcp", "type": "pd-ssd"},
    ]
    applied = apply_edits(WAVE, TargetOptions(), [parse_edit(e) for e in edits])
    assert applied.applied == [3, 4]
    assert applied.refused[0].startswith("flavor 'x1.huge' is not in the flavor catalogue")
    assert applied.refused[1] == "PremiumV2_LRS cannot be an OS disk ('vm-0' disk 'd0' is its first)"
    assert applied.refused[2].startswith("VM 'vm-0' has no disk labelled 'd9'")
    assert applied.refused[5] == "'vm-1' is on n4, which attaches Hyperdisk only (not pd-ssd)"


def test_an_edit_naming_a_cloud_is_honoured_by_that_clouds_target_only() -> None:
    for kind in ("vm-size", "size-family", "disk-type"):
        for target in TARGETS_OF[kind]:
            clouds = {"terraform-aws": "aws", "terraform-azure": "azure"}
            clouds |= {"terraform-google": "gcp", "terraform-openstack": "openstack"}
            assert honoured_by(target, kind, clouds[target])
            assert not honoured_by(target, kind, "gcp" if target != "terraform-google" else "azure")
    assert not honoured_by("kubevirt", "disk-type", "aws")
    assert honoured_by("kubevirt", "volume")  # kinds without a cloud: as before


def test_edits_add_refuses_a_size_or_disk_type_the_cloud_lacks_in_one_line(tmp_path: Path) -> None:
    ws = workspace_with(tmp_path / "ws", "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0

    def add(edit: dict[str, Any]) -> Result:
        (ws / "edit.json").write_text(json.dumps(edit), encoding="utf-8")
        return migrator("edits", "add", str(ws / "edit.json"), "--who", "alice", workspace=ws)

    bogus = add({"kind": "vm-size", "vm": "crm-db-01", "cloud": "azure", "size": "Standard_X99"})
    assert_one_line_error(
        bogus, 8, "edit 1 refused: size: ", "'Standard_X99' is not in the azure size catalogue (eastus)"
    )
    family = add({"kind": "size-family", "vm": "crm-db-01", "cloud": "gcp", "family": "m3"})
    assert_one_line_error(family, 8, "edit 2 refused: family: ", "'m3' is not a gcp size family")
    disk = add({"kind": "disk-type", "vm": "crm-db-01", "disk": "disk-9", "cloud": "gcp", "type": "pd-ssd"})
    assert_one_line_error(disk, 8, "edit 3 refused: VM 'crm-db-01' has no disk labelled 'disk-9'")
    good = add({"kind": "vm-size", "vm": "crm-db-01", "cloud": "gcp", "size": "n2-highmem-8"})
    assert good.code == 0, good.stderr
    listed = migrator("edits", "list", "--format", "json", workspace=ws).json()
    assert [(e["kind"], e["status"]) for e in listed] == [
        ("vm-size", "refused"),
        ("size-family", "refused"),
        ("disk-type", "refused"),
        ("vm-size", "applied"),
    ]
    assert listed[3]["change"] == "crm-db-01: machine type n2-highmem-8"


def test_azure_and_google_sizes_and_disk_types_are_learned_as_families_and_types() -> None:
    disks = ("boot", "d1", "d2")
    size = {"kind": "vm-size", "vm": "db", "cloud": "azure", "size": "Standard_E8s_v5"}
    assert slots_of(size, disks) == {"size-family:azure": "Esv5"}
    assert slots_of({"kind": "vm-size", "vm": "db", "cloud": "openstack", "size": "m1.large"}, disks) == {}
    data = {"kind": "disk-type", "vm": "db", "disk": "d1", "cloud": "gcp", "type": "pd-ssd"}
    assert slots_of(data, disks) == {"disk-type:gcp:data": "pd-ssd"}
    examples = [
        Example(
            pr, pr, f"db-{pr}-{i}", {"role": "database"}, disks, {}, {"size-family:gcp": "n2"}, ("a",), "a"
        )
        for pr in (1, 2)
        for i in range(2)
    ]
    [correction] = [c for c in generalise(examples) if c.fact == "role"]
    assert correction.describe() == "VMs with role database: gcp size family n2"
    learned = edits_for(correction.slot, correction.value, "db-9", disks)
    assert [parse_edit(e).describe() for e in learned] == ["db-9: gcp size family n2"]
    typed = edits_for("disk-type:gcp:data", "pd-ssd", "db-9", disks)
    assert [parse_edit(e).describe() for e in typed] == [
        "db-9 disk d1: gcp disk type pd-ssd",
        "db-9 disk d2: gcp disk type pd-ssd",
    ]
    assert not applicable("disk-type:gcp:data", ("boot",))


def test_an_edit_preview_prices_an_azure_size_on_azure(tmp_path: Path) -> None:
    """The MCP preview resolves the target once and prices the wave on its cloud: an Azure size
    edit changes the Azure estimate by the catalogue's difference."""
    root = workspace_with(tmp_path / "ws", "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=root).code == 0
    ws = Workspace.open(root)
    [wave] = select_waves(planned_inputs(ws, None).waves, 3)
    vm = next(v for v in wave.vms if v.name == "crm-db-01")
    edit = parse_edit({"kind": "vm-size", "vm": "crm-db-01", "cloud": "azure", "size": "Standard_E16s_v5"})
    shown = preview_edits(ws, "terraform-azure", 3, [edit], use_tools=False)
    assert shown.problems == []
    new = size_entry("azure", "Standard_E16s_v5")
    assert new is not None
    hourly = new[f"{vm.sizing['os_family']}_hourly"]
    change = round(hourly * catalog("azure")["hours_per_month"] - azure_choice(vm)["monthly_usd"], 2)
    assert shown.cost["change_usd"] == change and change > 0
    assert "main.tf" in shown.files_changed
    assert '+  size                  = "Standard_E16s_v5"' in shown.diff
