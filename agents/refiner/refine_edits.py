"""Refinement on plan edits: the model reads one wave's facts and answers with a short list of
edits (waves/edits.py) under a JSON Schema built for that wave, never with file text.

The schema is closed over the wave: targets are selectors (`all`, `role: database`,
`vm: NAME`) over the wave's own VMs, disk labels and security groups are enums, instance types
are the catalogue's, so grammar-constrained decoding (llama.cpp) cannot name what does not
exist. The model is offered no way to open a port to the whole internet (no guardrail
exception field): such an edit is refused whoever asks. An empty list means nothing to do,
and a question, when given, is what the model needs to know (docs/agents.md, Refinement).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from transpilers.escape import one_line
from transpilers.model import TargetOptions, VMInput, WaveInput
from transpilers.security_groups import tier_key
from waves.edits import MAX_MEMORY_MB, MAX_SPREAD, MAX_VCPU, Edit, parse_edit
from waves.sizing import catalog

PROMPT_VERSION = "refine-edits-v2"
MAX_ANSWER_EDITS = 8
# The kinds each target's transpiler honours and a model may propose (a pin is the planner's).
MODEL_KINDS = {
    "terraform-aws": (
        "instance-type", "instance-family", "cpu-memory", "volume", "tags", "network", "port-rule",
        "anti-affinity", "region", "availability-zone", "cutover-window",
    ),
    "kubevirt": (
        "volume", "tags", "boot-bus", "nic-model", "storage-class", "cpu-memory", "network",
        "anti-affinity", "namespace", "cutover-window",
    ),
}  # fmt: skip
DEFAULT_REGION = TargetOptions().region
# Zone letters offered for a region: the schema names zones of the wave's region only; one the
# region lacks is refused when applied (transpilers/edits.py checks the zone against the region).
ZONE_LETTERS = "abcdef"
# The model gives memory in GB (small models do not multiply); expansion turns it into MiB.
MAX_MEMORY_GB = MAX_MEMORY_MB // 1024
# A word of a request that looks like a host name: letters, digits, dashes, at least one of each.
_HOSTLIKE = re.compile(r"(?<![\w.-])([a-z][a-z0-9]*(?:[-_][a-z0-9]+)+)(?![\w-])", re.IGNORECASE)
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9][a-z]?$")  # a region or one of its zones


def os_of(vm: VMInput) -> str:
    record = vm.record
    return str(record.get("guest_os") or record.get("tools_guest_os") or record.get("guest_id") or "unknown")


def disk_labels(vm: VMInput) -> list[str]:
    return [str(d.get("label")) for d in vm.record.get("disks") or [] if d.get("label")]


def vm_line(vm: VMInput) -> str:
    """One short line per VM (size-independent of the generated code)."""
    record, aws = vm.record, (vm.sizing.get("aws") or {})
    memory = record.get("memory_mb")
    disks = ", ".join(
        f"{d.get('label')} {d.get('capacity_gb') or '?'}GB"
        for d in record.get("disks") or []
        if d.get("label")
    )
    parts = [
        vm.name,
        f"role {vm.tier or '-'}",
        f"group {tier_key(vm)}",
        os_of(vm),
        f"{record.get('num_cpu') or '?'} vCPU {round(memory / 1024) if memory else '?'} GB",
        f"type {aws.get('instance_type') or '-'}",
        f"disks {disks or '-'}",
    ]
    return one_line(" | ".join(parts), 300)


def nic_labels(wave: WaveInput) -> list[str]:
    return sorted({str(n.get("label")) for vm in wave.vms for n in vm.nics if n.get("label")})


def nics_line(wave: WaveInput) -> str | None:
    """The wave's NIC labels and the source networks they are on, with how many VMs: one line
    whatever the wave's size (None: no NIC is on a network)."""
    counts: dict[str, dict[str, int]] = {}
    for vm in wave.vms:
        for nic in vm.nics:
            on = counts.setdefault(str(nic.get("label")), {})
            on[str(nic.get("network"))] = on.get(str(nic.get("network")), 0) + 1
    if not counts:
        return None
    parts = [
        f"{label} on " + ", ".join(f"{net} ({n} VM{'s' if n > 1 else ''})" for net, n in sorted(on.items()))
        for label, on in sorted(counts.items())
    ]
    return one_line("NICs: " + "; ".join(parts), 600)


def facts(wave: WaveInput, current: list[str], region: str = DEFAULT_REGION) -> str:
    head = f"wave {wave.number}: {len(wave.vms)} VM(s), region {region}"
    lines = [head] + [vm_line(vm) for vm in wave.vms]
    nics = nics_line(wave)
    if nics:
        lines.append(nics)
    lines.append("current edits: " + ("; ".join(one_line(c, 200) for c in current) or "none"))
    return "\n".join(lines)


