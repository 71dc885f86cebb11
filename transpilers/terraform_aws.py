"""terraform-aws: one root module per wave (docs/transpilers.md has the full mapping).

versions.tf pins Terraform and the AWS provider; variables.tf holds everything the inventory
cannot know (subnets per source network, AMIs, the KMS key); main.tf has per VM an aws_instance
with IMDSv2 and an encrypted gp3 root volume, an aws_ebs_volume + attachment per further disk,
secondary NICs as network interfaces, security groups from observed flows and spread placement
groups for anti-affinity sets.
"""

from __future__ import annotations

import math
from collections import defaultdict

from migrator.diagnostics import Diagnostic
from transpilers import mgn
from transpilers.base import OptionSpec, Rendered, TranspilerMeta, header
from transpilers.escape import aws_description, aws_tag_value, hcl_string, one_line
from transpilers.hcl import Block, Expr, Value, render, terraform_versions, variable
from transpilers.model import SpreadSet, TargetOptions, VMInput, VolumeChange, WaveInput
from transpilers.naming import dns_slug, tf_names, tf_slug
from transpilers.security_groups import (
    WORLD_V4,
    IngressRule,
    collapsed,
    edited_rules,
    ingress_rules,
    tier_key,
)

HEADER = header("terraform-aws")
ROOT_MIN_GB = 8  # smallest root volume the common AMIs accept
DATA_DEVICES = [f"/dev/sd{c}" for c in "fghijklmnopqrstuvwxyz"] + [f"/dev/xvdb{c}" for c in "abcdefghij"]
NO_NETWORK = "unconnected"


def network_key(name: str | None) -> str:
    return dns_slug(name) if name else NO_NETWORK


def subnet_key(vm: VMInput, nic: dict[str, object]) -> str:
    """The `var.subnet_ids` key a NIC uses: a plan edit's network, else its source network's."""
    return vm.changes.network(nic) or network_key(str(nic["network"]))


def subnet_keys(placed: dict[str, VMInput]) -> list[str]:
    """Every `var.subnet_ids` key the placed VMs use, sorted; NO_NETWORK when a VM has no NIC."""
    keys = {subnet_key(vm, n) for vm in placed.values() for n in vm.nics}
    if any(not vm.nics for vm in placed.values()):
        keys.add(NO_NETWORK)
    return sorted(keys)


class TerraformAws:
    meta = TranspilerMeta(
        id="terraform-aws",
        target="AWS EC2 (hashicorp/aws ~> 6.0)",
        version="1",
        language="terraform",
        description="EC2 instances, EBS volumes, security groups from flows, spread placement groups",
        options=(OptionSpec("region", str, "us-east-1", "default region in variables.tf."),),
    )

    def estate_files(self, options: TargetOptions) -> dict[str, str]:
        return {}  # every file is per wave

    def render(self, wave: WaveInput, options: TargetOptions) -> Rendered:
        notes: list[Diagnostic] = []
        placed: dict[str, VMInput] = {}
        for vm in wave.vms:
            if vm.name in wave.blocked:
                continue
            if vm.sizing["aws"]["instance_type"] is None:
                notes.append(
                    Diagnostic(
                        "transpiler",
                        "TF-NO-INSTANCE-TYPE",
                        "error",
                        "main.tf",
                        None,
                        f"{vm.name}: {vm.sizing['vcpu']} vCPU / {vm.sizing['memory_mb']} MiB fits no "
                        "catalogued instance type",
                        vm.name,
                    )
                )
                continue
            placed[vm.name] = vm
        ids = tf_names(placed)
        groups = sorted({tier_key(vm) for vm in placed.values()})
        group_ids = tf_names(groups)
        rules, rule_notes = ingress_rules(wave, placed, options)
        # edits name the observed /32s, so they apply before the addresses are joined into blocks
        rules = collapsed(edited_rules(rules, wave.port_rules))
        notes += rule_notes
        spread = [s for s in wave.spread if sum(vm in placed for vm in s.vms) >= 2]
        spread_ids = tf_names(s.id for s in spread)
        spread_of: dict[str, SpreadSet] = {}
        for s in spread:  # an instance joins one placement group: the first set that names it
            for member in s.vms:
                spread_of.setdefault(member, s)
        networks = subnet_keys(placed)

        main: list[Block] = [_provider()]
        main += [_security_group(wave, g, group_ids[g]) for g in groups]
        main += [_egress(group_ids[g]) for g in groups]
        main += _ingress_blocks(rules, group_ids)
        main += [_placement_group(wave, s, spread_ids[s.id]) for s in spread]
        for name in sorted(placed):
            member_of = spread_of.get(name)
            main += _instance(
                wave,
                placed[name],
                ids[name],
                group_ids[tier_key(placed[name])],
                spread_ids[member_of.id] if member_of else None,
                member_of,
            )
        nsx = _nsx_segments(wave, placed)
        blocks = {
            "versions.tf": [terraform_versions("aws", "hashicorp/aws", "~> 6.0")],
            "variables.tf": _variables(networks, sorted(nsx), region=options.region)
            + _zonevariable(wave.availability_zone),
            "main.tf": main,
            "outputs.tf": _outputs(wave, ids, group_ids),
        }
        files = {name: render(file_blocks, HEADER) for name, file_blocks in blocks.items()}
        files["terraform.tfvars.example"] = _tfvars_example(options, networks, placed, nsx)
        if wave.availability_zone:  # a plan edit's: the subnets must be in it
            files["terraform.tfvars.example"] += f"availability_zone = {hcl_string(wave.availability_zone)}\n"
        files.update(_mgn_files(wave, placed, options, group_ids, spread_of))
        return Rendered(files, notes, blocks)


