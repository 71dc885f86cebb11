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
from transpilers.model import VMInput, WaveInput
from transpilers.security_groups import tier_key
from waves.edits import Edit, parse_edit
from waves.sizing import catalog

PROMPT_VERSION = "refine-edits-v1"
MAX_ANSWER_EDITS = 8
# The kinds each target's transpiler honours and a model may propose (a pin is the planner's).
MODEL_KINDS = {
    "terraform-aws": ("instance-type", "volume", "tags", "port-rule", "region"),
    "kubevirt": ("volume", "tags", "boot-bus", "nic-model", "storage-class", "namespace"),
}
# A word of a request that looks like a host name: letters, digits, dashes, at least one of each.
_HOSTLIKE = re.compile(r"(?<![\w.-])([a-z][a-z0-9]*(?:[-_][a-z0-9]+)+)(?![\w-])", re.IGNORECASE)
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")


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


def facts(wave: WaveInput, current: list[str]) -> str:
    lines = [f"wave {wave.number}: {len(wave.vms)} VM(s)"] + [vm_line(vm) for vm in wave.vms]
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


def _proposals(target: str, wave: WaveInput) -> list[type[BaseModel]]:
    """One small closed model per kind the target honours."""
    sel = (_enum(selectors(wave)), ...)
    labels = sorted({label for vm in wave.vms for label in disk_labels(vm)}) or ["none"]
    groups = _enum(sorted({tier_key(vm) for vm in wave.vms}))
    types = sorted(i["type"] for i in catalog()["instances"])
    optional_int = int | None
    made = {
        "instance-type": lambda: _closed("instance-type", target=sel, instance_type=(_enum(types), ...)),
        "volume": lambda: _closed(
            "volume", target=sel, disk=(_enum(labels), ...),
            type=(_enum(["gp3", "gp2", "io1", "io2", "st1", "sc1"]) | None, None),
            size_gb=(optional_int, Field(None, ge=1, le=65536)),
            iops=(optional_int, Field(None, ge=100, le=64000)),
            throughput=(optional_int, Field(None, ge=125, le=1000)),
        ),
        "tags": lambda: _closed("tags", target=sel, key=(str, ...), value=(str, ...)),
        "port-rule": lambda: _closed(
            "port-rule", action=(_enum(["add", "remove"]), ...), group=(groups, ...),
            peer_group=(groups | None, None), cidr=(str | None, None),
            protocol=(_enum(["tcp", "udp"]), ...), from_port=(int, Field(ge=0, le=65535)),
            to_port=(int, Field(ge=0, le=65535)),
        ),
        "region": lambda: _closed("region", region=(str, ...)),
        "boot-bus": lambda: _closed("boot-bus", target=sel, bus=(_enum(["virtio", "sata", "scsi"]), ...)),
        "nic-model": lambda: _closed(
            "nic-model", target=sel, model=(_enum(["virtio", "e1000e", "e1000", "rtl8139"]), ...)
        ),
        "storage-class": lambda: _closed("storage-class", target=sel, storage_class=(str, ...)),
        "namespace": lambda: _closed("namespace", namespace=(str, ...)),
    }  # fmt: skip
    return [made[k]() for k in MODEL_KINDS[target]]


def answer_schema(target: str, wave: WaveInput) -> type[BaseModel]:
    """The per-wave answer: a list of edits (first: a small model copies what it sees first),
    then an optional question when the request is ambiguous."""
    union: Any = _union(_proposals(target, wave))
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


def _per_vm(wave: WaveInput, p: dict[str, Any], fields: dict[str, Any]) -> list[dict[str, Any]]:
    kind = p.get("kind")
    if kind in ("region", "namespace", "port-rule"):
        return [{**fields, "wave": wave.number}]
    vms = select(wave, str(p.get("target", "")))
    if kind == "volume":
        vms = [vm for vm in vms if fields.get("disk") in disk_labels(vm)]
        if not vms:
            raise ValueError(f"no selected VM has a disk labelled {fields.get('disk')!r}")
    if kind == "tags":
        fields = {"kind": "tags", "tags": {fields.get("key", ""): fields.get("value", "")}}
    return [{**fields, "vm": vm.name} for vm in vms]


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
    out: list[str] = []
    for word in _HOSTLIKE.findall(request):
        lower = word.lower()
        if lower in known or _REGION.match(lower) or not any(c.isdigit() for c in lower):
            continue
        if lower not in out:
            out.append(lower)
    return out
