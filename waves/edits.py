"""Plan edits: the typed, versioned changes to a wave's plan model that reviewers, models, pins and
learned corrections all speak (docs/edits.md).

An edit names what to change in terms the generator understands (a VM, a disk label, a wave, a
security group), never text in a generated file: the transpilers apply edits to the plan model
before rendering (transpilers/edits.py), so the output stays the generator's own. This module is
the contract between the generator and whoever proposes edits, so it sits below both (waves is
under transpilers and agents) and depends only on pydantic and the catalogue.

Values are checked here, where they can be without the wave: the catalogue knows the instance
types, EBS volume types bound IOPS and throughput, names must be valid where they land, and a
port is never opened to the whole internet unless `guardrail_exception` says why.
"""

from __future__ import annotations

import ipaddress
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)

from waves.sizing import catalog

EDIT_VERSION: Literal[1] = 1
# agent: an MCP client (migrator mcp, docs/mcp.md): who is "<client> as <identity>"
SOURCES = ("reviewer", "model", "pin", "learned", "agent")
# EBS volume types with their IOPS and throughput bounds (AWS EBS documentation, 2026): None
# means the type takes no such setting (it follows from the size).
EBS_TYPES: dict[str, tuple[tuple[int, int] | None, tuple[int, int] | None]] = {
    "gp3": ((3000, 16000), (125, 1000)),
    "gp2": (None, None),
    "io1": ((100, 64000), None),
    "io2": ((100, 64000), None),
    "st1": (None, None),
    "sc1": (None, None),
}
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"
# A tag key valid both as an AWS tag key and as a Kubernetes label name (no prefix).
TAG_KEY = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")
# Keys migrator writes itself: an edit cannot overwrite where a resource came from.
RESERVED_TAGS = frozenset({"Name", "migration-wave", "source-moref", "source-uuid", "migrator-spread-set"})
WORLD = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))

# Bounds of a vCPU/memory override: EC2's largest instances have 448 vCPUs; memory is bounded by
# the catalogue's largest type, so an override never asks for more than any type we price.
MAX_VCPU = 448
MAX_MEMORY_MB = max(int(i["memory_gib"]) for i in catalog()["instances"]) * 1024
# EC2 runs at most 7 instances of a spread placement group per availability zone.
MAX_SPREAD = 7
MAX_WINDOW = timedelta(days=7)

VMName = Annotated[str, Field(min_length=1, max_length=512, description="the VM's planning name")]


class _Edit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = Field(default=EDIT_VERSION, description="version of the edit vocabulary")

    @property
    def vm_name(self) -> str | None:
        """The VM an edit changes (None: a wave or security-rule edit)."""
        return getattr(self, "vm", None)

    @property
    def wave_number(self) -> int | None:
        return getattr(self, "wave", None)


class InstanceType(_Edit):
    """terraform-aws: the EC2 instance type of one VM (a type the catalogue knows)."""

    kind: Literal["instance-type"] = "instance-type"
    vm: VMName
    instance_type: str = Field(max_length=64)

    @field_validator("instance_type")
    @classmethod
    def _known(cls, value: str) -> str:
        known = {i["type"] for i in catalog()["instances"]}
        if value not in known:
            raise ValueError(f"{value!r} is not in the instance catalogue ({catalog()['region']})")
        return value

    def describe(self) -> str:
        return f"{self.vm}: instance type {self.instance_type}"


class Volume(_Edit):
    """A disk of one VM, by its inventory label: EBS type, size, IOPS, throughput (terraform-aws);
    the size also sets the KubeVirt DataVolume's request."""

    kind: Literal["volume"] = "volume"
    vm: VMName
    disk: str = Field(min_length=1, max_length=256, description="the disk's inventory label")
    type: Literal["gp3", "gp2", "io1", "io2", "st1", "sc1"] | None = None
    size_gb: int | None = Field(default=None, ge=1, le=65536)
    iops: int | None = Field(default=None, ge=100, le=64000)
    throughput: int | None = Field(default=None, ge=125, le=1000, description="MiB/s (gp3 only)")

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.type is None and self.size_gb is None and self.iops is None and self.throughput is None:
            raise ValueError("a volume edit changes at least one of type, size_gb, iops, throughput")
        iops, throughput = EBS_TYPES[self.type or "gp3"]  # unchanged type: migrator writes gp3
        for name, value, bounds in (("iops", self.iops, iops), ("throughput", self.throughput, throughput)):
            if value is not None and bounds is None:
                raise ValueError(f"{self.type or 'gp3'} volumes take no {name}")
            if value is not None and bounds is not None and not bounds[0] <= value <= bounds[1]:
                raise ValueError(
                    f"{name} {value} is outside {bounds[0]}..{bounds[1]} for {self.type or 'gp3'}"
                )
        if self.type in ("io1", "io2") and self.iops is None:
            raise ValueError(f"{self.type} volumes need iops")
        return self

    def describe(self) -> str:
        parts = [
            f"{name} {value}"
            for name, value in (
                ("type", self.type),
                ("size", f"{self.size_gb} GB" if self.size_gb else None),
                ("IOPS", self.iops),
                ("throughput", f"{self.throughput} MiB/s" if self.throughput else None),
            )
            if value is not None
        ]
        return f"{self.vm} disk {self.disk}: {', '.join(parts)}"


