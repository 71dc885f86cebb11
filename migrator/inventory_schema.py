"""The inventory export contract (docs/inventory-export.md) as a JSON Schema, with bounds.

Both `import inventory` (an untrusted file) and the RVTools reader (its own output) are
checked against it before a snapshot is begun, so a wrong type or an absurd number deep inside
(a disk capacity "huge", memory_mb of 10^30) is one bad-input error and nothing is stored.
Unknown extra fields are allowed (a newer minor writer may add some); known ones are typed.
Bounds: migrator.bounds (vSphere 8.0 configuration maximums).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from migrator import bounds
from migrator.errors import InputFileError

TEXT_CHARS = 65_536  # what migrator.text.clean_text keeps of any inventory text
_INT32 = 2**31

# pydantic-core (compiled) rather than jsonschema: a 50,000-VM estate is checked in about a
# second instead of a minute. Strict: "huge" is not a number and 5 is not a list.
Text = Annotated[str, StringConstraints(max_length=TEXT_CHARS)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=TEXT_CHARS)]
OptText = Text | None
OptBool = bool | None
Count = Annotated[int, Field(ge=0, le=1_000_000)] | None
Pct = Annotated[float, Field(ge=0, le=100_000)] | None  # percent of configured: busy guests exceed 100
Vlan = Annotated[int, Field(ge=0, le=4095)] | None
# docs/discover.md, "Shapes real estates have": optional, so exports written before them still import
NetworkKind = Literal["standard", "distributed", "opaque"]
VCpus = Annotated[int, Field(ge=1, le=bounds.MAX_VCPU)] | None


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class Disk(_Record):
    label: OptText = None
    key: Annotated[int, Field(ge=-_INT32, le=_INT32)] | None = None
    capacity_gb: Annotated[float, Field(ge=0, le=bounds.MAX_DISK_GB, allow_inf_nan=False)] | None = None
    thin: OptBool = None
    datastore: OptText = None
    file: OptText = None
    disk_mode: OptText = None
    independent: OptBool = None
    rdm: OptText = None
    sharing: OptText = None
    controller: OptText = None
    unit_number: Annotated[int, Field(ge=0, le=65_535)] | None = None
    synthetic: OptBool = None


class Nic(_Record):
    label: OptText = None
    type: OptText = None
    mac: OptText = None
    network: OptText = None
    vlan: Vlan = None
    connected: OptBool = None
    start_connected: OptBool = None
    ip_addresses: list[Text] = []
    network_kind: NetworkKind | None = None
    segment_id: OptText = None


class GuestInterface(_Record):
    """A guest interface that is not a virtual NIC (docker bridge, NSX router port)."""

    mac: OptText = None
    network: OptText = None
    ip_addresses: list[Text] = []


class Perf(_Record):
    cpu_p50_pct: Pct = None
    cpu_p95_pct: Pct = None
    cpu_max_pct: Pct = None
    mem_p50_pct: Pct = None
    mem_p95_pct: Pct = None
    mem_max_pct: Pct = None
    samples: Count = None
    expected_samples: Count = None
    coverage: Annotated[float, Field(ge=0, le=1)] | None = None
    interval_s: Annotated[float, Field(ge=0, le=86_400 * 366)] | None = None
    window_days: Annotated[float, Field(ge=0, le=3_660)] | None = None
    window_start: OptText = None
    window_end: OptText = None


class Partition(_Record):
    disk: OptText = None
    capacity_mb: Annotated[float, Field(ge=0, le=bounds.MAX_DISK_MB)] | None = None
    free_mb: Annotated[float, Field(ge=0, le=bounds.MAX_DISK_MB)] | None = None


class VM(_Record):
    name: Name
    moref: Text
    instance_uuid: OptText = None
    bios_uuid: OptText = None
    power_state: OptText = None
    guest_id: OptText = None
    guest_os: OptText = None
    tools_guest_os: OptText = None
    firmware: OptText = None
    hw_version: OptText = None
    annotation: OptText = None
    datacenter: OptText = None
    cluster: OptText = None
    host: OptText = None
    folder: OptText = None
    resource_pool: OptText = None
    vapp: OptText = None
    hostname: OptText = None
    tools_status: OptText = None
    tools_version_status: OptText = None
    numa_affinity: OptText = None
    fault_tolerance: OptText = None
    template: OptBool = None
    secure_boot: OptBool = None
    cbt_enabled: OptBool = None
    consolidation_needed: OptBool = None
    vtpm: OptBool = None
    cpu_hot_add: OptBool = None
    memory_hot_add: OptBool = None
    num_cpu: VCpus = None
    cores_per_socket: VCpus = None
    memory_mb: Annotated[int, Field(ge=1, le=bounds.MAX_MEMORY_MB)] | None = None
    committed_gb: Annotated[float, Field(ge=0, le=bounds.MAX_STORAGE_GB, allow_inf_nan=False)] | None = None
    snapshot_count: Count = None
    passthrough_devices: Count = None
    sriov_nics: Count = None
    usb_controllers: Count = None
    custom_fields: dict[Text, Text] = {}
    tags: list[Text] = []
    ip_addresses: list[Text] = []
    cpu_affinity: list[Annotated[int, Field(ge=0, le=65_535)]] = []
    disks: list[Disk] = []
    nics: list[Nic] = []
    guest_interfaces: list[GuestInterface] = []
    partitions: list[Partition] = []
    perf: Perf | None = None


class Host(_Record):
    name: Name
    moref: Text
    cpu_sockets: Annotated[int, Field(ge=0, le=bounds.MAX_HOST_CPUS)] | None = None
    cpu_cores: Annotated[int, Field(ge=0, le=bounds.MAX_HOST_CPUS)] | None = None
    cpu_threads: Annotated[int, Field(ge=0, le=bounds.MAX_HOST_CPUS)] | None = None
    memory_gb: Annotated[float, Field(ge=0, le=bounds.MAX_HOST_MEMORY_GB)] | None = None
    maintenance_mode: OptBool = None


class Rule(_Record):
    name: OptText = None
    kind: OptText = None
    enabled: OptBool = None
    mandatory: OptBool = None
    vms: list[Text] = []
    hosts: list[Text] = []


class Cluster(_Record):
    name: Name
    moref: Text
    drs_rules: list[Rule] = []


class Network(_Record):
    name: Name
    moref: Text
    vlan: Vlan = None
    pvlan: Vlan = None
    vlan_trunk: list[list[Annotated[int, Field(ge=0, le=4095)]]] = []
    kind: NetworkKind | None = None
    segment_id: OptText = None
    segment_type: OptText = None


class Datastore(_Record):
    name: Name
    moref: Text
    capacity_gb: Annotated[float, Field(ge=0, le=bounds.MAX_STORAGE_GB, allow_inf_nan=False)] | None = None
    # free space can be negative when thin disks overcommit (vcsim reports it so)
    free_gb: Annotated[float, Field(ge=-bounds.MAX_STORAGE_GB, le=bounds.MAX_STORAGE_GB)] | None = None


class InventoryDoc(_Record):
    vms: list[VM]
    hosts: list[Host] = []
    clusters: list[Cluster] = []
    networks: list[Network] = []
    datastores: list[Datastore] = []
    warnings: list[Text] = []


def check(doc: Any, origin: str) -> None:
    """Raise one InputFileError naming the first place where doc breaks the contract."""
    try:
        InventoryDoc.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = "/".join(str(p) for p in first["loc"] if not str(p).startswith(("constrained-", "function-")))
        raise InputFileError(
            f"{origin}: not an inventory export: at {where or 'top level'}: {first['msg'][:200]}"
        ) from None
