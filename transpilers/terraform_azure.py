"""terraform-azure: one root module per wave (docs/targets.md has the full mapping).

versions.tf pins Terraform and the azurerm provider; variables.tf holds everything the inventory
cannot know (the resource group, subnets per source network, images, the disk encryption set,
admin credentials); main.tf has per VM an azurerm_linux_virtual_machine or
azurerm_windows_virtual_machine (secure boot and vTPM where the source boots EFI, from a Gen2
image), its OS disk and managed data disks with attachments, a NIC per source NIC in the subnet
mapped from its portgroup, a network security group per tier with inbound rules from observed
flows (transpilers/security_groups.py), application security groups for peers in the wave, and
availability sets for the plan's anti-affinity sets.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from migrator.diagnostics import Diagnostic
from transpilers.base import Rendered, TranspilerMeta, header
from transpilers.escape import aws_tag_value, one_line
from transpilers.hcl import Block, Expr, Value, render, terraform_versions, variable
from transpilers.model import SpreadSet, TargetOptions, VMInput, WaveInput
from transpilers.naming import dns_names, dns_slug, tf_names, tf_slug
from transpilers.security_groups import WORLD_V4, IngressRule, edited_rules, ingress_rules, tier_key
from transpilers.terraform_aws import NO_NETWORK, subnet_key, subnet_keys
from waves.edits import DISK_TYPES
from waves.sizing import azure_of, data_disks, edited_size

HEADER = header("terraform-azure")
DATABASE_TIERS = {"db", "database", "sql", "data"}  # as the guardrails name them (policies/iac)
PREMIUM_V2, PREMIUM, STANDARD_SSD = "PremiumV2_LRS", "Premium_LRS", "StandardSSD_LRS"
AZURE_DISK_TYPES = DISK_TYPES["azure"] or frozenset()  # the edits vocabulary's, one list
FIRST_PRIORITY, DENY_PRIORITY = 100, 4096  # NSG rule priorities: flows first, the VNet deny last
WINDOWS_NAME_MAX = 15  # a Windows computer name (NetBIOS)
_TAG_KEY_UNSAFE = re.compile(r"[<>%&\\?/]")  # characters Azure refuses in tag names


@dataclass(frozen=True)
class _Names:
    """The Terraform names of the wave's VMs, tier groups and anti-affinity sets."""

    vms: dict[str, str]
    azure: dict[str, str]  # VM -> its Azure resource name (unique in the wave: a hash where slugs collide)
    groups: dict[str, str]
    spread: dict[str, str]
    spread_of: dict[str, SpreadSet]


class TerraformAzure:
    meta = TranspilerMeta(
        id="terraform-azure",
        target="Azure Virtual Machines (hashicorp/azurerm ~> 4.0)",
        version="1",
        language="terraform",
        description="Linux/Windows VMs, managed disks, NICs, NSGs from flows, availability sets",
        sizing="azure",
        cloud="azure",
    )

    def estate_files(self, options: TargetOptions) -> dict[str, str]:
        return {}  # every file is per wave

    def render(self, wave: WaveInput, options: TargetOptions) -> Rendered:
        placed, notes = _placed(wave)
        rules, rule_notes = ingress_rules(wave, placed, options)
        rules = edited_rules(rules, wave.port_rules)
        notes += rule_notes
        names = _names(wave, placed)
        networks = subnet_keys(placed)
        main: list[Block] = [Block("provider", ["azurerm"]).set("features", Block("features"))]
        for group in sorted(names.groups):
            main += _group(wave, group, names.groups[group])
        main += _rules(rules, names.groups, notes)
        joined = {s.id for s in names.spread_of.values()}  # a set no VM joins (all in earlier sets): none
        main += [_availability_set(wave, s, names.spread[s.id]) for s in wave.spread if s.id in joined]
        for name in sorted(placed):
            main += _vm_blocks(wave, placed[name], names)
        windows = any(vm.sizing["os_family"] == "windows" for vm in placed.values())
        blocks = {
            "versions.tf": [terraform_versions("azurerm", "hashicorp/azurerm", "~> 4.0")],
            "variables.tf": _variables(networks, windows),
            "main.tf": main,
            "outputs.tf": _outputs(wave, placed, names.vms),
        }
        files = {name: render(file_blocks, HEADER) for name, file_blocks in blocks.items()}
        files["terraform.tfvars.example"] = _tfvars_example(networks, windows)
        return Rendered(files, notes, blocks)


