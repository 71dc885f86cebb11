"""terraform-openstack: one root module per wave (docs/targets.md has the full mapping).

versions.tf pins Terraform and terraform-provider-openstack/openstack (not a hashicorp provider:
without the source address Terraform would look for hashicorp/openstack); variables.tf holds
what the inventory cannot know (a network per source portgroup, images, the key pair, the
volume type); main.tf has per VM an openstack_compute_instance_v2 with the smallest flavor of
the user's catalogue (waves/flavors.py) that fits the VM's need, booting from a volume the size
of its source OS disk, a Cinder volume and an attachment per data disk, a Neutron port per
source NIC in the network mapped from its portgroup, a security group per tier with ingress
rules from observed flows (transpilers/security_groups.py), and a server group with the
anti-affinity policy per anti-affinity set.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

from migrator.diagnostics import Diagnostic
from transpilers.base import OptionSpec, Rendered, TranspilerMeta, header
from transpilers.escape import aws_tag_value, one_line
from transpilers.hcl import Block, Expr, Value, render, terraform_versions, variable
from transpilers.model import SpreadSet, TargetOptions, VMInput, WaveInput
from transpilers.naming import dns_names, dns_slug, tf_names, tf_slug
from transpilers.security_groups import IngressRule, edited_rules, ingress_rules, tier_key
from transpilers.terraform_aws import NO_NETWORK, subnet_key
from waves.flavors import Flavor, FlavorCatalogue, load_flavors

HEADER = header("terraform-openstack")
SOURCE = "terraform-provider-openstack/openstack"
METADATA_MAX = 255  # Nova's limit on a metadata key and value
MIN_BOOT_GB = 10  # a boot volume no smaller than this (a source OS disk of unknown size)


@dataclass(frozen=True)
class _Names:
    vms: dict[str, str]  # VM -> Terraform name
    cloud: dict[str, str]  # VM -> its OpenStack name (unique in the wave)
    groups: dict[str, str]  # tier key -> Terraform name of its security group
    spread: dict[str, str]  # spread set id -> Terraform name of its server group
    spread_of: dict[str, SpreadSet]  # VM -> the one server group it joins


class TerraformOpenstack:
    meta = TranspilerMeta(
        id="terraform-openstack",
        target="OpenStack Nova/Cinder/Neutron (terraform-provider-openstack/openstack ~> 3.0)",
        version="1",
        language="terraform",
        description="instances with your flavors, volumes, ports, security groups, server groups",
        options=(
            OptionSpec(
                "flavors",
                str,
                None,
                "YAML flavor catalogue of the cloud (default: the shipped example; docs/targets.md).",
            ),
        ),
        sizing="aws",  # the one need per VM; the flavor is chosen from the user's file at generation
        cloud="openstack",
    )

    def estate_files(self, options: TargetOptions) -> dict[str, str]:
        return {}

    def render(self, wave: WaveInput, options: TargetOptions) -> Rendered:
        catalogue = load_flavors(options.flavors)
        placed, flavors, notes = _placed(wave, catalogue)
        rules, rule_notes = ingress_rules(wave, placed, options)
        rules = edited_rules(rules, wave.port_rules)
        notes += rule_notes
        names = _names(wave, placed)
        networks = sorted({subnet_key(vm, n) for vm in placed.values() for n in vm.nics})
        if any(not vm.nics for vm in placed.values()):
            networks = sorted({*networks, NO_NETWORK})
        main: list[Block] = [Block("provider", ["openstack"])]  # credentials: clouds.yaml or OS_* variables
        main += [_secgroup(wave, group, ident) for group, ident in sorted(names.groups.items())]
        main += [_rule(rule, names.groups) for rule in rules]
        joined = {s.id for s in names.spread_of.values()}
        main += [_server_group(wave, s, names.spread[s.id]) for s in wave.spread if s.id in joined]
        for name in sorted(placed):
            main += _vm_blocks(wave, placed[name], flavors[name], names)
        blocks = {
            "versions.tf": [terraform_versions("openstack", SOURCE, "~> 3.0")],
            "variables.tf": _variables(networks),
            "main.tf": main,
            "outputs.tf": _outputs(wave, names.vms),
        }
        files = {name: render(file_blocks, HEADER) for name, file_blocks in blocks.items()}
        files["terraform.tfvars.example"] = _tfvars_example(networks)
        return Rendered(files, notes, blocks)


def _placed(
    wave: WaveInput, catalogue: FlavorCatalogue
) -> tuple[dict[str, VMInput], dict[str, Flavor], list[Diagnostic]]:
    """The wave's VMs that get code (not blocked, a flavor fits their need) and their flavors."""
    placed: dict[str, VMInput] = {}
    flavors: dict[str, Flavor] = {}
    notes: list[Diagnostic] = []
    for vm in wave.vms:
        if vm.name in wave.blocked:
            continue
        flavor = flavor_of(vm, catalogue)
        if flavor is None:
            message = (
                f"{vm.name}: {vm.sizing['vcpu']} vCPU / {vm.sizing['memory_mb']} MiB fits no flavor "
                f"of {catalogue.label}"
            )
            notes.append(Diagnostic("transpiler", "TF-NO-FLAVOR", "error", "main.tf", None, message, vm.name))
            continue
        placed[vm.name] = vm
        flavors[vm.name] = flavor
    return placed, flavors, notes


