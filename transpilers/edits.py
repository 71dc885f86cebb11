"""Applying plan edits (waves/edits.py) to one wave's plan model before any transpiler renders it.

The transpilers read the changes from the model (a VM's sizing and record, `VMInput.changes`,
`WaveInput.port_rules`, the target options), so an edit changes exactly what it names and the
output is still rendered, escaped and validated like any other. An edit naming a VM, disk or
security group that is not in the wave is refused with a message and the others still apply.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from transpilers.model import SpreadSet, TargetOptions, VMChanges, VMInput, VolumeChange, WaveInput
from transpilers.security_groups import tier_key
from waves.edits import (
    EBS_TYPES,
    AntiAffinity,
    AvailabilityZone,
    BootBus,
    CpuMemory,
    CutoverWindow,
    DiskType,
    Edit,
    InstanceFamily,
    InstanceType,
    Namespace,
    Network,
    NicModel,
    PortRule,
    Region,
    SizeFamily,
    StorageClass,
    Tags,
    VmSize,
    Volume,
    WavePin,
)
from waves.flavors import load_flavors
from waves.sizing import (
    KUBEVIRT_MEMORY_STEP_MB,
    cheapest,
    data_disks,
    edited_size,
    gcp_of,
    instance,
    monthly_usd,
    size_entry,
    smallest_in_family,
)

HYPERDISK_ONLY = {"n4"}  # Compute Engine families that attach Hyperdisk only (terraform_google.py)


@dataclass(frozen=True)
class Applied:
    wave: WaveInput
    options: TargetOptions
    applied: list[int] = field(default_factory=list)  # indexes into the edits given
    refused: dict[int, str] = field(default_factory=dict)  # index -> why


def apply_edits(wave: WaveInput, options: TargetOptions, edits: Sequence[Edit]) -> Applied:
    """The wave and options with each applicable edit applied in order; the rest refused."""
    vms = {vm.name: vm for vm in wave.vms}
    groups = {tier_key(vm) for vm in wave.vms}
    rules: list[PortRule] = list(wave.port_rules)
    wide = _WaveWide()
    applied: list[int] = []
    refused: dict[int, str] = {}
    for index, edit in enumerate(edits):
        why = _refusal(wave, vms, groups, edit) or _refusal_more(wave, vms, edit)
        why = why or _refusal_cloud(vms, options, edit)
        if why:
            refused[index] = why
            continue
        applied.append(index)
        if isinstance(edit, AntiAffinity | AvailabilityZone | CutoverWindow):
            wide.take(index, edit)
        elif isinstance(edit, Region):
            options = replace(options, region=edit.region)
        elif isinstance(edit, Namespace):
            options = replace(options, namespace=edit.namespace)
        elif isinstance(edit, PortRule):
            rules.append(edit)
        elif edit.vm_name is not None:
            vms[edit.vm_name] = _apply_vm(vms[edit.vm_name], edit)
    changed = replace(wave, vms=tuple(vms[vm.name] for vm in wave.vms), port_rules=tuple(rules))
    if wide.zone is not None and wide.zone[1][:-1] != options.region:  # checked once the region is final
        index, zone = wide.zone
        applied.remove(index)
        refused[index] = f"availability zone {zone} is not in the wave's region {options.region}"
        wide.zone = None
    return Applied(wide.onto(changed), options, applied, refused)


@dataclass
class _WaveWide:
    """The wave-wide edits (spread sets, availability zone, cutover window) gathered in order."""

    spread: list[SpreadSet] = field(default_factory=list)
    zone: tuple[int, str] | None = None  # the edit's index, the zone
    cutover: tuple[datetime, datetime] | None = None

    def take(self, index: int, edit: AntiAffinity | AvailabilityZone | CutoverWindow) -> None:
        if isinstance(edit, AntiAffinity):
            # Before the source's sets, the latest edit first: an EC2 instance joins one placement
            # group, the first set naming it, so the reviewer's latest word decides it.
            self.spread.insert(0, SpreadSet(f"edit-{edit.name}", "edit", tuple(edit.vms), edit.required))
        elif isinstance(edit, AvailabilityZone):
            self.zone = (index, edit.zone)
        else:
            self.cutover = (edit.start, edit.end)

    def onto(self, wave: WaveInput) -> WaveInput:
        if not (self.spread or self.zone or self.cutover):
            return wave
        return replace(
            wave,
            spread=(*self.spread, *wave.spread),
            availability_zone=self.zone[1] if self.zone else wave.availability_zone,
            cutover=self.cutover or wave.cutover,
        )


def _refusal_more(wave: WaveInput, vms: dict[str, VMInput], edit: Edit) -> str | None:
    """What the later kinds name that the wave lacks: a spread set's VMs, a NIC, a fitting type."""
    if isinstance(edit, AntiAffinity):
        missing = [name for name in edit.vms if name not in vms]
        if missing:
            return f"VM(s) {', '.join(repr(m) for m in missing)} not in wave {wave.number}"
    if isinstance(edit, Network):
        labels = [str(n.get("label")) for n in vms[edit.vm].nics]
        if edit.nic not in labels:
            known = ", ".join(repr(label) for label in labels) or "none"
            return f"VM {edit.vm!r} has no NIC labelled {edit.nic!r} on a network (its NICs: {known})"
    if isinstance(edit, InstanceFamily):
        sizing = vms[edit.vm].sizing
        if smallest_in_family(sizing["vcpu"], sizing["memory_mb"], edit.family) is None:
            return (
                f"no {edit.family} type fits {edit.vm!r} ({sizing['vcpu']} vCPU / {sizing['memory_mb']} MiB)"
            )
    return None