class Tags(_Edit):
    """Extra tags (terraform-aws) or labels (kubevirt) on one VM's resources."""

    kind: Literal["tags"] = "tags"
    vm: VMName
    tags: dict[str, Annotated[str, Field(max_length=63, pattern=r"^[A-Za-z0-9._-]+$")]] = Field(
        min_length=1, max_length=20
    )

    @field_validator("tags")
    @classmethod
    def _keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not TAG_KEY.match(key):
                raise ValueError(f"tag key {key[:80]!r}: use 1-63 of A-Z a-z 0-9 . _ -")
            if key in RESERVED_TAGS:
                raise ValueError(f"tag key {key!r} is written by migrator itself")
        return value

    def describe(self) -> str:
        return f"{self.vm}: tags " + ", ".join(f"{k}={v}" for k, v in sorted(self.tags.items()))


class BootBus(_Edit):
    """kubevirt: the disk bus of one VM's boot disk (transpilers/guest.py chooses it otherwise)."""

    kind: Literal["boot-bus"] = "boot-bus"
    vm: VMName
    bus: Literal["virtio", "sata", "scsi"]

    def describe(self) -> str:
        return f"{self.vm}: boot disk on {self.bus}"


class NicModel(_Edit):
    """kubevirt: the NIC model of one VM's interfaces."""

    kind: Literal["nic-model"] = "nic-model"
    vm: VMName
    model: Literal["virtio", "e1000e", "e1000", "rtl8139"]

    def describe(self) -> str:
        return f"{self.vm}: NIC model {self.model}"


class StorageClass(_Edit):
    """kubevirt: the storage class of one VM's DataVolumes (overrides the --storage-class option)."""

    kind: Literal["storage-class"] = "storage-class"
    vm: VMName
    storage_class: str = Field(max_length=253, pattern=DNS_SUBDOMAIN)

    def describe(self) -> str:
        return f"{self.vm}: storage class {self.storage_class}"


