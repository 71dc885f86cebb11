"""What a transpiler receives for one wave: VMs with their facts and sizing, the observed
traffic that touches them, anti-affinity and replica sets, and the source networks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from migrator.errors import UsageError
from waves.edits import PortRule


@dataclass(frozen=True)
class VolumeChange:
    """A plan edit's change to one disk (None: as generated)."""

    type: str | None = None
    size_gb: int | None = None
    iops: int | None = None
    throughput: int | None = None


@dataclass(frozen=True)
class VMChanges:
    """What plan edits changed on one VM beyond its record and sizing (transpilers/edits.py)."""

    boot_bus: str | None = None
    nic_model: str | None = None
    storage_class: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    volumes: tuple[tuple[str, VolumeChange], ...] = ()  # disk label -> change
    family: str | None = None  # an edited instance family: re-sizing stays in it
    networks: tuple[tuple[str, str], ...] = ()  # NIC label -> target network (subnet key, NAD)
    sizes: tuple[tuple[str, str], ...] = ()  # cloud -> an edited size (azure, gcp, openstack)
    families: tuple[tuple[str, str], ...] = ()  # cloud -> an edited size family (azure, gcp)

    def size(self, cloud: str) -> str | None:
        """The size a plan edit names on a cloud (None: the catalogue picks)."""
        return dict(self.sizes).get(cloud)

    def family_on(self, cloud: str) -> str | None:
        """The size family a plan edit names on a cloud other than AWS (AWS's is `family`)."""
        return dict(self.families).get(cloud)

    def volume(self, label: object) -> VolumeChange:
        return next((c for lbl, c in self.volumes if lbl == label), VolumeChange())

    def network(self, nic: dict[str, Any]) -> str | None:
        """The target network a plan edit maps this NIC to (None: as its source network)."""
        return next((net for lbl, net in self.networks if lbl == nic.get("label")), None)


@dataclass(frozen=True)
class VMInput:
    name: str  # unique planning name (vCenter name, made unique with the moref if needed)
    record: dict[str, Any]  # the inventory record (docs/inventory-export.md)
    sizing: dict[str, Any]  # waves.sizing.size_vm
    app: str | None
    env: str | None
    tier: str | None
    ips: tuple[str, ...]
    changes: VMChanges = field(default_factory=VMChanges)  # from plan edits

    @property
    def nics(self) -> list[dict[str, Any]]:
        """The NICs on a network (a disconnected adapter with no portgroup has nothing to map)."""
        return [n for n in self.record.get("nics") or [] if n.get("network")]


@dataclass(frozen=True)
class Traffic:
    """Observed client -> server traffic; either end may be outside the wave or outside the estate."""

    client: str  # VM name, or "ext:<address>"
    server: str
    ports: tuple[str, ...]  # "tcp/443", ...
    client_ips: tuple[str, ...]  # addresses of the client (a VM's guest IPs, or the external address)


@dataclass(frozen=True)
class SpreadSet:
    """VMs that must not share a host: a DRS anti-affinity rule or a primary/replica pair."""

    id: str  # stable source name: the DRS rule name, or "replicas:<first VM>"
    kind: str  # "drs-anti-affinity" | "replicas"
    vms: tuple[str, ...]  # members in this wave
    mandatory: bool


@dataclass(frozen=True)
class NetworkInput:
    name: str
    vlan: int | None
    vlan_trunk: tuple[tuple[int, int], ...] = ()
    kind: str | None = None  # standard | distributed | opaque (docs/inventory-export.md)
    segment_id: str | None = None  # NSX-T segment id: opaque networks, NSX-backed portgroups
    moref: str | None = None  # vCenter's id of the network (Forklift's NetworkMap refers to it)

    @property
    def nsx(self) -> bool:
        return self.kind == "opaque" or self.segment_id is not None

    def describe(self) -> str:
        """How the source network reads in comments and variable descriptions."""
        if self.nsx:
            return f"NSX segment {self.segment_id}" if self.segment_id else "NSX segment"
        return f"VLAN {self.vlan}" if self.vlan is not None else (self.kind or "network")