def _refusal(wave: WaveInput, vms: dict[str, VMInput], groups: set[str], edit: Edit) -> str | None:
    if isinstance(edit, WavePin):
        return None  # the planner's: already honoured by the plan itself
    if edit.wave_number is not None and edit.wave_number != wave.number:
        return f"names wave {edit.wave_number}, not wave {wave.number}"
    if edit.vm_name is not None and edit.vm_name not in vms:
        return f"VM {edit.vm_name!r} is not in wave {wave.number}"
    if isinstance(edit, Volume | DiskType):
        labels = [d.get("label") for d in vms[edit.vm].record.get("disks") or []]
        if edit.disk not in labels:
            known = ", ".join(repr(str(label)) for label in labels) or "none"
            return f"VM {edit.vm!r} has no disk labelled {edit.disk!r} (its disks: {known})"
    if isinstance(edit, PortRule):
        for name in (edit.group, edit.peer_group):
            if name is not None and name not in groups:
                known = ", ".join(sorted(groups))
                return f"security group {name!r} is not in wave {wave.number} (groups: {known})"
    return None


def _apply_vm(vm: VMInput, edit: Edit) -> VMInput:
    changes = vm.changes
    if isinstance(edit, InstanceType):  # the price follows the type, as PLAN.md's cost table shows it
        price = monthly_usd(instance(edit.instance_type), str(vm.sizing["os_family"]))
        aws = {**vm.sizing["aws"], "instance_type": edit.instance_type, "monthly_usd": price}
        return replace(vm, sizing={**vm.sizing, "aws": aws})
    if isinstance(edit, Volume):
        before = changes.volume(edit.disk)
        merged = VolumeChange(
            edit.type or before.type,
            edit.size_gb or before.size_gb,
            edit.iops or before.iops,
            edit.throughput or before.throughput,
        )
        volumes = (*tuple((lbl, c) for lbl, c in changes.volumes if lbl != edit.disk), (edit.disk, merged))
        changes = replace(changes, volumes=volumes)
    elif isinstance(edit, Tags):
        tags = dict(changes.tags) | edit.tags
        changes = replace(changes, tags=tuple(sorted(tags.items())))
    elif isinstance(edit, BootBus):
        changes = replace(changes, boot_bus=edit.bus)
    elif isinstance(edit, NicModel):
        changes = replace(changes, nic_model=edit.model)
    elif isinstance(edit, StorageClass):
        changes = replace(changes, storage_class=edit.storage_class)
    elif isinstance(edit, Network):
        networks = (
            *tuple((lbl, n) for lbl, n in changes.networks if lbl != edit.nic),
            (edit.nic, edit.network),
        )
        changes = replace(changes, networks=networks)
    elif isinstance(edit, InstanceFamily | CpuMemory):
        return _resized(vm, edit)
    elif isinstance(edit, VmSize | SizeFamily | DiskType):
        changes = _cloud_change(changes, edit)
    return replace(vm, changes=changes)


def _resized(vm: VMInput, edit: InstanceFamily | CpuMemory) -> VMInput:
    """The VM on an edited family or size: the AWS type (and its price) follow the sized needs,
    a size also sets KubeVirt's cores and memory. No type fitting a size leaves the type empty,
    which terraform-aws reports (TF-NO-INSTANCE-TYPE) and generation refuses the edit for."""
    sizing = vm.sizing
    changes = vm.changes
    vcpu, memory = int(sizing["vcpu"]), int(sizing["memory_mb"])
    if isinstance(edit, InstanceFamily):
        changes = replace(changes, family=edit.family)
    else:
        vcpu, memory = edit.vcpu or vcpu, edit.memory_mb or memory
        guest = f"{math.ceil(memory / KUBEVIRT_MEMORY_STEP_MB) * KUBEVIRT_MEMORY_STEP_MB}Mi"
        kubevirt = {"cores": vcpu, "memory_guest": guest, "cpu_request": f"{vcpu * 1000}m"}
        sizing = {**sizing, "vcpu": vcpu, "memory_mb": memory, "kubevirt": {**sizing["kubevirt"], **kubevirt}}
        sizing["kubevirt"]["memory_request"] = guest
        sizing["gcp"] = gcp_of(sizing)  # the stored Compute Engine choice follows the new need
        changes = replace(changes, sizes=())  # a new need re-picks every cloud's size (families stay)
    os_family = str(sizing["os_family"])
    fits = (
        smallest_in_family(vcpu, memory, changes.family)
        if changes.family
        else cheapest(vcpu, memory, os_family)
    )
    aws = {
        **sizing["aws"],
        "instance_type": fits["type"] if fits else None,
        "monthly_usd": monthly_usd(fits, os_family),
    }
    return replace(vm, sizing={**sizing, "aws": aws}, changes=changes)


