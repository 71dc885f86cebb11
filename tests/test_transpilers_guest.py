"""KubeVirt disk bus per guest family, and NSX segments through the NAD mapping and the
Terraform subnet variables (docs/plan.md), on waves built from inventory records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from agents.validator import ValidatorOptions, validate_folder
from tests.golden import workspace_with
from tests.helpers import migrator
from transpilers.guest import disk_plan
from transpilers.inputs import _networks
from transpilers.kubevirt import KubeVirt
from transpilers.model import TargetOptions, VMInput, WaveInput
from transpilers.terraform_aws import TerraformAws

SEGMENT = "5b0c7f4e-1d2a-4f6b-9e3c-8a7d6c5b4a01"
OPTIONS = TargetOptions(vddk_url="https://vc/sdk", vddk_thumbprint="AA", executor="cdi")
SIZING = {
    "os_family": "linux",
    "vcpu": 2,
    "memory_mb": 4096,
    "aws": {"instance_type": "m6i.large"},
    "kubevirt": {"cores": 2, "memory_guest": "4096Mi", "cpu_request": "2000m", "memory_request": "4096Mi"},
}


def _record(name: str, guest_id: str, network: str = "app-vlan120", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "moref": f"vm-{name}",
        "guest_id": guest_id,
        "num_cpu": 2,
        "memory_mb": 4096,
        "disks": [{"label": "d0", "capacity_gb": 40}, {"label": "d1", "capacity_gb": 100}],
        "nics": [{"network": network, "mac": "00:50:56:00:00:01", "vlan": None}],
        **extra,
    }


def _wave(records: list[dict[str, Any]], networks: list[dict[str, Any]]) -> WaveInput:
    vms = tuple(VMInput(r["name"], r, SIZING, None, None, None, ()) for r in records)
    names = [vm.name for vm in vms]
    return WaveInput(1, "w", vms, (), (), _networks(records, networks), dict.fromkeys(names, 1))


def _buses(rendered: dict[str, str]) -> dict[str, list[str]]:
    out = {}
    for name, text in rendered.items():
        for doc in yaml.safe_load_all(text):
            if doc["kind"] == "VirtualMachine":
                disks = doc["spec"]["template"]["spec"]["domain"]["devices"]["disks"]
                out[doc["metadata"]["name"]] = [d["disk"]["bus"] for d in disks]
                assert disks[0]["bootOrder"] == 1, name
    return out


@pytest.mark.parametrize(
    ("guest_id", "family", "boot", "data"),
    [
        ("windows9Server64Guest", "windows", "sata", "sata"),
        ("rhel7_64Guest", "linux-dracut", "sata", "virtio"),
        ("sles12_64Guest", "linux-dracut", "sata", "virtio"),
        ("ubuntu64Guest", "linux-initramfs-tools", "virtio", "virtio"),
        ("debian10_64Guest", "linux-initramfs-tools", "virtio", "virtio"),
        ("otherGuest", "other", "sata", "sata"),
        ("", "other", "sata", "sata"),
    ],
)
def test_disk_plan_per_guest_family(guest_id: str, family: str, boot: str, data: str) -> None:
    plan = disk_plan({"guest_id": guest_id}, virtio_drivers=False)
    assert (plan.family, plan.boot_bus, plan.data_bus) == (family, boot, data)
    ready = disk_plan({"guest_id": guest_id}, virtio_drivers=True)
    assert (ready.boot_bus, ready.data_bus) == ("virtio", "virtio")


def test_inventory_marker_declares_virtio_drivers() -> None:
    assert (
        disk_plan(
            {"guest_id": "windows9Server64Guest", "custom_fields": {"Virtio-Drivers": "Yes"}}, False
        ).boot_bus
        == "virtio"
    )
    assert (
        disk_plan({"guest_id": "rhel7_64Guest", "tags": ["virtio-drivers:installed"]}, False).boot_bus
        == "virtio"
    )
    assert disk_plan({"guest_id": "rhel7_64Guest", "tags": ["virtio-drivers:no"]}, False).boot_bus == "sata"


def test_kubevirt_boot_bus_and_report_notes() -> None:
    wave = _wave(
        [
            _record("win", "windows9Server64Guest"),
            _record("rhel", "rhel7_64Guest"),
            _record("ubuntu", "ubuntu64Guest"),
            _record("rhel-ready", "rhel7_64Guest", custom_fields={"virtio-drivers": "true"}),
        ],
        [],
    )
    rendered = KubeVirt().render(wave, OPTIONS)
    assert _buses(rendered.files) == {
        "win": ["sata", "sata"],
        "rhel": ["sata", "virtio"],
        "ubuntu": ["virtio", "virtio"],
        "rhel-ready": ["virtio", "virtio"],
    }
    notes = {d.resource: d.message for d in rendered.diagnostics if d.rule == "KV-GUEST-DISK-BUS"}
    assert notes["VirtualMachine/win"].startswith("win (windows): all disks sata, NICs e1000e")
    models = {
        doc["metadata"]["name"]: [
            i.get("model") for i in doc["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"]
        ]
        for text in rendered.files.values()
        for doc in yaml.safe_load_all(text)
        if doc["kind"] == "VirtualMachine"
    }
    assert models == {"win": ["e1000e"], "rhel": [None], "ubuntu": [None], "rhel-ready": [None]}
    assert "virtio-win" in notes["VirtualMachine/win"]
    assert "dracut -f --add-drivers 'virtio_blk virtio_pci'" in notes["VirtualMachine/rhel"]
    assert all(len(m) <= 256 for m in notes.values())  # REPORT.md keeps a note whole
    assert {d.severity for d in rendered.diagnostics if d.rule == "KV-GUEST-DISK-BUS"} == {"info"}
    everything = KubeVirt().render(
        wave, TargetOptions(vddk_url="u", vddk_thumbprint="t", virtio_drivers=True, executor="cdi")
    )
    assert set(map(tuple, _buses(everything.files).values())) == {("virtio", "virtio")}


def _nsx_wave(segment: str = SEGMENT) -> WaveInput:
    networks = [
        {
            "name": "seg-web",
            "moref": "opaquenetwork-1",
            "kind": "opaque",
            "vlan": None,
            "segment_id": segment,
        },
        {
            "name": "app-vlan120",
            "moref": "dvportgroup-2",
            "kind": "distributed",
            "vlan": 120,
            "segment_id": None,
        },
    ]
    records = [
        _record("web", "ubuntu64Guest", "seg-web"),
        _record("app", "ubuntu64Guest", "app-vlan120"),
        # an opaque network the discovery account could not read: only the NIC knows its kind
        _record("edge", "ubuntu64Guest", "seg-hidden-uuid"),
    ]
    records[2]["nics"][0].update(network_kind="opaque", segment_id="seg-hidden-uuid")
    return _wave(records, networks)


def test_nsx_segments_through_the_nad_mapping(tmp_path: Path) -> None:
    rendered = KubeVirt().render(_nsx_wave(), OPTIONS)
    nads = {d["metadata"]["name"]: d for d in yaml.safe_load_all(rendered.files["networks.yaml"])}
    assert nads["seg-web"]["metadata"]["annotations"] == {
        "migrator.io/source-network": "seg-web",
        "migrator.io/source-network-kind": "opaque",
        "migrator.io/nsx-segment-id": SEGMENT,
    }
    assert nads["app-vlan120"]["metadata"]["annotations"] == {
        "migrator.io/source-network": "app-vlan120",
        "migrator.io/source-network-kind": "distributed",
    }
    assert (
        '"vlan"' not in nads["seg-web"]["spec"]["config"]
        and '"vlan": 120' in nads["app-vlan120"]["spec"]["config"]
    )
    warned = sorted(d.resource for d in rendered.diagnostics if d.rule == "KV-NSX-SEGMENT")
    assert warned == ["NetworkAttachmentDefinition/seg-hidden-uuid", "NetworkAttachmentDefinition/seg-web"]
    for name, text in rendered.files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert validate_folder(tmp_path, ValidatorOptions(use_tools=False)).counts["error"] == 0


def test_nsx_segments_through_the_subnet_variables(tmp_path: Path) -> None:
    rendered = TerraformAws().render(_nsx_wave(), OPTIONS)
    tfvars = rendered.files["terraform.tfvars.example"]
    assert f'  "seg-web" = "subnet-REPLACE"  # source NSX segment {SEGMENT}' in tfvars.splitlines()
    assert (
        '  "seg-hidden-uuid" = "subnet-REPLACE"  # source NSX segment seg-hidden-uuid' in tfvars.splitlines()
    )
    assert (
        "Subnet ID per source network; keys: app-vlan120, seg-hidden-uuid, seg-web. "
        "NSX segments among them: seg-hidden-uuid, seg-web." in rendered.files["variables.tf"]
    )
    for name, text in rendered.files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert validate_folder(tmp_path, ValidatorOptions(use_tools=False)).counts["error"] == 0


def test_hostile_segment_id_stays_inert(tmp_path: Path) -> None:
    hostile = 'x"\n}\nresource "aws_instance" "evil" {\n# ${file("/etc/passwd")}'
    tf = TerraformAws().render(_nsx_wave(hostile), OPTIONS)
    line = next(x for x in tf.files["terraform.tfvars.example"].splitlines() if x.startswith('  "seg-web"'))
    assert line.startswith('  "seg-web" = "subnet-REPLACE"  # source NSX segment x"')
    assert 'resource "aws_instance" "evil"' not in tf.files["terraform.tfvars.example"].replace(line, "")
    kv = KubeVirt().render(_nsx_wave(hostile), OPTIONS)
    nads = list(yaml.safe_load_all(kv.files["networks.yaml"]))
    annotation = next(n for n in nads if n["metadata"]["name"] == "seg-web")["metadata"]["annotations"]
    assert "\n" not in annotation["migrator.io/nsx-segment-id"]


def test_cli_virtio_drivers_option(tmp_path: Path) -> None:
    ws = workspace_with(tmp_path / "ws", "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0
    flags = (
        "--vddk-url",
        "https://vc/sdk",
        "--vddk-thumbprint",
        "AA",
        "--format",
        "json",
        "--executor",
        "cdi",
    )
    for extra, expected in (((), {"sata"}), (("--virtio-drivers",), {"virtio"})):
        out = tmp_path / ("on" if extra else "off")
        result = migrator("plan", "--target", "kubevirt", "--out", str(out), *flags, *extra, workspace=ws)
        assert result.code == 0, result.stderr
        docs = [
            d
            for f in out.rglob("vm-crm-db-01.yaml")
            for d in yaml.safe_load_all(f.read_text(encoding="utf-8"))
        ]
        (vm,) = [d for d in docs if d["kind"] == "VirtualMachine"]
        buses = {d["disk"]["bus"] for d in vm["spec"]["template"]["spec"]["domain"]["devices"]["disks"]}
        assert buses == expected, extra