def _placed(wave: WaveInput) -> tuple[dict[str, VMInput], list[Diagnostic]]:
    """The wave's VMs that get code: not blocked, and with an Azure size that fits their need."""
    placed: dict[str, VMInput] = {}
    notes: list[Diagnostic] = []
    for vm in wave.vms:
        if vm.name in wave.blocked:
            continue
        if azure_choice(vm)["vm_size"] is None:
            notes.append(
                Diagnostic(
                    "transpiler",
                    "TF-NO-VM-SIZE",
                    "error",
                    "main.tf",
                    None,
                    f"{vm.name}: {vm.sizing['vcpu']} vCPU / {vm.sizing['memory_mb']} MiB with "
                    f"{data_disks(vm.record)} data disk(s) fits no catalogued Azure VM size",
                    vm.name,
                )
            )
            continue
        placed[vm.name] = vm
    return placed, notes


def azure_choice(vm: VMInput) -> dict[str, Any]:
    """The Azure size for the VM's need as it stands after plan edits (a resize edit changes the
    need; the Azure catalogue then picks again: waves/data/azure-vm-eastus.json)."""
    chosen = azure_of(vm.sizing, disks=data_disks(vm.record))
    changes = vm.changes
    edited = edited_size(
        "azure", vm.sizing, changes.size("azure"), changes.family_on("azure"), data_disks(vm.record)
    )
    if edited is None:
        return chosen
    return {
        **chosen,
        "vm_size": edited["type"],
        "series": edited["family"],
        "monthly_usd": edited["monthly_usd"],
    }


def _names(wave: WaveInput, placed: dict[str, VMInput]) -> _Names:
    spread = [s for s in wave.spread if sum(vm in placed for vm in s.vms) >= 2]
    spread_of: dict[str, SpreadSet] = {}
    for s in spread:  # a VM joins one availability set: the first set that names it
        for member in s.vms:
            if member in placed:
                spread_of.setdefault(member, s)
    return _Names(
        tf_names(placed),
        dns_names(placed, 56),  # room for the -nicN, -diskN and -osdisk suffixes within 64
        tf_names(sorted({tier_key(vm) for vm in placed.values()})),
        tf_names(s.id for s in spread),
        spread_of,
    )


def _variables(networks: list[str], windows: bool) -> list[Block]:
    keys = ", ".join(networks)
    found = [
        variable("resource_group_name", "string", "Existing resource group the wave lands in."),
        variable(
            "location",
            "string",
            "Azure region of the wave (the size catalogue is priced for eastus).",
            "eastus",
        ),
        variable("subnet_ids", "map(string)", f"Subnet resource ID per source network; keys: {keys}."),
        variable(
            "image_ids",
            "map(string)",
            "Image resource ID per OS family and generation; keys: linux, windows, linux-gen2, "
            "windows-gen2 (Gen2 images for sources that boot EFI: secure boot and vTPM).",
        ),
        variable(
            "image_overrides", "map(string)", "Image ID per VM (Terraform name), overriding image_ids.", {}
        ),
        variable(
            "disk_encryption_set_id", "string", "Disk encryption set (customer-managed key) for every disk."
        ),
        variable("admin_username", "string", "Local administrator created on every VM.", "azureadmin"),
        variable("admin_ssh_public_key", "string", "SSH public key of the administrator (Linux VMs)."),
    ]
    if windows:  # never a default, never in a file migrator writes: TF_VAR_admin_password or a vault
        found.append(
            variable("admin_password", "string", "Password of the administrator (Windows VMs).").set(
                "sensitive", True
            )
        )
    return found


def _located(block: Block) -> Block:
    return block.set("location", Expr("var.location")).set(
        "resource_group_name", Expr("var.resource_group_name")
    )


def _with_tags(block: Block, tags: dict[str, Value]) -> Block:
    return block.set("tags", tags)


def _group(wave: WaveInput, group: str, ident: str) -> list[Block]:
    """A tier's network security group and its application security group (what peer rules name)."""
    tags: dict[str, Value] = {"migration-wave": str(wave.number), "tier-group": aws_tag_value(group)}
    name = f"wave{wave.number}-{dns_slug(group)}"
    nsg = _located(Block("resource", ["azurerm_network_security_group", ident]).set("name", name))
    asg = _located(Block("resource", ["azurerm_application_security_group", ident]).set("name", name))
    deny = (
        Block("resource", ["azurerm_network_security_rule", f"{ident}_deny_vnet"])
        .set("name", "deny-vnet-inbound")
        .set("description", "Only the observed flows above: Azure's default rule admits the whole VNet")
        .set("priority", DENY_PRIORITY)
        .set("direction", "Inbound")
        .set("access", "Deny")
        .set("protocol", "*")
        .set("source_port_range", "*")
        .set("destination_port_range", "*")
        .set("source_address_prefix", "VirtualNetwork")
        .set("destination_address_prefix", "*")
        .set("resource_group_name", Expr("var.resource_group_name"))
        .set("network_security_group_name", Expr(f"azurerm_network_security_group.{ident}.name"))
    )
    return [_with_tags(nsg, tags), _with_tags(asg, tags), deny]