def _mgn_files(
    wave: WaveInput,
    placed: dict[str, VMInput],
    options: TargetOptions,
    group_ids: dict[str, str],
    spread_of: dict[str, SpreadSet],
) -> dict[str, str]:
    """The MGN hand-off (transpilers/mgn.py) from the values main.tf uses: instance type, subnet
    keys, security group and tags."""
    rows, checks, platforms = [], {}, {}
    for name in sorted(placed):
        vm = placed[name]
        spread = spread_of.get(name)
        extra = {"migrator-spread-set": aws_tag_value(spread.id)} if spread else {}
        tags = {k: str(v) for k, v in _tags(wave, vm, extra).items()}
        subnets = [subnet_key(vm, n) for n in vm.nics] or [NO_NETWORK]
        rows.append(mgn.server_row(wave, vm, options.region, tags, subnets, group_ids[tier_key(vm)]))
        checks[name], platforms[name] = mgn.port_checks(wave, vm), rows[-1]["mgn:server:platform"]
    if not rows:
        return {}
    return {mgn.CSV_FILE: mgn.import_csv(rows), mgn.POST_LAUNCH_FILE: mgn.post_launch(checks, platforms)}


def _nsx_segments(wave: WaveInput, placed: dict[str, VMInput]) -> dict[str, str]:
    """Subnet key -> what it was, for source networks that are NSX segments (no VLAN)."""
    found: dict[str, str] = {}
    for vm in placed.values():
        for nic in vm.nics:
            if vm.changes.network(nic):
                continue  # a plan edit maps it to a network of the target's, not the segment
            net = wave.networks.get(nic["network"])
            if net is not None and net.nsx:
                found[network_key(nic["network"])] = net.describe()
    return found


def _variables(networks: list[str], nsx: list[str], region: str = "us-east-1") -> list[Block]:
    keys = ", ".join(networks)
    segments = f" NSX segments among them: {', '.join(nsx)}." if nsx else ""
    return [
        variable("region", "string", "AWS region the wave lands in.", region),  # --region
        variable("vpc_id", "string", "VPC the wave's security groups are created in."),
        variable("subnet_ids", "map(string)", f"Subnet ID per source network; keys: {keys}.{segments}"),
        variable("ami_ids", "map(string)", "AMI ID per OS family; keys: linux, windows."),
        variable("ami_overrides", "map(string)", "AMI ID per VM (Terraform name), overriding ami_ids.", {}),
        variable("kms_key_id", "string", "ARN of the KMS key that encrypts every EBS volume."),
        variable("common_tags", "map(string)", "Tags added to every resource (provider default_tags).", {}),
    ]


def _zonevariable(zone: str | None) -> list[Block]:
    """The availability zone a plan edit chose for the wave (none: the subnets decide)."""
    if zone is None:
        return []
    description = "Availability zone of the wave's instances (plan edit); every subnet must be in it."
    return [variable("availability_zone", "string", description, zone)]


def _provider() -> Block:
    tags = Block("default_tags").set("tags", Expr("var.common_tags"))
    return Block("provider", ["aws"]).set("region", Expr("var.region")).set("default_tags", tags)


def _security_group(wave: WaveInput, group: str, ident: str) -> Block:
    return (
        Block("resource", ["aws_security_group", ident])
        .set("name", f"wave{wave.number}-{dns_slug(group)}")
        .set("description", aws_description(f"Tier {group}, wave {wave.number}: ingress from observed flows"))
        .set("vpc_id", Expr("var.vpc_id"))
        .set("tags", {"Name": f"wave{wave.number}-{dns_slug(group)}", "migration-wave": str(wave.number)})
    )


def _egress(ident: str) -> Block:
    return (
        Block("resource", ["aws_vpc_security_group_egress_rule", f"{ident}_all"])
        .set("security_group_id", Expr(f"aws_security_group.{ident}.id"))
        .set("description", "All outbound (the AWS default for a new group)")
        .set("ip_protocol", "-1")
        .set("cidr_ipv4", WORLD_V4)
    )