def selectors(wave: WaveInput) -> list[str]:
    roles = sorted({vm.tier for vm in wave.vms if vm.tier})
    return ["all", *(f"role: {r}" for r in roles), *(f"vm: {vm.name}" for vm in wave.vms)]


def _enum(values: list[str]) -> Any:
    return Literal[tuple(values)]


def _closed(kind: str, **fields: Any) -> type[BaseModel]:
    name = "".join(part.title() for part in kind.split("-")) + "Edit"
    return create_model(name, __config__=ConfigDict(extra="forbid"), kind=(_enum([kind]), ...), **fields)


def _proposals(target: str, wave: WaveInput, region: str = DEFAULT_REGION) -> list[type[BaseModel]]:
    """One small closed model per kind the target honours."""
    return list(proposal_models(target, wave, region).values())


def proposal_models(target: str, wave: WaveInput, region: str = DEFAULT_REGION) -> dict[str, type[BaseModel]]:
    made = _vm_kinds(wave) | _wave_kinds(wave, region)
    return {k: made[k]() for k in MODEL_KINDS[target]}


Maker = dict[str, Any]  # kind -> a function making its closed proposal model


def _vm_kinds(wave: WaveInput) -> Maker:
    """The kinds that change VMs, chosen by selector."""
    sel = (_enum(selectors(wave)), ...)
    labels = sorted({label for vm in wave.vms for label in disk_labels(vm)}) or ["none"]
    types = sorted(i["type"] for i in catalog()["instances"])
    optional_int = int | None
    return {
        "instance-type": lambda: _closed("instance-type", target=sel, instance_type=(_enum(types), ...)),
        "instance-family": lambda: _closed(
            "instance-family", target=sel, family=(_enum(sorted(catalog()["families"])), ...)
        ),
        "cpu-memory": lambda: _closed(
            "cpu-memory", target=sel, vcpu=(optional_int, Field(None, ge=1, le=MAX_VCPU)),
            memory_gb=(optional_int, Field(None, ge=1, le=MAX_MEMORY_GB)),
        ),
        "volume": lambda: _closed(
            "volume", target=sel, disk=(_enum(labels), ...),
            type=(_enum(["gp3", "gp2", "io1", "io2", "st1", "sc1"]) | None, None),
            size_gb=(optional_int, Field(None, ge=1, le=65536)),
            iops=(optional_int, Field(None, ge=100, le=64000)),
            throughput=(optional_int, Field(None, ge=125, le=1000)),
        ),
        "tags": lambda: _closed("tags", target=sel, key=(str, ...), value=(str, ...)),
        "network": lambda: _closed(
            "network", target=sel, nic=(_enum(nic_labels(wave) or ["none"]), ...), network=(str, ...)
        ),
        "boot-bus": lambda: _closed("boot-bus", target=sel, bus=(_enum(["virtio", "sata", "scsi"]), ...)),
        "nic-model": lambda: _closed(
            "nic-model", target=sel, model=(_enum(["virtio", "e1000e", "e1000", "rtl8139"]), ...)
        ),
        "storage-class": lambda: _closed("storage-class", target=sel, storage_class=(str, ...)),
    }  # fmt: skip


def _wave_kinds(wave: WaveInput, region: str) -> Maker:
    """The kinds that change the wave (anti-affinity: its members by selector)."""
    sel = (_enum(selectors(wave)), ...)
    groups = _enum(sorted({tier_key(vm) for vm in wave.vms}))
    moment = (str, Field(json_schema_extra={"format": "date-time"}))  # llama.cpp's grammar knows it
    return {
        "port-rule": lambda: _closed(
            "port-rule", action=(_enum(["add", "remove"]), ...), group=(groups, ...),
            peer_group=(groups | None, None), cidr=(str | None, None),
            protocol=(_enum(["tcp", "udp"]), ...), from_port=(int, Field(ge=0, le=65535)),
            to_port=(int, Field(ge=0, le=65535)),
        ),
        "anti-affinity": lambda: _closed("anti-affinity", target=sel, required=(bool, True)),
        "region": lambda: _closed("region", region=(str, ...)),
        "availability-zone": lambda: _closed("availability-zone", zone=(_enum(zones(region)), ...)),
        "cutover-window": lambda: _closed("cutover-window", start=moment, end=moment),
        "namespace": lambda: _closed("namespace", namespace=(str, ...)),
    }  # fmt: skip


def zones(region: str) -> list[str]:
    return [f"{region}{letter}" for letter in ZONE_LETTERS]


def answer_schema(target: str, wave: WaveInput, region: str = DEFAULT_REGION) -> type[BaseModel]:
    """The per-wave answer: a list of edits (first: a small model copies what it sees first),
    then an optional question when the request is ambiguous."""
    union: Any = _union(_proposals(target, wave, region))
    return create_model(
        f"Wave{wave.number}Edits",
        __config__=ConfigDict(extra="forbid"),
        edits=(list[union], Field(max_length=MAX_ANSWER_EDITS)),
        question=(str, ""),
    )