def _cloud_change(changes: VMChanges, edit: VmSize | SizeFamily | DiskType) -> VMChanges:
    """A size, a size family or a disk type on one cloud: the latest of a size and a family on a
    cloud wins, as an instance type and a family do on AWS."""
    if isinstance(edit, VmSize):
        sizes = (*tuple((c, v) for c, v in changes.sizes if c != edit.cloud), (edit.cloud, edit.size))
        return replace(
            changes, sizes=sizes, families=tuple((c, f) for c, f in changes.families if c != edit.cloud)
        )
    if isinstance(edit, SizeFamily):
        families = (*tuple((c, f) for c, f in changes.families if c != edit.cloud), (edit.cloud, edit.family))
        return replace(
            changes, families=families, sizes=tuple((c, v) for c, v in changes.sizes if c != edit.cloud)
        )
    before = changes.volume(edit.disk)
    iops, throughput = before.iops, before.throughput
    if edit.cloud == "aws":  # an EBS type that takes no IOPS or throughput drops them (gp2, st1, sc1)
        iops_bounds, throughput_bounds = EBS_TYPES[edit.type]
        iops = iops if iops_bounds else None
        throughput = throughput if throughput_bounds else None
    merged = VolumeChange(edit.type, before.size_gb, iops, throughput)
    volumes = (*tuple((lbl, c) for lbl, c in changes.volumes if lbl != edit.disk), (edit.disk, merged))
    return replace(changes, volumes=volumes)


def _refusal_cloud(vms: dict[str, VMInput], options: TargetOptions, edit: Edit) -> str | None:
    """What a cloud's catalogue or flavor file says against a size or disk type edit."""
    if isinstance(edit, VmSize) and edit.cloud == "openstack":
        flavors = load_flavors(options.flavors)
        if flavors.named(edit.size) is None:
            known = ", ".join(f.name for f in flavors.flavors)
            return f"flavor {edit.size!r} is not in the flavor catalogue {flavors.label} ({known})"
        return None
    if isinstance(edit, VmSize | SizeFamily):
        return _size_refusal(vms[edit.vm], edit)
    if isinstance(edit, DiskType):
        return _disk_refusal(vms[edit.vm], edit)
    return None


def _size_refusal(vm: VMInput, edit: VmSize | SizeFamily) -> str | None:
    disks = data_disks(vm.record) if edit.cloud == "azure" else 0
    size = edit.size if isinstance(edit, VmSize) else None
    family = edit.family if isinstance(edit, SizeFamily) else None
    chosen = edited_size(edit.cloud, vm.sizing, size, family, disks)
    if chosen is None or chosen["type"] is None:
        need = f"{vm.sizing['vcpu']} vCPU / {vm.sizing['memory_mb']} MiB"
        return f"no {edit.cloud} {family} size fits {vm.name!r} ({need}, {disks} data disk(s))"
    entry = size_entry(edit.cloud, chosen["type"]) or {}
    if entry.get("max_data_disks", disks) < disks:
        return (
            f"{chosen['type']} attaches at most {entry['max_data_disks']} data disks; {vm.name!r} has {disks}"
        )
    persistent = [c.type for _, c in vm.changes.volumes if c.type and c.type.startswith("pd-")]
    if edit.cloud == "gcp" and chosen["family"] in HYPERDISK_ONLY and persistent:
        return f"{chosen['family']} attaches Hyperdisk only; {vm.name!r} has a {persistent[0]} disk edit"
    return None


def _disk_refusal(vm: VMInput, edit: DiskType) -> str | None:
    first = (vm.record.get("disks") or [{}])[0].get("label")
    if edit.cloud == "azure" and edit.type == "PremiumV2_LRS" and edit.disk == first:
        return f"PremiumV2_LRS cannot be an OS disk ({vm.name!r} disk {edit.disk!r} is its first)"
    if edit.cloud == "gcp" and edit.type.startswith("pd-"):
        family = _gcp_family(vm)
        if family in HYPERDISK_ONLY:
            return f"{vm.name!r} is on {family}, which attaches Hyperdisk only (not {edit.type})"
    return None


def _gcp_family(vm: VMInput) -> str | None:
    """The VM's Compute Engine family as edited so far (else the catalogue's cheapest fit)."""
    edited = edited_size("gcp", vm.sizing, vm.changes.size("gcp"), vm.changes.family_on("gcp"))
    if edited is not None:
        return edited["family"]
    fit = cheapest(int(vm.sizing["vcpu"]), int(vm.sizing["memory_mb"]), str(vm.sizing["os_family"]), "gcp")
    return fit["family"] if fit else None