class Region(_Edit):
    """terraform-aws: the region one wave lands in (the default of variables.tf)."""

    kind: Literal["region"] = "region"
    wave: int = Field(ge=1)
    region: str = Field(max_length=32, pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$")

    def describe(self) -> str:
        return f"wave {self.wave}: region {self.region}"


class Namespace(_Edit):
    """kubevirt: the namespace of one wave's manifests."""

    kind: Literal["namespace"] = "namespace"
    wave: int = Field(ge=1)
    namespace: str = Field(max_length=63, pattern=DNS_LABEL)

    def describe(self) -> str:
        return f"wave {self.wave}: namespace {self.namespace}"


class PortRule(_Edit):
    """terraform-aws: add or remove ingress on a port range into one security group (a tier key,
    `app-tier`) from another group of the wave or from a CIDR. Never from the whole internet
    unless `guardrail_exception` says why (the guardrail policies still judge the output)."""

    kind: Literal["port-rule"] = "port-rule"
    action: Literal["add", "remove"]
    wave: int = Field(ge=1)
    group: str = Field(min_length=1, max_length=256, description="receiving group (tier key)")
    peer_group: str | None = Field(default=None, max_length=256, description="sending group (tier key)")
    cidr: str | None = Field(default=None, max_length=64)
    protocol: Literal["tcp", "udp"]
    from_port: int = Field(ge=0, le=65535)
    to_port: int = Field(ge=0, le=65535)
    guardrail_exception: str | None = Field(
        default=None, min_length=10, max_length=300, description="why a world-open rule is intended"
    )

    @model_validator(mode="after")
    def _peer(self) -> Self:
        if (self.peer_group is None) == (self.cidr is None):
            raise ValueError("name exactly one of peer_group and cidr")
        if self.to_port < self.from_port:
            raise ValueError("to_port is below from_port")
        if self.cidr is not None:
            try:
                network = ipaddress.ip_network(self.cidr, strict=True)
            except ValueError:
                raise ValueError(f"cidr {self.cidr!r} is not a network address") from None
            if network in WORLD and self.action == "add" and not self.guardrail_exception:
                raise ValueError(
                    f"opening {self.protocol}/{self._ports()} to the whole internet ({self.cidr}) is "
                    "refused: give guardrail_exception with the reason if it is intended"
                )
        return self

    def _ports(self) -> str:
        return str(self.from_port) if self.from_port == self.to_port else f"{self.from_port}-{self.to_port}"

    def describe(self) -> str:
        verb = "allow" if self.action == "add" else "remove"
        peer = f"group {self.peer_group}" if self.peer_group else self.cidr
        tail = f" (guardrail exception: {self.guardrail_exception})" if self.guardrail_exception else ""
        ports = f"{self.protocol}/{self._ports()}"
        return f"wave {self.wave}: {verb} {ports} from {peer} to group {self.group}{tail}"


class WavePin(_Edit):
    """The planner: this VM (and its move group) moves in this wave in every re-plan."""

    kind: Literal["wave-pin"] = "wave-pin"
    vm: VMName
    wave: int = Field(ge=1)

    def describe(self) -> str:
        return f"{self.vm}: pinned to wave {self.wave}"


class InstanceFamily(_Edit):
    """terraform-aws: one VM on an instance family of the catalogue; the transpiler takes the
    smallest type of that family that fits the VM's sized vCPU and memory."""

    kind: Literal["instance-family"] = "instance-family"
    vm: VMName
    family: str = Field(max_length=16, description="an instance family of the catalogue, e.g. r6i")

    @field_validator("family")
    @classmethod
    def _known(cls, value: str) -> str:
        families = catalog()["families"]
        if value not in families:
            known = ", ".join(sorted(families))
            raise ValueError(f"{value!r} is not an instance family of the catalogue ({known})")
        return value

    def describe(self) -> str:
        return f"{self.vm}: instance family {self.family}"


class CpuMemory(_Edit):
    """One VM's vCPU count and/or memory, over the sizing: the KubeVirt domain's CPU and memory;
    terraform-aws re-sizes to the cheapest catalogue type that fits (within an edited family)."""

    kind: Literal["cpu-memory"] = "cpu-memory"
    vm: VMName
    vcpu: int | None = Field(default=None, ge=1, le=MAX_VCPU)
    memory_mb: int | None = Field(default=None, ge=512, le=MAX_MEMORY_MB, description="MiB")

    @model_validator(mode="after")
    def _some(self) -> Self:
        if self.vcpu is None and self.memory_mb is None:
            raise ValueError("a cpu-memory edit sets vcpu, memory_mb or both")
        return self

    def describe(self) -> str:
        parts = [f"{self.vcpu} vCPU" if self.vcpu else "", f"{self.memory_mb} MiB" if self.memory_mb else ""]
        return f"{self.vm}: size {' / '.join(p for p in parts if p)}"


class Network(_Edit):
    """Which target network one NIC (by its inventory label) lands on: the key of
    `var.subnet_ids` (terraform-aws) or the Multus NetworkAttachmentDefinition (kubevirt)."""

    kind: Literal["network"] = "network"
    vm: VMName
    nic: str = Field(min_length=1, max_length=256, description="the NIC's inventory label")
    network: str = Field(max_length=63, pattern=DNS_LABEL, description="subnet key or NAD name")

    def describe(self) -> str:
        return f"{self.vm} NIC {self.nic}: network {self.network}"


class AntiAffinity(_Edit):
    """VMs of one wave kept on separate hosts: an EC2 spread placement group (terraform-aws), a
    podAntiAffinity term between them (kubevirt), rendered like the DRS and replica sets."""

    kind: Literal["anti-affinity"] = "anti-affinity"
    wave: int = Field(ge=1)
    name: str = Field(max_length=40, pattern=DNS_LABEL, description="the set's name")
    vms: list[VMName] = Field(min_length=2, max_length=MAX_SPREAD)
    required: bool = Field(default=True, description="kubevirt: required (else preferred) anti-affinity")

    @field_validator("vms")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a VM is named twice")
        return value

    def describe(self) -> str:
        how = "required" if self.required else "preferred"
        return f"wave {self.wave}: keep {', '.join(self.vms)} on separate hosts (set {self.name}, {how})"


class AvailabilityZone(_Edit):
    """terraform-aws: the availability zone one wave's instances land in (in the wave's region)."""

    kind: Literal["availability-zone"] = "availability-zone"
    wave: int = Field(ge=1)
    zone: str = Field(max_length=32, pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$")

    def describe(self) -> str:
        return f"wave {self.wave}: availability zone {self.zone}"


class CutoverWindow(_Edit):
    """One wave's change window (UTC, ISO 8601): it lands in PLAN.md's cutover runbook and in
    REPORT.md, never in the IaC."""

    kind: Literal["cutover-window"] = "cutover-window"
    wave: int = Field(ge=1)
    start: AwareDatetime = Field(description="ISO 8601 with a UTC offset, e.g. 2026-12-12T22:00:00Z")
    end: AwareDatetime

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)  # stored and shown in UTC whatever offset it was written with

    @model_validator(mode="after")
    def _order(self) -> Self:
        start, end = self.start, self.end
        if end <= start:
            raise ValueError(f"the window ends ({_utc(end)}) before it starts ({_utc(start)})")
        if end - start > MAX_WINDOW:
            raise ValueError(f"a cutover window is at most {MAX_WINDOW.days} days")
        return self

    def describe(self) -> str:
        return f"wave {self.wave}: cutover window {_utc(self.start)} to {_utc(self.end)}"


# --- sizes and disk types per cloud -------------------------------------------------------------
# AWS keeps `instance-type` and `instance-family` (stored since the first vocabulary); the other
# clouds name theirs with `vm-size`/`size-family`, and every cloud's disk type is a `disk-type`.
# An edit naming a cloud is honoured by that cloud's target only (honoured_by).
CLOUD_TARGETS = {
    "aws": "terraform-aws",
    "azure": "terraform-azure",
    "gcp": "terraform-google",
    "openstack": "terraform-openstack",
}
# Disk types each cloud's transpiler writes or accepts (None: any volume type name of the cloud,
# which the user's OpenStack defines). AWS io1/io2 need IOPS: a `volume` edit says both.
DISK_TYPES: dict[str, frozenset[str] | None] = {
    "aws": frozenset({"gp3", "gp2", "st1", "sc1"}),
    "azure": frozenset(
        {"PremiumV2_LRS", "Premium_LRS", "StandardSSD_LRS", "StandardSSD_ZRS", "Premium_ZRS", "Standard_LRS"}
    ),
    "gcp": frozenset(
        {"pd-balanced", "pd-ssd", "hyperdisk-balanced", "pd-standard", "pd-extreme", "hyperdisk-extreme"}
    ),
    "openstack": None,
}
# A size or volume type name as OpenStack spells them (checked against the flavor file at generation).
OPENSTACK_NAME = r"^[A-Za-z0-9][A-Za-z0-9 ._:+-]{0,254}$"


class VmSize(_Edit):
    """One VM's size on a cloud other than AWS: an Azure VM size, a Compute Engine machine type
    (both from the catalogue) or an OpenStack flavor (from the `--flavors` file, at generation)."""

    kind: Literal["vm-size"] = "vm-size"
    vm: VMName
    cloud: Literal["azure", "gcp", "openstack"]
    size: str = Field(min_length=1, max_length=255)

    @field_validator("size")
    @classmethod
    def _known(cls, value: str, info: ValidationInfo) -> str:
        cloud = info.data.get("cloud")
        if cloud == "openstack":  # the user's flavor file is checked when the edit is applied
            if not re.match(OPENSTACK_NAME, value):
                raise ValueError(f"{value[:80]!r} is not a flavor name (A-Z a-z 0-9 space . _ : + -)")
        elif cloud is not None and value not in {i["type"] for i in catalog(cloud)["instances"]}:
            where = catalog(cloud)["region"]
            raise ValueError(f"{value[:80]!r} is not in the {cloud} size catalogue ({where})")
        return value

    def describe(self) -> str:
        what = {"azure": "Azure VM size", "gcp": "machine type", "openstack": "flavor"}[self.cloud]
        return f"{self.vm}: {what} {self.size}"


class SizeFamily(_Edit):
    """One VM on a size family of the Azure or Compute Engine catalogue (Dsv5, Esv5; e2, n2, n4,
    c3): the transpiler takes the smallest size of that family that fits the VM's sized need."""

    kind: Literal["size-family"] = "size-family"
    vm: VMName
    cloud: Literal["azure", "gcp"]
    family: str = Field(max_length=16)

    @field_validator("family")
    @classmethod
    def _known(cls, value: str, info: ValidationInfo) -> str:
        cloud = info.data.get("cloud")
        families = catalog(cloud)["families"] if cloud is not None else {value: ""}
        if value not in families:
            known = ", ".join(sorted(families))
            raise ValueError(f"{value!r} is not a {cloud} size family of the catalogue ({known})")
        return value

    def describe(self) -> str:
        return f"{self.vm}: {self.cloud} size family {self.family}"


class DiskType(_Edit):
    """The disk type of one VM's disk (by its inventory label) on one cloud: an EBS volume type,
    an Azure managed disk type, a Compute Engine disk type or an OpenStack volume type."""

    kind: Literal["disk-type"] = "disk-type"
    vm: VMName
    disk: str = Field(min_length=1, max_length=256, description="the disk's inventory label")
    cloud: Literal["aws", "azure", "gcp", "openstack"]
    type: str = Field(min_length=1, max_length=255)

    @field_validator("type")
    @classmethod
    def _known(cls, value: str, info: ValidationInfo) -> str:
        cloud = info.data.get("cloud")
        known = DISK_TYPES[cloud] if cloud is not None else frozenset({value})
        if known is None:
            if not re.match(OPENSTACK_NAME, value):
                raise ValueError(f"{value[:80]!r} is not a volume type name (A-Z a-z 0-9 space . _ : + -)")
        elif value in ("io1", "io2") and cloud == "aws":
            raise ValueError(f"{value} volumes need iops: use a volume edit with type and iops")
        elif value not in known:
            raise ValueError(f"{value[:80]!r} is not a {cloud} disk type ({', '.join(sorted(known))})")
        return value

    def describe(self) -> str:
        return f"{self.vm} disk {self.disk}: {self.cloud} disk type {self.type}"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


Edit = Annotated[
    InstanceType
    | Volume
    | Tags
    | BootBus
    | NicModel
    | StorageClass
    | Region
    | Namespace
    | PortRule
    | WavePin
    | InstanceFamily
    | CpuMemory
    | Network
    | AntiAffinity
    | AvailabilityZone
    | CutoverWindow
    | VmSize
    | SizeFamily
    | DiskType,
    Field(discriminator="kind"),
]
EDIT_ADAPTER: TypeAdapter[Edit] = TypeAdapter(Edit)
KINDS: tuple[str, ...] = ("instance-type", "volume", "tags", "boot-bus", "nic-model", "storage-class")
KINDS += ("region", "namespace", "port-rule", "wave-pin")
KINDS += ("instance-family", "cpu-memory", "network", "anti-affinity", "availability-zone", "cutover-window")
KINDS += ("vm-size", "size-family", "disk-type")
# Which targets honour each kind ("planner": the wave planner, not a transpiler).
TARGETS_OF = {
    "instance-type": ("terraform-aws",),
    "volume": ("terraform-aws", "kubevirt"),
    "tags": (
        "terraform-aws",
        "kubevirt",
        "terraform-azure",
        "terraform-google",
        "terraform-openstack",
    ),  # OpenStack: metadata
    "boot-bus": ("kubevirt",),
    "nic-model": ("kubevirt",),
    "storage-class": ("kubevirt",),
    "region": ("terraform-aws",),
    "namespace": ("kubevirt",),
    "port-rule": ("terraform-aws", "terraform-azure", "terraform-google", "terraform-openstack"),
    "wave-pin": ("planner",),
    "instance-family": ("terraform-aws",),
    "cpu-memory": (
        "terraform-aws",
        "kubevirt",
        "terraform-azure",
        "terraform-google",
        "terraform-openstack",
    ),  # re-picks each size
    "network": ("terraform-aws", "kubevirt", "terraform-azure", "terraform-google", "terraform-openstack"),
    "anti-affinity": (
        "terraform-aws",
        "kubevirt",
        "terraform-azure",
        "terraform-google",
        "terraform-openstack",
    ),
    "availability-zone": ("terraform-aws",),
    "cutover-window": (
        "terraform-aws",
        "kubevirt",
        "terraform-azure",
        "terraform-google",
        "terraform-openstack",
    ),  # PLAN.md, REPORT.md
    "vm-size": ("terraform-azure", "terraform-google", "terraform-openstack"),  # each by its `cloud`
    "size-family": ("terraform-azure", "terraform-google"),
    "disk-type": ("terraform-aws", "terraform-azure", "terraform-google", "terraform-openstack"),
}


def honoured_by(target: str, kind: str, cloud: object = None) -> bool:
    """Whether a target applies an edit of this kind (one naming a cloud: that cloud's target only)."""
    return target in TARGETS_OF[kind] and (cloud is None or CLOUD_TARGETS.get(str(cloud)) == target)


class Provenance(BaseModel):
    """Who or what proposed an edit, when, and where the conversation about it is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Literal["reviewer", "model", "pin", "learned", "agent"]
    who: str = Field(min_length=1, max_length=200, description="a person's name, or a model id")
    prompt_version: str | None = Field(default=None, max_length=64, description="models only")
    at: datetime
    pr: int | None = Field(default=None, ge=1)
    conversation: str | None = Field(default=None, max_length=200)

    def describe(self) -> str:
        if self.source == "learned":  # who: the correction; conversation: its confidence and PRs
            return f"learned {self.who} ({self.conversation}), {self.at.strftime('%Y-%m-%d %H:%M UTC')}"
        who = f"{self.who} ({self.prompt_version})" if self.prompt_version else self.who
        where = "".join(
            [
                f", PR #{self.pr}" if self.pr else "",
                f", conversation {self.conversation}" if self.conversation else "",
            ]
        )
        return f"{self.source} {who}, {self.at.strftime('%Y-%m-%d %H:%M UTC')}{where}"


def parse_edit(data: Any) -> Edit:
    """An edit from its JSON form; raises pydantic.ValidationError with what is wrong."""
    return EDIT_ADAPTER.validate_python(data)


def edit_json_schema() -> dict[str, Any]:
    """The JSON Schema of one edit (every kind, discriminated by `kind`)."""
    return EDIT_ADAPTER.json_schema()


def describe(edit: Edit) -> str:
    """One line a reviewer reads (values may be untrusted: escape where it lands)."""
    return edit.describe()


# --- free edits ------------------------------------------------------------------------------
# A reviewer's change the vocabulary above cannot say (a changed AMI lookup, a removed tag, a
# resource written by hand) is kept as a free edit: recorded, listed and shown in PLAN.md, but
# never applied by a transpiler (it names text, not the plan model). It is not part of `Edit`,
# so nothing that applies edits can be handed one.

FREE_KIND: Literal["free"] = "free"
FREE_VALUE_MAX = 500  # characters of an old or new value kept (its JSON form)


class FreeEdit(BaseModel):
    """A change to a generated file outside the vocabulary: file, resource, attribute, values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = Field(default=EDIT_VERSION, description="version of the edit vocabulary")
    kind: Literal["free"] = FREE_KIND
    target: str = Field(min_length=1, max_length=64, description="the transpiler that wrote the file")
    wave: int = Field(ge=1)
    file: str = Field(min_length=1, max_length=256, description="the file in the wave's folder")
    address: str = Field(max_length=512, description="resource address: aws_instance.x, Kind/ns/name")
    path: str = Field(max_length=512, description="attribute path in the resource ('' = all of it)")
    old: str | None = Field(default=None, max_length=FREE_VALUE_MAX + 1, description="JSON; None: added")
    new: str | None = Field(default=None, max_length=FREE_VALUE_MAX + 1, description="JSON; None: removed")

    @property
    def vm_name(self) -> str | None:
        return None

    @property
    def wave_number(self) -> int | None:
        return self.wave

    def describe(self) -> str:
        where = f"{self.file} {self.address}" + (f" {self.path}" if self.path else "")
        if self.old is None:
            return f"wave {self.wave}: free edit (not applied): {where} added {self.new}"
        if self.new is None:
            return f"wave {self.wave}: free edit (not applied): {where} removed (was {self.old})"
        return f"wave {self.wave}: free edit (not applied): {where} {self.old} -> {self.new}"


def free_value(value: Any) -> str | None:
    """A value's JSON form for a free edit, cut to FREE_VALUE_MAX characters (None stays None)."""
    if value is None:
        return None
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= FREE_VALUE_MAX else text[: FREE_VALUE_MAX - 1] + "…"


def parse_recorded(data: Any) -> Edit | FreeEdit:
    """A stored edit of any kind, a free edit included (raises pydantic.ValidationError)."""
    if isinstance(data, dict) and data.get("kind") == FREE_KIND:
        return FreeEdit.model_validate(data)
    return parse_edit(data)