def _rules(rules: list[IngressRule], groups: dict[str, str], notes: list[Diagnostic]) -> list[Block]:
    blocks = []
    priority: dict[str, int] = {}
    for rule in rules:
        ident = groups[rule.group]
        number = priority.get(rule.group, FIRST_PRIORITY)
        if number >= DENY_PRIORITY:
            notes.append(_too_many_rules(rule))
            continue
        priority[rule.group] = number + 1
        blocks.append(_rule(rule, ident, groups, number))
    return blocks


def _rule(rule: IngressRule, ident: str, groups: dict[str, str], priority: int) -> Block:
    ports = f"{rule.port}-{rule.last_port}" if rule.last_port is not None else str(rule.port)
    peer = groups[rule.peer_group] if rule.peer_group else tf_slug(str(rule.cidr))
    source = rule.peer_group or rule.cidr
    block = (
        Block(
            "resource",
            ["azurerm_network_security_rule", f"{ident}_{rule.protocol}_{ports.replace('-', '_to_')}_{peer}"],
        )
        .set("name", f"{rule.protocol}-{ports}-from-{dns_slug(str(source), 50)}")
        .set("description", one_line(f"{rule.why} {rule.protocol}/{ports} from {source}", 140))
        .set("priority", priority)
        .set("direction", "Inbound")
        .set("access", "Allow")
        .set("protocol", rule.protocol.capitalize())
        .set("source_port_range", "*")
        .set("destination_port_range", ports)
    )
    if rule.peer_group:
        block.set(
            "source_application_security_group_ids", [Expr(f"azurerm_application_security_group.{peer}.id")]
        )
    else:  # the whole internet only where security_groups.py allows it (80/443, many clients)
        block.set("source_address_prefix", "Internet" if rule.cidr == WORLD_V4 else str(rule.cidr))
    return (
        block.set("destination_address_prefix", "*")
        .set("resource_group_name", Expr("var.resource_group_name"))
        .set("network_security_group_name", Expr(f"azurerm_network_security_group.{ident}.name"))
    )


def _too_many_rules(rule: IngressRule) -> Diagnostic:
    return Diagnostic(
        "transpiler",
        "TF-TOO-MANY-NSG-RULES",
        "error",
        "main.tf",
        None,
        f"tier {rule.group}: more inbound rules than an NSG's priorities "
        f"{FIRST_PRIORITY}-{DENY_PRIORITY - 1} hold; merge peers into address ranges",
        rule.group,
    )


def _availability_set(wave: WaveInput, s: SpreadSet, ident: str) -> Block:
    block = _located(
        Block("resource", ["azurerm_availability_set", ident])
        .set("name", f"wave{wave.number}-{dns_slug(s.id)}")
        .set("platform_fault_domain_count", 2)
        .set("platform_update_domain_count", 5)
        .set("managed", True)
    )
    return _with_tags(block, {"source-rule": aws_tag_value(s.id), "migration-wave": str(wave.number)})


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
    for key, value in vm.changes.tags:  # plan edits: Azure refuses some characters in tag names
        tags[_TAG_KEY_UNSAFE.sub("_", one_line(key, 512))] = aws_tag_value(value)
    tags.update(extra or {})
    return tags


def _database(vm: VMInput) -> bool:
    return (vm.tier or "").lower() in DATABASE_TIERS


def _production(vm: VMInput) -> bool:
    return (vm.env or "").lower() in ("prod", "production", "prd")


def disk_type(vm: VMInput, os_disk: bool) -> str:
    """The managed disk type by the disk's needs: a database's data disks get Premium SSD v2
    (IOPS and throughput set apart from size; it cannot be an OS disk), production and database
    OS disks Premium SSD, the rest Standard SSD."""
    if _database(vm) and not os_disk:
        return PREMIUM_V2
    return PREMIUM if _database(vm) or _production(vm) else STANDARD_SSD