def _ingress_blocks(rules: list[IngressRule], group_ids: dict[str, str]) -> list[Block]:
    blocks = []
    for rule in rules:
        ident = group_ids[rule.group]
        peer = group_ids[rule.peer_group] if rule.peer_group else tf_slug(str(rule.cidr))
        ports = f"{rule.port}_to_{rule.last_port}" if rule.last_port is not None else str(rule.port)
        source = rule.peer_group or rule.cidr
        block = (
            Block(
                "resource",
                ["aws_vpc_security_group_ingress_rule", f"{ident}_{rule.protocol}_{ports}_{peer}"],
            )
            .set("security_group_id", Expr(f"aws_security_group.{ident}.id"))
            .set(
                "description",
                aws_description(f"{rule.why} {rule.protocol}/{ports.replace('_to_', '-')} from {source}"),
            )
            .set("ip_protocol", rule.protocol)
            .set("from_port", rule.port)
            .set("to_port", rule.port if rule.last_port is None else rule.last_port)
        )
        if rule.peer_group:
            block.set("referenced_security_group_id", Expr(f"aws_security_group.{peer}.id"))
        elif rule.cidr and ":" in rule.cidr:
            block.set("cidr_ipv6", rule.cidr)
        else:
            block.set("cidr_ipv4", str(rule.cidr))
        blocks.append(block)
    return blocks


def _placement_group(wave: WaveInput, s: SpreadSet, ident: str) -> Block:
    return (
        Block("resource", ["aws_placement_group", ident])
        .set("name", f"wave{wave.number}-{dns_slug(s.id)}")
        .set("strategy", "spread")
        .set("tags", {"source-rule": aws_tag_value(s.id), "migration-wave": str(wave.number)})
    )


def _tags(wave: WaveInput, vm: VMInput, extra: dict[str, str] | None = None) -> dict[str, Value]:
    record = vm.record
    tags: dict[str, Value] = {
        "Name": aws_tag_value(vm.name),
        "migration-wave": str(wave.number),
        "source-moref": aws_tag_value(str(record.get("moref") or "")),
        "source-uuid": aws_tag_value(str(record.get("instance_uuid") or record.get("bios_uuid") or "")),
        "app": aws_tag_value(vm.app or ""),
        "env": aws_tag_value(vm.env or ""),
        "tier": aws_tag_value(vm.tier or ""),
    }
    tags.update({key: aws_tag_value(value) for key, value in vm.changes.tags})  # plan edits
    tags.update(extra or {})
    return tags


def _instance(
    wave: WaveInput, vm: VMInput, ident: str, group: str, spread_ident: str | None, spread: SpreadSet | None
) -> list[Block]:
    family = vm.sizing["os_family"]
    disks = list(vm.record.get("disks") or [])
    nics = vm.nics
    extra = {"migrator-spread-set": aws_tag_value(spread.id)} if spread else {}
    block = (
        Block("resource", ["aws_instance", ident])
        .set("ami", Expr(f'lookup(var.ami_overrides, "{ident}", var.ami_ids["{family}"])'))
        .set("instance_type", str(vm.sizing["aws"]["instance_type"]))
        .set("subnet_id", Expr(f'var.subnet_ids["{subnet_key(vm, nics[0]) if nics else NO_NETWORK}"]'))
        .set("vpc_security_group_ids", [Expr(f"aws_security_group.{group}.id")])
    )
    if wave.availability_zone:
        block.set("availability_zone", Expr("var.availability_zone"))
    if spread_ident:
        block.set("placement_group", Expr(f"aws_placement_group.{spread_ident}.name"))
    block.set(
        "metadata_options",
        Block("metadata_options")
        .set("http_endpoint", "enabled")
        .set("http_tokens", "required")
        .set("http_put_response_hop_limit", 1),
    )
    root_gb = max(ROOT_MIN_GB, math.ceil(float(disks[0].get("capacity_gb") or 0))) if disks else ROOT_MIN_GB
    root = vm.changes.volume(disks[0].get("label")) if disks else VolumeChange()
    root_block = Block("root_block_device").set("volume_size", root.size_gb or root_gb)
    block.set(
        "root_block_device",
        _performance(root_block.set("volume_type", root.type or "gp3"), root)
        .set("encrypted", True)
        .set("kms_key_id", Expr("var.kms_key_id")),
    )
    block.set("tags", _tags(wave, vm, extra))
    blocks = [block]
    for index, disk in enumerate(disks[1:]):
        name = f"{ident}_disk{index + 1}"
        volume_tags = _tags(wave, vm, {"Name": aws_tag_value(f"{vm.name} disk {index + 1}")})
        change = vm.changes.volume(disk.get("label"))
        volume = (
            Block("resource", ["aws_ebs_volume", name])
            .set("availability_zone", Expr(f"aws_instance.{ident}.availability_zone"))
            .set("size", change.size_gb or max(1, math.ceil(float(disk.get("capacity_gb") or 0))))
            .set("type", change.type or "gp3")
        )
        blocks.append(
            _performance(volume, change)
            .set("encrypted", True)
            .set("kms_key_id", Expr("var.kms_key_id"))
            .set("tags", volume_tags)
        )
        device = DATA_DEVICES[index] if index < len(DATA_DEVICES) else f"/dev/xvdc{index}"
        blocks.append(
            Block("resource", ["aws_volume_attachment", name])
            .set("device_name", device)
            .set("volume_id", Expr(f"aws_ebs_volume.{name}.id"))
            .set("instance_id", Expr(f"aws_instance.{ident}.id"))
        )
    for index, nic in enumerate(nics[1:], start=1):
        name = f"{ident}_nic{index}"
        blocks.append(
            Block("resource", ["aws_network_interface", name])
            .set("subnet_id", Expr(f'var.subnet_ids["{subnet_key(vm, nic)}"]'))
            .set("security_groups", [Expr(f"aws_security_group.{group}.id")])
            .set("tags", _tags(wave, vm, {"Name": aws_tag_value(f"{vm.name} nic {index}")}))
        )
        blocks.append(
            Block("resource", ["aws_network_interface_attachment", name])
            .set("instance_id", Expr(f"aws_instance.{ident}.id"))
            .set("network_interface_id", Expr(f"aws_network_interface.{name}.id"))
            .set("device_index", index)
        )
    return blocks