def flavor_of(vm: VMInput, catalogue: FlavorCatalogue) -> Flavor | None:
    """The flavor for the VM's need as it stands after plan edits (a cpu-memory edit changes it)."""
    edited = vm.changes.size("openstack")
    if edited is not None:  # a vm-size edit names a flavor of the file (checked when applied)
        return catalogue.named(edited)
    return catalogue.fitting(int(vm.sizing["vcpu"]), int(vm.sizing["memory_mb"]))


def _names(wave: WaveInput, placed: dict[str, VMInput]) -> _Names:
    spread = [s for s in wave.spread if sum(vm in placed for vm in s.vms) >= 2]
    spread_of: dict[str, SpreadSet] = {}
    for s in spread:  # Nova takes one server group per instance (scheduler_hints.group): the first
        for member in s.vms:
            if member in placed:
                spread_of.setdefault(member, s)
    return _Names(
        tf_names(placed),
        dns_names(placed, 58),  # room for the -portN, -volN and -boot suffixes within 63
        tf_names(sorted({tier_key(vm) for vm in placed.values()})),
        tf_names(s.id for s in spread),
        spread_of,
    )


def _variables(networks: list[str]) -> list[Block]:
    keys = ", ".join(networks)
    return [
        variable("network_ids", "map(string)", f"Neutron network ID per source network; keys: {keys}."),
        variable("image_ids", "map(string)", "Glance image ID per OS family; keys: linux, windows."),
        variable(
            "image_overrides", "map(string)", "Image ID per VM (Terraform name), overriding image_ids.", {}
        ),
        variable("key_pair", "string", "Nova key pair injected into every instance."),
        variable(
            "volume_type",
            "string",
            "Cinder volume type of every volume: an encrypted (LUKS) type where the cloud offers one.",
        ),
        variable("availability_zone", "string", "Nova and Cinder availability zone of the wave.", "nova"),
    ]


def _secgroup(wave: WaveInput, group: str, ident: str) -> Block:
    """A tier's security group; Neutron's default egress rules stay (ingress is what flows give)."""
    return (
        Block("resource", ["openstack_networking_secgroup_v2", ident])
        .set("name", f"wave{wave.number}-{dns_slug(group)}")
        .set("description", one_line(f"migrator wave {wave.number} tier {aws_tag_value(group)}", 255))
        .set("tags", [f"migration-wave={wave.number}", f"tier-group={aws_tag_value(group)}"])
    )


def _rule(rule: IngressRule, groups: dict[str, str]) -> Block:
    """An ingress rule: from a tier's group in the wave, or from one address (/32, /128); the
    whole internet only where security_groups.py allows it (80/443 with many public clients)."""
    ident = groups[rule.group]
    last = rule.last_port if rule.last_port is not None else rule.port
    ports = f"{rule.port}_to_{last}" if last != rule.port else str(rule.port)
    peer = groups[rule.peer_group] if rule.peer_group else tf_slug(str(rule.cidr))
    source = rule.peer_group or rule.cidr
    block = (
        Block(
            "resource", ["openstack_networking_secgroup_rule_v2", f"{ident}_{rule.protocol}_{ports}_{peer}"]
        )
        .set("description", one_line(f"{rule.why} {rule.protocol}/{ports} from {source}", 255))
        .set("direction", "ingress")
        .set("ethertype", _ethertype(rule))
        .set("protocol", rule.protocol)
        .set("port_range_min", rule.port)
        .set("port_range_max", last)
    )
    if rule.peer_group:
        block.set("remote_group_id", Expr(f"openstack_networking_secgroup_v2.{peer}.id"))
    else:
        block.set("remote_ip_prefix", str(rule.cidr))
    return block.set("security_group_id", Expr(f"openstack_networking_secgroup_v2.{ident}.id"))