def _vm_blocks(wave: WaveInput, vm: VMInput, names: _Names) -> list[Block]:
    ident = names.vms[vm.name]
    group = names.groups[tier_key(vm)]
    azure = names.azure[vm.name]
    nics = _nics(wave, vm, (ident, azure), group)
    nic_ids: list[Value] = [
        Expr(f"azurerm_network_interface.{ident}_nic{i}.id") for i in range(max(1, len(vm.nics)))
    ]
    spread = names.spread_of.get(vm.name)
    machine = _machine(wave, vm, (ident, azure), nic_ids, names.spread[spread.id] if spread else None, spread)
    return [*nics, machine, *_data_disks(wave, vm, (ident, azure))]


def _nics(wave: WaveInput, vm: VMInput, named: tuple[str, str], group: str) -> list[Block]:
    """One NIC per source NIC (a VM with none gets one in the `unconnected` subnet), each in its
    tier's NSG and ASG; the first is the primary."""
    ident, azure = named
    keys = [subnet_key(vm, nic) for nic in vm.nics] or [NO_NETWORK]
    blocks = []
    for index, key in enumerate(keys):
        name = f"{ident}_nic{index}"
        config = (
            Block("ip_configuration")
            .set("name", "primary")
            .set("subnet_id", Expr(f'var.subnet_ids["{key}"]'))
            .set("private_ip_address_allocation", "Dynamic")
        )
        nic = _located(
            Block("resource", ["azurerm_network_interface", name]).set("name", f"{azure}-nic{index}")
        ).set("ip_configuration", config)
        blocks.append(_with_tags(nic, _tags(wave, vm, {"Name": aws_tag_value(f"{vm.name} nic {index}")})))
        blocks.append(
            Block("resource", ["azurerm_network_interface_security_group_association", name])
            .set("network_interface_id", Expr(f"azurerm_network_interface.{name}.id"))
            .set("network_security_group_id", Expr(f"azurerm_network_security_group.{group}.id"))
        )
        blocks.append(
            Block("resource", ["azurerm_network_interface_application_security_group_association", name])
            .set("network_interface_id", Expr(f"azurerm_network_interface.{name}.id"))
            .set("application_security_group_id", Expr(f"azurerm_application_security_group.{group}.id"))
        )
    return blocks


def _efi(vm: VMInput) -> bool:
    return str(vm.record.get("firmware") or "").lower() == "efi"


def _machine(
    wave: WaveInput,
    vm: VMInput,
    named: tuple[str, str],  # (Terraform name, Azure name)
    nic_ids: list[Value],
    set_ident: str | None,
    spread: SpreadSet | None,
) -> Block:
    family = str(vm.sizing["os_family"])
    image_key = f"{family}-gen2" if _efi(vm) else family
    kind = "azurerm_windows_virtual_machine" if family == "windows" else "azurerm_linux_virtual_machine"
    limit = WINDOWS_NAME_MAX if family == "windows" else 64
    ident, azure = named
    block = _located(Block("resource", [kind, ident]).set("name", azure))
    block.set("computer_name", dns_slug(vm.name, limit)).set("size", str(azure_choice(vm)["vm_size"]))
    block.set("network_interface_ids", nic_ids)
    block.set(
        "source_image_id", Expr(f'lookup(var.image_overrides, "{ident}", var.image_ids["{image_key}"])')
    )
    block.set("admin_username", Expr("var.admin_username"))
    if family == "windows":
        block.set("admin_password", Expr("var.admin_password"))
    else:
        block.set("disable_password_authentication", True)
    if set_ident:
        block.set("availability_set_id", Expr(f"azurerm_availability_set.{set_ident}.id"))
    if _efi(vm):  # the source boots EFI: a Gen2 image with secure boot and a virtual TPM
        block.set("secure_boot_enabled", True).set("vtpm_enabled", True)
    if family != "windows":
        key = Block("admin_ssh_key").set("username", Expr("var.admin_username"))
        block.set("admin_ssh_key", key.set("public_key", Expr("var.admin_ssh_public_key")))
    block.set("os_disk", _os_disk(vm, azure))
    extra = {"migrator-spread-set": aws_tag_value(spread.id)} if spread else {}
    return _with_tags(block, _tags(wave, vm, extra))


def _os_disk(vm: VMInput, azure: str) -> Block:
    disks = list(vm.record.get("disks") or [])
    change = vm.changes.volume(disks[0].get("label")) if disks else None
    size = math.ceil(float(disks[0].get("capacity_gb") or 0)) if disks else 0
    disk = (
        Block("os_disk")
        .set("name", f"{azure}-osdisk")
        .set("caching", "ReadWrite")
        .set("storage_account_type", _edited_type(change.type if change else None, disk_type(vm, True)))
        .set("disk_encryption_set_id", Expr("var.disk_encryption_set_id"))
    )
    if size or (change and change.size_gb):
        disk.set("disk_size_gb", (change.size_gb if change else None) or max(size, 30))
    return disk