def _performance(block: Block, change: VolumeChange) -> Block:
    """IOPS and throughput where a plan edit sets them (otherwise the volume type's baseline)."""
    if change.iops is not None:
        block.set("iops", change.iops)
    if change.throughput is not None:
        block.set("throughput", change.throughput)
    return block


def _outputs(wave: WaveInput, ids: dict[str, str], group_ids: dict[str, str]) -> list[Block]:
    def by_vm(attribute: str) -> dict[str, Value]:
        return {name: Expr(f"aws_instance.{ident}.{attribute}") for name, ident in sorted(ids.items())}

    # What `migrator handoff mgn` fills the MGN import file's {{...}} cells with, read from
    # `terraform output -json` after the security groups are applied (docs/handoff.md).
    groups: dict[str, Value] = {
        ident: Expr(f"aws_security_group.{ident}.id") for ident in sorted(group_ids.values())
    }
    return [
        Block("output", ["migration_wave"])
        .set("description", "The migrator wave this root module is (checked by migrator handoff mgn).")
        .set("value", wave.number),
        Block("output", ["subnet_ids"])
        .set("description", "Subnet ID per network key (the MGN import file's subnet cells).")
        .set("value", Expr("var.subnet_ids")),
        Block("output", ["security_group_ids"])
        .set("description", "Security group ID per Terraform name (the MGN import file's group cells).")
        .set("value", groups),
        Block("output", ["instance_ids"])
        .set("description", "EC2 instance ID per source VM.")
        .set("value", by_vm("id")),
        Block("output", ["private_ips"])
        .set("description", "Private IP per source VM.")
        .set("value", by_vm("private_ip")),
    ]


def _tfvars_example(
    options: TargetOptions, networks: list[str], placed: dict[str, VMInput], nsx: dict[str, str]
) -> str:
    families = sorted({vm.sizing["os_family"] for vm in placed.values()} | {"linux"})
    vlans: dict[str, set[str]] = defaultdict(set)
    for vm in placed.values():
        for nic in vm.nics:
            if nic.get("vlan") is not None and not vm.changes.network(nic):
                vlans[network_key(nic["network"])].add(str(nic["vlan"]))
    lines = [
        "# Copy to terraform.tfvars and fill in. Generated by migrator; IDs below are placeholders.",
        f"region = {hcl_string(options.region)}",
        'vpc_id = "vpc-REPLACE"',
        'kms_key_id = "arn:aws:kms:REGION:ACCOUNT:key/REPLACE"',
        "subnet_ids = {",
        *(f'  "{n}" = "subnet-REPLACE"' + _subnet_comment(vlans[n], nsx.get(n)) for n in networks),
        "}",
        "ami_ids = {",
        *(f'  "{f}" = "ami-REPLACE"' for f in families),
        "}",
        "",
    ]
    return "\n".join(lines)


def _subnet_comment(vlans: set[str], nsx: str | None) -> str:
    if nsx:  # the segment id is inventory text: one visible line, so it cannot end the comment
        return f"  # source {one_line(nsx)}"
    return f"  # source VLAN {', '.join(sorted(vlans))}" if vlans else ""
