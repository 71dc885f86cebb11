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

from transpilers.model import SpreadSet, TargetOptions, VMInput, VolumeChange, WaveInput
from transpilers.security_groups import tier_key
from waves.edits import (
    AntiAffinity,
    AvailabilityZone,
    BootBus,
    CpuMemory,
    CutoverWindow,
    Edit,
    InstanceFamily,
    InstanceType,
    Namespace,
    Network,
    NicModel,
    PortRule,
    Region,
    StorageClass,
    Tags,
    Volume,
    WavePin,
)
from waves.sizing import (
    KUBEVIRT_MEMORY_STEP_MB,
    cheapest,
    gcp_of,
    instance,
    monthly_usd,
    smallest_in_family,
)


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
    if isinstance(edit, Volume):
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