def _union(models: list[type[BaseModel]]) -> Any:
    out: Any = models[0]
    for m in models[1:]:
        out = out | m
    return out


@dataclass(frozen=True)
class Expanded:
    edits: list[Edit]
    problems: list[str]  # why a proposal could not become an edit (sent back to the model)
    rejected: list[dict[str, Any]]  # the per-VM forms that failed their edit's own checks


def expand(wave: WaveInput, proposals: list[dict[str, Any]]) -> Expanded:
    """The proposals as plan edits: selectors resolved to the wave's VMs, each edit checked by
    its own model (the catalogue, bounds, the world-open guardrail)."""
    edits: list[Edit] = []
    problems: list[str] = []
    rejected: list[dict[str, Any]] = []
    for number, p in enumerate(proposals, 1):
        fields = {k: v for k, v in p.items() if k != "target" and v is not None}
        if p.get("kind") == "volume" and not VOLUME_VALUES & fields.keys():
            continue  # names a disk and changes nothing: no edit, and no reason to refuse the others
        try:
            for data in _per_vm(wave, p, fields):
                try:
                    edits.append(parse_edit(data))
                except ValidationError:
                    rejected.append(data)
                    raise
        except ValueError as exc:  # pydantic.ValidationError is a ValueError
            problems.append(f"edit {number} ({p.get('kind')}): {_why(exc)}")
    return Expanded(edits, problems, rejected)


VOLUME_VALUES = {"type", "size_gb", "iops", "throughput"}
WAVE_KINDS = ("region", "namespace", "port-rule", "availability-zone", "cutover-window")


def _per_vm(wave: WaveInput, p: dict[str, Any], fields: dict[str, Any]) -> list[dict[str, Any]]:
    kind = p.get("kind")
    if kind in WAVE_KINDS:
        return [{**fields, "wave": wave.number}]
    selector = str(p.get("target", ""))
    vms = select(wave, selector)
    if kind == "anti-affinity":
        return [_spread(wave, selector, vms, fields)]
    if kind == "volume":
        vms = [vm for vm in vms if fields.get("disk") in disk_labels(vm)]
        if not vms:
            raise ValueError(f"no selected VM has a disk labelled {fields.get('disk')!r}")
    if kind == "network":
        vms = [vm for vm in vms if fields.get("nic") in {str(n.get("label")) for n in vm.nics}]
        if not vms:
            raise ValueError(f"no selected VM has a NIC labelled {fields.get('nic')!r} on a network")
    if kind == "tags":
        fields = {"kind": "tags", "tags": {fields.get("key", ""): fields.get("value", "")}}
    if kind == "cpu-memory" and "memory_gb" in fields:
        fields = {k: v for k, v in fields.items() if k != "memory_gb"} | {
            "memory_mb": fields["memory_gb"] * 1024
        }
    return [{**fields, "vm": vm.name} for vm in vms]


def _spread(wave: WaveInput, selector: str, vms: list[VMInput], fields: dict[str, Any]) -> dict[str, Any]:
    """An anti-affinity set: the selected VMs (2 to 7), named after the selector."""
    if not 2 <= len(vms) <= MAX_SPREAD:
        raise ValueError(
            f"target {selector!r} selects {len(vms)} VM(s); an anti-affinity set keeps 2 to "
            f"{MAX_SPREAD} VMs apart: choose a role with that many VMs"
        )
    name = re.sub(r"[^a-z0-9]+", "-", selector.split(": ", 1)[-1].lower()).strip("-")[:40].strip("-")
    return {**fields, "wave": wave.number, "name": name or "spread", "vms": [vm.name for vm in vms]}


def select(wave: WaveInput, selector: str) -> list[VMInput]:
    if selector == "all":
        return list(wave.vms)
    if selector.startswith("role: "):
        return [vm for vm in wave.vms if vm.tier == selector[6:]]
    if selector.startswith("vm: "):
        return [vm for vm in wave.vms if vm.name == selector[4:]]
    raise ValueError(f"target {selector!r} is not all, role: ROLE or vm: NAME")


def _why(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(str(e["msg"]) for e in exc.errors()[:3])
    return str(exc)


def foreign_names(request: str, wave: WaveInput) -> list[str]:
    """Host-like words of the request (letters, dashes and a digit) that name no VM or group of
    the wave: checked before asking, since an enum of the wave's names would force a wrong one."""
    known = {vm.name.lower() for vm in wave.vms} | {tier_key(vm).lower() for vm in wave.vms}
    known |= {str(n.get("network")).lower() for vm in wave.vms for n in vm.nics}
    out: list[str] = []
    for word in _HOSTLIKE.findall(request):
        lower = word.lower()
        if lower in known or _REGION.match(lower) or not any(c.isdigit() for c in lower):
            continue
        if lower not in out:
            out.append(lower)
    return out