def _edited_type(edited: str | None, chosen: str) -> str:
    """A plan edit's disk type where it names an Azure one (AWS types such as gp3 do not apply)."""
    return edited if edited in AZURE_DISK_TYPES else chosen


def _data_disks(wave: WaveInput, vm: VMInput, named: tuple[str, str]) -> list[Block]:
    ident, azure = named
    blocks = []
    for index, disk in enumerate(list(vm.record.get("disks") or [])[1:], start=1):
        name = f"{ident}_disk{index}"
        change = vm.changes.volume(disk.get("label"))
        kind = _edited_type(change.type, disk_type(vm, False))
        managed = _located(
            Block("resource", ["azurerm_managed_disk", name])
            .set("name", f"{azure}-disk{index}")
            .set("storage_account_type", kind)
            .set("create_option", "Empty")
            .set("disk_size_gb", change.size_gb or max(1, math.ceil(float(disk.get("capacity_gb") or 0))))
        )
        if change.iops is not None and kind == PREMIUM_V2:
            managed.set("disk_iops_read_write", change.iops)
        if change.throughput is not None and kind == PREMIUM_V2:
            managed.set("disk_mbps_read_write", change.throughput)
        managed.set("disk_encryption_set_id", Expr("var.disk_encryption_set_id"))
        blocks.append(
            _with_tags(managed, _tags(wave, vm, {"Name": aws_tag_value(f"{vm.name} disk {index}")}))
        )
        blocks.append(
            Block("resource", ["azurerm_virtual_machine_data_disk_attachment", name])
            .set("managed_disk_id", Expr(f"azurerm_managed_disk.{name}.id"))
            .set("virtual_machine_id", Expr(f"{_kind(vm)}.{ident}.id"))
            .set("lun", index - 1)
            .set("caching", "None" if kind == PREMIUM_V2 else "ReadOnly")
        )
    return blocks


def _kind(vm: VMInput) -> str:
    windows = vm.sizing["os_family"] == "windows"
    return "azurerm_windows_virtual_machine" if windows else "azurerm_linux_virtual_machine"


def _outputs(wave: WaveInput, placed: dict[str, VMInput], ids: dict[str, str]) -> list[Block]:
    def by_vm(attribute: str) -> dict[str, Value]:
        return {
            name: Expr(f"{_kind(placed[name])}.{ident}.{attribute}") for name, ident in sorted(ids.items())
        }

    return [
        Block("output", ["migration_wave"])
        .set("description", "The migrator wave this root module is.")
        .set("value", wave.number),
        Block("output", ["vm_ids"])
        .set("description", "Azure VM resource ID per source VM.")
        .set("value", by_vm("id")),
        Block("output", ["private_ips"])
        .set("description", "Primary private IP per source VM.")
        .set("value", by_vm("private_ip_address")),
    ]


def _tfvars_example(networks: list[str], windows: bool) -> str:
    prefix = "/subscriptions/SUBSCRIPTION/resourceGroups/NETWORK-RG/providers/Microsoft.Network"
    images = "/subscriptions/SUBSCRIPTION/resourceGroups/IMAGES-RG/providers/Microsoft.Compute/images"
    lines = [
        "# Copy to terraform.tfvars and fill in. Generated by migrator; IDs below are placeholders.",
        "# The subscription comes from ARM_SUBSCRIPTION_ID; admin_password from TF_VAR_admin_password.",
        'resource_group_name = "REPLACE"',
        'location = "eastus"',
        'disk_encryption_set_id = "/subscriptions/SUBSCRIPTION/resourceGroups/RG/providers/'
        'Microsoft.Compute/diskEncryptionSets/REPLACE"',
        'admin_ssh_public_key = "ssh-ed25519 REPLACE"',
        "subnet_ids = {",
        *(f'  "{n}" = "{prefix}/virtualNetworks/VNET/subnets/REPLACE"' for n in networks),
        "}",
        "image_ids = {",
        *(f'  "{k}" = "{images}/REPLACE"' for k in ("linux", "linux-gen2", "windows", "windows-gen2")),
        "}",
        "",
    ]
    if not windows:
        lines[1] = "# The subscription comes from ARM_SUBSCRIPTION_ID."
    return "\n".join(lines)