EXECUTORS = ("forklift", "cdi")


@dataclass(frozen=True)
class TargetOptions:
    """Settings the inventory cannot tell: where the import reads from and where VMs land."""

    namespace: str = "vm-migration"
    run_strategy: str = "Halted"  # reviewers start VMs at cutover
    bridge: str = "br1"
    storage_class: str | None = None
    vddk_url: str | None = None
    vddk_thumbprint: str | None = None
    vddk_secret: str = "vcenter-credentials"
    vddk_init_image: str | None = None  # None: CDI's cluster-wide v2v-vmware setting
    virtio_drivers: bool = False  # every guest already has virtio drivers (transpilers/guest.py)
    region: str = "us-east-1"
    internet_ports: tuple[int, ...] = (80, 443)  # ports that may be opened to 0.0.0.0/0
    internet_min_sources: int = 10  # distinct public clients on a port that make it internet-facing
    hook_image: str | None = None  # Forklift hooks: the runner image (None: forklift_hooks.DEFAULT_IMAGE)
    hook_service_account: str | None = None  # the hook Job's service account (None: Forklift's default)
    executor: str = "forklift"  # kubevirt: who moves the VMs, Forklift (virt-v2v) or CDI (docs/handoff.md)
    flavors: str | None = None  # terraform-openstack: the flavor catalogue file (None: the shipped example)

    def __post_init__(self) -> None:
        if self.executor not in EXECUTORS:
            raise UsageError(
                f"{{executor}} {self.executor!r}: use one of {', '.join(EXECUTORS)}", field="executor"
            )
        if self.flavors is not None:  # a bad flavor file is refused before any wave is rendered
            from waves.flavors import load_flavors  # YAML and jsonschema only when given

            load_flavors(self.flavors)
        # The URL is written into the manifests: credentials belong in the Secret (--vddk-secret).
        if self.vddk_url and url_carries_credentials(self.vddk_url):
            raise UsageError(
                "{vddk_url} must not carry credentials (they would be written into the manifests): "
                "CDI reads them from the Secret named by {vddk_secret}",
                field=("vddk_url", "vddk_secret"),
            )


def url_carries_credentials(url: str) -> bool:
    """A user-info part (`user:pass@`) or a password-like query parameter."""
    parts = urlsplit(url)
    params = {name.lower() for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
    secret = {"password", "pass", "passwd", "pwd", "secret", "token", "api_key", "apikey"}
    return "@" in parts.netloc or bool(params & secret)


@dataclass(frozen=True)
class WaveInput:
    number: int
    name: str
    vms: tuple[VMInput, ...]
    traffic: tuple[Traffic, ...]
    spread: tuple[SpreadSet, ...]
    networks: dict[str, NetworkInput]
    wave_of: dict[str, int]  # every planned VM -> its wave (peers in other waves)
    blocked: dict[str, list[str]] = field(default_factory=dict)  # VM -> critical findings
    port_rules: tuple[PortRule, ...] = ()  # plan edits to the security rules, in order
    availability_zone: str | None = None  # a plan edit's (terraform-aws)
    cutover: tuple[datetime, datetime] | None = None  # a plan edit's change window, UTC (PLAN.md)
    # When the wave schedule (migrator schedule) cuts the wave over, UTC; a cutover-window edit wins
    # over it. Read by the Forklift Migration (transpilers/forklift.py, docs/handoff.md).
    scheduled_cutover: datetime | None = None

    def cutover_window(self) -> str | None:
        """The change window as PLAN.md's runbook and REPORT.md print it (None: no window set)."""
        if self.cutover is None:
            return None
        start, end = (moment.strftime("%Y-%m-%d %H:%M") for moment in self.cutover)
        return f"{start} to {end} UTC"