def _ethertype(rule: IngressRule) -> str:
    if rule.cidr is None:
        return "IPv4"
    return "IPv6" if ipaddress.ip_network(rule.cidr).version == 6 else "IPv4"


def _server_group(wave: WaveInput, s: SpreadSet, ident: str) -> Block:
    """Nova places the members on different hosts; `anti-affinity` is strict (a member that
    cannot be placed fails), as a DRS must rule is, and replicas need."""
    return (
        Block("resource", ["openstack_compute_servergroup_v2", ident])
        .set("name", f"wave{wave.number}-{dns_slug(s.id)}")
        .set("policies", ["anti-affinity"])
    )


def _metadata(wave: WaveInput, vm: VMInput, extra: dict[str, str] | None = None) -> dict[str, Value]:
    """Traceability facts as Nova/Cinder metadata (keys and values at most 255 characters)."""
    record = vm.record
    found: dict[str, Value] = {
        "Name": aws_tag_value(vm.name)[:METADATA_MAX],
        "migration-wave": str(wave.number),
        "source-moref": aws_tag_value(str(record.get("moref") or ""))[:METADATA_MAX],
        "source-uuid": aws_tag_value(str(record.get("instance_uuid") or record.get("bios_uuid") or "")),
        "app": aws_tag_value(vm.app or "")[:METADATA_MAX],
        "env": aws_tag_value(vm.env or "")[:METADATA_MAX],
        "tier": aws_tag_value(vm.tier or "")[:METADATA_MAX],
    }
    for key, value in vm.changes.tags:  # plan edits
        found[aws_tag_value(key)[:METADATA_MAX]] = aws_tag_value(value)[:METADATA_MAX]
    found.update(extra or {})
    return found


def _vm_blocks(wave: WaveInput, vm: VMInput, flavor: Flavor, names: _Names) -> list[Block]:
    ident, cloud = names.vms[vm.name], names.cloud[vm.name]
    group = names.groups[tier_key(vm)]
    keys = [subnet_key(vm, nic) for nic in vm.nics] or [NO_NETWORK]
    ports = [_port(wave, vm, (ident, cloud), index, key, group) for index, key in enumerate(keys)]
    spread = names.spread_of.get(vm.name)
    instance = _instance(wave, vm, (ident, cloud), flavor, len(keys))
    extra: dict[str, str] = {}
    if spread:  # Nova's scheduler keeps the group's members on different hosts
        group_id = Expr(f"openstack_compute_servergroup_v2.{names.spread[spread.id]}.id")
        instance.set("scheduler_hints", Block("scheduler_hints").set("group", group_id))
        extra["migrator-spread-set"] = aws_tag_value(spread.id)[:METADATA_MAX]
    instance.set("metadata", _metadata(wave, vm, extra))
    return [*ports, instance, *_data_volumes(wave, vm, (ident, cloud))]


def _port(wave: WaveInput, vm: VMInput, named: tuple[str, str], index: int, key: str, group: str) -> Block:
    """One Neutron port per source NIC (a VM with none gets one on the `unconnected` network)."""
    ident, cloud = named
    return (
        Block("resource", ["openstack_networking_port_v2", f"{ident}_port{index}"])
        .set("name", f"{cloud}-port{index}")
        .set("network_id", Expr(f'var.network_ids["{key}"]'))
        .set("admin_state_up", True)
        .set("security_group_ids", [Expr(f"openstack_networking_secgroup_v2.{group}.id")])
        .set(
            "tags",
            [
                f"migration-wave={wave.number}",
                f"source-moref={aws_tag_value(str(vm.record.get('moref') or ''))}",
            ],
        )
    )


def _boot_gb(vm: VMInput) -> int:
    disks = list(vm.record.get("disks") or [])
    change = vm.changes.volume(disks[0].get("label")) if disks else None
    size = math.ceil(float(disks[0].get("capacity_gb") or 0)) if disks else 0
    return (change.size_gb if change else None) or max(size, MIN_BOOT_GB)


