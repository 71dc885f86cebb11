"""terraform-google: one root module per wave (docs/targets.md has the full mapping).

versions.tf pins Terraform and the google provider; variables.tf holds everything the inventory
cannot know (project, region and zone, the VPC network and a subnetwork per source network,
images, the Cloud KMS key); main.tf has per VM a google_compute_instance (machine type from the
GCE catalogue, shielded VM where the source boots EFI, network tags of its tier, labels from its
facts), its boot disk and a google_compute_disk + attached_disk per data disk, firewall rules per
tier from observed flows (transpilers/security_groups.py) and a spread placement policy per
anti-affinity set of the plan.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from migrator.diagnostics import Diagnostic
from transpilers.base import Rendered, TranspilerMeta, header
from transpilers.escape import one_line
from transpilers.hcl import Block, Expr, Value, render, terraform_versions, variable
from transpilers.model import SpreadSet, TargetOptions, VMInput, WaveInput
from transpilers.naming import ascii_fold, dns_slug, short_hash, tf_names, tf_slug, unique
from transpilers.security_groups import WORLD_V4, IngressRule, edited_rules, ingress_rules, tier_key
from transpilers.terraform_aws import NO_NETWORK, subnet_key, subnet_keys
from waves.edits import DISK_TYPES
from waves.sizing import edited_size, gcp_of

HEADER = header("terraform-google")
DATABASE_TIERS = {"db", "database", "sql", "data"}  # as the guardrails name them (policies/iac)
PD_BALANCED, PD_SSD, HYPERDISK = "pd-balanced", "pd-ssd", "hyperdisk-balanced"
GCE_DISK_TYPES = DISK_TYPES["gcp"] or frozenset()  # the edits vocabulary's, one list
HYPERDISK_ONLY = {"n4"}  # machine families that attach Hyperdisk only (no persistent disk types)
NAME_MAX = 55  # a GCE name is at most 63 characters: room for the -disk12 suffix
LABEL_MAX = 63
MAX_DOMAINS = 8  # a spread placement policy's most availability domains
_LABEL_UNSAFE = re.compile(r"[^a-z0-9_-]")


def gce_label(text: str) -> str:
    """A GCE label value: lowercase ASCII letters, digits, `_` and `-`, at most 63 characters.
    Letters are folded to ASCII and lowercased, every other character becomes `_`; a longer value
    keeps its first 56 characters and a hash of the whole, so distinct long values stay distinct."""
    value = _LABEL_UNSAFE.sub("_", ascii_fold(one_line(text, 1024)))
    if len(value) > LABEL_MAX:
        value = value[: LABEL_MAX - 7] + "-" + short_hash(text)
    return value


def gce_label_key(text: str) -> str:
    """A GCE label key: as a value, but never empty and starting with a lowercase letter."""
    key = gce_label(text)
    if not key or not key[0].isalpha():
        key = ("k_" + key)[:LABEL_MAX] if len(key) <= LABEL_MAX - 2 else "k_" + key[9:]
    return key


def gce_name(name: str, limit: int = NAME_MAX) -> str:
    """A GCE resource name: `[a-z]([-a-z0-9]*[a-z0-9])?` of at most `limit` characters (a hash
    of the whole where it had to be shortened)."""
    slug = dns_slug(name, limit)
    return slug if slug[0].isalpha() else dns_slug("vm-" + slug, limit)


@dataclass(frozen=True)
class _Names:
    """The Terraform and GCE names of the wave's VMs, tier groups and anti-affinity sets."""

    vms: dict[str, str]
    gce: dict[str, str]  # VM -> its instance name (unique in the wave: a hash where slugs collide)
    groups: dict[str, str]
    tags: dict[str, str]  # tier key -> its network tag
    spread: dict[str, str]
    spread_of: dict[str, SpreadSet]


