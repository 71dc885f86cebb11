"""Applying plan edits (waves/edits.py) to one wave's plan model before any transpiler renders it.

The transpilers read the changes from the model (a VM's sizing and record, `VMInput.changes`,
`WaveInput.port_rules`, the target options), so an edit changes exactly what it names and the
output is still rendered, escaped and validated like any other. An edit naming a VM, disk or
security group that is not in the wave is refused with a message and the others still apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from transpilers.model import TargetOptions, VMInput, VolumeChange, WaveInput
from transpilers.security_groups import tier_key
from waves.edits import (
    BootBus,
    Edit,
    InstanceType,
    Namespace,
    NicModel,
    PortRule,
    Region,
    StorageClass,
    Tags,
    Volume,
    WavePin,
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
    applied: list[int] = []
    refused: dict[int, str] = {}
    for index, edit in enumerate(edits):
        why = _refusal(wave, vms, groups, edit)
        if why:
            refused[index] = why
            continue
        applied.append(index)
        if isinstance(edit, Region):
            options = replace(options, region=edit.region)
        elif isinstance(edit, Namespace):
            options = replace(options, namespace=edit.namespace)
        elif isinstance(edit, PortRule):
            rules.append(edit)
        elif edit.vm_name is not None:
            vms[edit.vm_name] = _apply_vm(vms[edit.vm_name], edit)
    changed = replace(wave, vms=tuple(vms[vm.name] for vm in wave.vms), port_rules=tuple(rules))
    return Applied(changed, options, applied, refused)


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
    if isinstance(edit, InstanceType):
        sizing: dict[str, Any] = {
            **vm.sizing,
            "aws": {**vm.sizing["aws"], "instance_type": edit.instance_type},
        }
        return replace(vm, sizing=sizing)
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
    return replace(vm, changes=changes)