def _volume_type(vm: VMInput, index: int) -> Value:
    """The wave's `var.volume_type`, or the volume type a disk-type edit names for this disk."""
    disks = list(vm.record.get("disks") or [])
    edited = vm.changes.volume(disks[index].get("label")).type if index < len(disks) else None
    return edited if edited is not None else Expr("var.volume_type")


def _instance(_wave: WaveInput, vm: VMInput, named: tuple[str, str], flavor: Flavor, nports: int) -> Block:
    """The instance boots from a volume the size of its source OS disk (flavors' root disks are
    often smaller than a VMware OS disk; the boot volume outlives the instance)."""
    ident, cloud = named
    family = str(vm.sizing["os_family"])
    boot = (
        Block("block_device")
        .set("uuid", Expr(f'lookup(var.image_overrides, "{ident}", var.image_ids["{family}"])'))
        .set("source_type", "image")
        .set("destination_type", "volume")
        .set("volume_size", _boot_gb(vm))
        .set("volume_type", _volume_type(vm, 0))
        .set("boot_index", 0)
        .set("delete_on_termination", False)
    )
    block = (
        Block("resource", ["openstack_compute_instance_v2", ident])
        .set("name", cloud)
        .set("flavor_name", flavor.name)
        .set("key_pair", Expr("var.key_pair"))
        .set("availability_zone", Expr("var.availability_zone"))
        .set("block_device", boot)
    )
    for index in range(nports):  # the first port is the primary
        port = Expr(f"openstack_networking_port_v2.{ident}_port{index}.id")
        block.set("network", Block("network").set("port", port))
    return block


def _data_volumes(wave: WaveInput, vm: VMInput, named: tuple[str, str]) -> list[Block]:
    ident, cloud = named
    blocks = []
    for index, disk in enumerate(list(vm.record.get("disks") or [])[1:], start=1):
        name = f"{ident}_vol{index}"
        change = vm.changes.volume(disk.get("label"))
        size = change.size_gb or max(1, math.ceil(float(disk.get("capacity_gb") or 0)))
        extra = {"Name": aws_tag_value(f"{vm.name} disk {index}")[:METADATA_MAX]}
        blocks.append(
            Block("resource", ["openstack_blockstorage_volume_v3", name])
            .set("name", f"{cloud}-vol{index}")
            .set("size", size)
            .set("volume_type", _volume_type(vm, index))
            .set("availability_zone", Expr("var.availability_zone"))
            .set("metadata", _metadata(wave, vm, extra))
        )
        blocks.append(
            Block("resource", ["openstack_compute_volume_attach_v2", name])
            .set("instance_id", Expr(f"openstack_compute_instance_v2.{ident}.id"))
            .set("volume_id", Expr(f"openstack_blockstorage_volume_v3.{name}.id"))
        )
    return blocks


def _outputs(wave: WaveInput, ids: dict[str, str]) -> list[Block]:
    def by_vm(attribute: str) -> dict[str, Value]:
        return {
            name: Expr(f"openstack_compute_instance_v2.{ident}.{attribute}")
            for name, ident in sorted(ids.items())
        }

    return [
        Block("output", ["migration_wave"])
        .set("description", "The migrator wave this root module is.")
        .set("value", wave.number),
        Block("output", ["instance_ids"])
        .set("description", "Nova instance ID per source VM.")
        .set("value", by_vm("id")),
        Block("output", ["private_ips"])
        .set("description", "Primary fixed IPv4 per source VM.")
        .set("value", by_vm("access_ip_v4")),
    ]


def _tfvars_example(networks: list[str]) -> str:
    lines = [
        "# Copy to terraform.tfvars and fill in. Generated by migrator; IDs below are placeholders.",
        "# Credentials come from clouds.yaml (OS_CLOUD) or the OS_* environment, never from this file.",
        'key_pair = "REPLACE"',
        'volume_type = "REPLACE"',
        'availability_zone = "nova"',
        "network_ids = {",
        *(f'  "{n}" = "REPLACE"' for n in networks),
        "}",
        "image_ids = {",
        '  "linux" = "REPLACE"',
        '  "windows" = "REPLACE"',
        "}",
        "",
    ]
    return "\n".join(lines)