class TerraformGoogle:
    meta = TranspilerMeta(
        id="terraform-google",
        target="Google Compute Engine (hashicorp/google ~> 6.0)",
        version="1",
        language="terraform",
        description="Compute Engine instances, persistent disks, firewall rules from flows, spread placement",
        sizing="gcp",
        cloud="gcp",
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
        main: list[Block] = [_provider()]
        main += [_firewall(wave, rule, names) for rule in rules]
        joined = {s.id for s in names.spread_of.values()}  # a set no VM joins (all in earlier sets): none
        main += [_placement(wave, s, names) for s in wave.spread if s.id in joined]
        for name in sorted(placed):
            main += _vm_blocks(wave, placed[name], names)
        blocks = {
            "versions.tf": [terraform_versions("google", "hashicorp/google", "~> 6.0")],
            "variables.tf": _variables(networks),
            "main.tf": main,
            "outputs.tf": _outputs(wave, names.vms),
        }
        files = {name: render(file_blocks, HEADER) for name, file_blocks in blocks.items()}
        files["terraform.tfvars.example"] = _tfvars_example(networks)
        return Rendered(files, notes, blocks)


def _placed(wave: WaveInput) -> tuple[dict[str, VMInput], list[Diagnostic]]:
    """The wave's VMs that get code: not blocked, and with a machine type that fits their need."""
    placed: dict[str, VMInput] = {}
    notes: list[Diagnostic] = []
    for vm in wave.vms:
        if vm.name in wave.blocked:
            continue
        if gcp_choice(vm)["machine_type"] is None:
            message = (
                f"{vm.name}: {vm.sizing['vcpu']} vCPU / {vm.sizing['memory_mb']} MiB fits no "
                "catalogued Compute Engine machine type"
            )
            notes.append(
                Diagnostic("transpiler", "TF-NO-MACHINE-TYPE", "error", "main.tf", None, message, vm.name)
            )
            continue
        placed[vm.name] = vm
    return placed, notes


def gcp_choice(vm: VMInput) -> dict[str, Any]:
    """The machine type for the VM's need as it stands after plan edits: the sizing's stored
    choice (waves.sizing.size_vm; a resize edit picks again from the GCE catalogue,
    waves/data/gcp-compute-us-central1.json; a sizing made without it is picked here), unless a
    `vm-size` or `size-family` edit chose the machine type."""
    stored: dict[str, Any] | None = vm.sizing.get("gcp")
    chosen = stored if stored is not None else gcp_of(vm.sizing)
    edited = edited_size("gcp", vm.sizing, vm.changes.size("gcp"), vm.changes.family_on("gcp"))
    if edited is None:
        return chosen
    return {
        **chosen,
        "machine_type": edited["type"],
        "family": edited["family"],
        "monthly_usd": edited["monthly_usd"],
    }


def _names(wave: WaveInput, placed: dict[str, VMInput]) -> _Names:
    spread = [s for s in wave.spread if sum(vm in placed for vm in s.vms) >= 2]
    spread_of: dict[str, SpreadSet] = {}
    for s in spread:  # an instance takes one placement policy: the first set that names it
        for member in s.vms:
            if member in placed:
                spread_of.setdefault(member, s)
    gce = {
        vm: name if len(name) <= NAME_MAX else name[: NAME_MAX - 7] + "-" + short_hash(vm)
        for vm, name in unique(placed, gce_name).items()
    }
    tiers = sorted({tier_key(vm) for vm in placed.values()})
    return _Names(
        tf_names(placed),
        gce,
        tf_names(tiers),
        {t: gce_name(f"wave{wave.number}-{n}") for t, n in unique(tiers, gce_name).items()},
        tf_names(s.id for s in spread),
        spread_of,
    )


def _provider() -> Block:
    return (
        Block("provider", ["google"])
        .set("project", Expr("var.project"))
        .set("region", Expr("var.region"))
        .set("zone", Expr("var.zone"))
    )


def _variables(networks: list[str]) -> list[Block]:
    keys = ", ".join(networks)
    return [
        variable("project", "string", "Google Cloud project the wave lands in."),
        variable(
            "region",
            "string",
            "Region of the wave (the machine-type catalogue is priced for us-central1).",
            "us-central1",
        ),
        variable(
            "zone", "string", "Zone every instance and disk of the wave is created in.", "us-central1-a"
        ),
        variable("network", "string", "VPC network (self link) the firewall rules apply to."),
        variable("subnetworks", "map(string)", f"Subnetwork (self link) per source network; keys: {keys}."),
        variable(
            "images",
            "map(string)",
            "Image per OS family; keys: linux, windows (UEFI-capable images for shielded VMs).",
        ),
        variable("image_overrides", "map(string)", "Image per VM (Terraform name), overriding images.", {}),
        variable(
            "kms_key_self_link", "string", "Cloud KMS key (customer-managed encryption) for every disk."
        ),
    ]


def _firewall(wave: WaveInput, rule: IngressRule, names: _Names) -> Block:
    """One ingress rule: to the receiving tier's network tag, from the peer tier's tag or an
    address range (the whole internet only where security_groups.py allows it: 80/443, many
    clients). A custom VPC denies every other ingress by its implied rule."""
    ports = f"{rule.port}-{rule.last_port}" if rule.last_port is not None else str(rule.port)
    source = rule.peer_group or str(rule.cidr)
    peer = names.groups[rule.peer_group] if rule.peer_group else tf_slug(str(rule.cidr))
    ident = f"{names.groups[rule.group]}_{rule.protocol}_{ports.replace('-', '_to_')}_{peer}"
    label = f"wave{wave.number}-{rule.group}-{rule.protocol}-{ports}-from-{source}"
    block = (
        Block("resource", ["google_compute_firewall", ident])
        .set("name", f"{gce_name(label, 56)}-{short_hash(ident)}")  # unique in the project
        .set(
            "description", one_line(f"{rule.why} {rule.protocol}/{ports} from {source} to {rule.group}", 2048)
        )
        .set("network", Expr("var.network"))
        .set("direction", "INGRESS")
        .set("priority", 1000)
        .set("target_tags", [names.tags[rule.group]])
    )
    if rule.peer_group:
        block.set("source_tags", [names.tags[rule.peer_group]])
    else:
        block.set("source_ranges", [WORLD_V4 if rule.cidr == WORLD_V4 else str(rule.cidr)])
    return block.set("allow", Block("allow").set("protocol", rule.protocol).set("ports", [ports]))


def _placement(wave: WaveInput, s: SpreadSet, names: _Names) -> Block:
    members = sum(1 for vm, chosen in names.spread_of.items() if chosen.id == s.id)
    policy = Block("group_placement_policy").set(
        "availability_domain_count", max(2, min(members, MAX_DOMAINS))
    )
    return (
        Block("resource", ["google_compute_resource_policy", names.spread[s.id]])
        .set("name", gce_name(f"wave{wave.number}-{s.id}"))
        .set("description", one_line(f"spread: {s.kind} {s.id}", 2048))
        .set("region", Expr("var.region"))
        .set("group_placement_policy", policy)
    )


def _labels(wave: WaveInput, vm: VMInput, extra: dict[str, str] | None = None) -> dict[str, Value]:
    """The VM's facts as GCE labels (gce_label: lowercase, [a-z0-9_-], at most 63 characters)."""
    record = vm.record
    labels: dict[str, Value] = {
        "name": gce_label(vm.name),
        "migration-wave": str(wave.number),
        "source-moref": gce_label(str(record.get("moref") or "")),
        "source-uuid": gce_label(str(record.get("instance_uuid") or record.get("bios_uuid") or "")),
        "app": gce_label(vm.app or ""),
        "env": gce_label(vm.env or ""),
        "tier": gce_label(vm.tier or ""),
    }
    for key, value in vm.changes.tags:  # plan edits; never over migrator's own labels (`Name` -> `name`)
        escaped = gce_label_key(key)
        if escaped not in labels and escaped != "migrator-spread-set":
            labels[escaped] = gce_label(value)
    labels.update({k: gce_label(v) for k, v in (extra or {}).items()})
    return labels


def _database(vm: VMInput) -> bool:
    return (vm.tier or "").lower() in DATABASE_TIERS


def disk_type(vm: VMInput) -> str:
    """The disk type by the disk's needs: Hyperdisk Balanced on machine families that attach
    nothing else, SSD persistent disks for databases, balanced persistent disks for the rest."""
    if gcp_choice(vm)["family"] in HYPERDISK_ONLY:
        return HYPERDISK
    return PD_SSD if _database(vm) else PD_BALANCED


def _edited_type(edited: str | None, chosen: str) -> str:
    """A plan edit's disk type where it names a GCE one (AWS types such as gp3 do not apply)."""
    return edited if edited in GCE_DISK_TYPES else chosen


def _efi(vm: VMInput) -> bool:
    return str(vm.record.get("firmware") or "").lower() == "efi"


def _vm_blocks(wave: WaveInput, vm: VMInput, names: _Names) -> list[Block]:
    disks = _data_disks(wave, vm, names)
    return [*disks, _instance(wave, vm, names, len(disks))]


def _instance(wave: WaveInput, vm: VMInput, names: _Names, data_disks: int) -> Block:
    ident, gce = names.vms[vm.name], names.gce[vm.name]
    family = str(vm.sizing["os_family"])
    block = (
        Block("resource", ["google_compute_instance", ident])
        .set("name", gce)
        .set("machine_type", str(gcp_choice(vm)["machine_type"]))
        .set("zone", Expr("var.zone"))
        .set("tags", [names.tags[tier_key(vm)]])
        .set("boot_disk", _boot_disk(vm, ident, family))
    )
    for index in range(1, data_disks + 1):
        # encrypted with the KMS key by its google_compute_disk (disk_encryption_key)
        attached = Block("attached_disk").set("source", Expr(f"google_compute_disk.{ident}_disk{index}.id"))
        block.set("attached_disk", attached.set("device_name", f"disk{index}"))
    for key in [subnet_key(vm, nic) for nic in vm.nics] or [NO_NETWORK]:  # no access_config: no public IP
        block.set(
            "network_interface",
            Block("network_interface").set("subnetwork", Expr(f'var.subnetworks["{key}"]')),
        )
    spread = names.spread_of.get(vm.name)
    if spread:
        block.set("resource_policies", [Expr(f"google_compute_resource_policy.{names.spread[spread.id]}.id")])
    if _efi(vm):  # the source boots EFI: a shielded VM (secure boot, vTPM, integrity monitoring)
        shielded = Block("shielded_instance_config").set("enable_secure_boot", True)
        block.set(
            "shielded_instance_config",
            shielded.set("enable_vtpm", True).set("enable_integrity_monitoring", True),
        )
    extra = {"migrator-spread-set": spread.id} if spread else {}
    return block.set("labels", _labels(wave, vm, extra))


def _boot_disk(vm: VMInput, ident: str, family: str) -> Block:
    disks = list(vm.record.get("disks") or [])
    change = vm.changes.volume(disks[0].get("label")) if disks else None
    size = math.ceil(float(disks[0].get("capacity_gb") or 0)) if disks else 0
    params = (
        Block("initialize_params")
        .set("image", Expr(f'lookup(var.image_overrides, "{ident}", var.images["{family}"])'))
        .set("type", _edited_type(change.type if change else None, disk_type(vm)))
        .set("size", (change.size_gb if change else None) or max(size, 10))
    )
    return (
        Block("boot_disk")
        .set("device_name", "boot")
        .set("kms_key_self_link", Expr("var.kms_key_self_link"))
        .set("initialize_params", params)
    )


def _data_disks(wave: WaveInput, vm: VMInput, names: _Names) -> list[Block]:
    """A google_compute_disk per disk beside the boot disk, encrypted with the wave's KMS key
    (the instance attaches each: attached_disk)."""
    ident, gce = names.vms[vm.name], names.gce[vm.name]
    blocks = []
    for index, disk in enumerate(list(vm.record.get("disks") or [])[1:], start=1):
        change = vm.changes.volume(disk.get("label"))
        kind = _edited_type(change.type, disk_type(vm))
        block = (
            Block("resource", ["google_compute_disk", f"{ident}_disk{index}"])
            .set("name", f"{gce}-disk{index}")
            .set("type", kind)
            .set("zone", Expr("var.zone"))
            .set("size", change.size_gb or max(1, math.ceil(float(disk.get("capacity_gb") or 0))))
        )
        if change.iops is not None and kind.startswith(("hyperdisk", "pd-extreme")):
            block.set("provisioned_iops", change.iops)
        if change.throughput is not None and kind.startswith("hyperdisk"):
            block.set("provisioned_throughput", change.throughput)
        block.set(
            "disk_encryption_key",
            Block("disk_encryption_key").set("kms_key_self_link", Expr("var.kms_key_self_link")),
        )
        blocks.append(block.set("labels", _labels(wave, vm, {"disk": f"disk{index}"})))
    return blocks


def _outputs(wave: WaveInput, ids: dict[str, str]) -> list[Block]:
    def by_vm(attribute: str) -> dict[str, Value]:
        return {
            name: Expr(f"google_compute_instance.{ident}.{attribute}") for name, ident in sorted(ids.items())
        }

    return [
        Block("output", ["migration_wave"])
        .set("description", "The migrator wave this root module is.")
        .set("value", wave.number),
        Block("output", ["zone"])
        .set("description", "The zone the wave's instances run in.")
        .set("value", Expr("var.zone")),
        Block("output", ["instance_ids"])
        .set("description", "Compute Engine instance ID per source VM.")
        .set("value", by_vm("instance_id")),
        Block("output", ["private_ips"])
        .set("description", "Primary internal IP per source VM.")
        .set("value", by_vm("network_interface[0].network_ip")),
    ]


def _tfvars_example(networks: list[str]) -> str:
    region = "projects/PROJECT/regions/us-central1"
    return "\n".join(
        [
            "# Copy to terraform.tfvars and fill in. Generated by migrator; values below are placeholders.",
            "# Credentials come from GOOGLE_APPLICATION_CREDENTIALS or gcloud, never from this file.",
            'project = "REPLACE"',
            'region = "us-central1"',
            'zone = "us-central1-a"',
            'network = "projects/PROJECT/global/networks/REPLACE"',
            'kms_key_self_link = "projects/PROJECT/locations/us-central1/keyRings/RING/cryptoKeys/REPLACE"',
            "subnetworks = {",
            *(f'  "{n}" = "{region}/subnetworks/REPLACE"' for n in networks),
            "}",
            "images = {",
            '  "linux" = "projects/debian-cloud/global/images/family/debian-12"',
            '  "windows" = "projects/windows-cloud/global/images/family/windows-2022"',
            "}",
            "",
        ]
    )
