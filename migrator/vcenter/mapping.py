"""Turn retrieved vSphere properties into export-contract records (plain dicts).

Runs inside discovery worker processes, so everything it needs to resolve references
(datastore, network and folder names...) travels in a small picklable `Lookups`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyVmomi import vim

from migrator.text import clean_text
from migrator.vcenter.rawprops import vim_type

GIB = 1024**3
COMPUTE_KINDS = ("ClusterComputeResource", "ComputeResource")  # a pool path ends below either


@dataclass
class Lookups:
    names: dict[str, str] = field(default_factory=dict)  # moref -> display name, every entity
    parents: dict[str, str] = field(default_factory=dict)  # moref -> parent moref
    kinds: dict[str, str] = field(default_factory=dict)  # moref -> vSphere type name
    dvportgroup_by_key: dict[str, str] = field(default_factory=dict)  # portgroup key -> moref
    opaque_by_id: dict[str, str] = field(default_factory=dict)  # NSX opaqueNetworkId -> moref
    network_vlans: dict[str, int | None] = field(default_factory=dict)  # network name -> VLAN id
    network_kinds: dict[str, str] = field(default_factory=dict)  # network moref -> record kind
    segment_ids: dict[str, str] = field(default_factory=dict)  # network moref -> NSX segment id
    vapp_folders: dict[str, str] = field(default_factory=dict)  # top-level vApp -> its VM folder
    custom_field_names: dict[int, str] = field(default_factory=dict)
    tags: dict[str, list[str]] = field(default_factory=dict)  # moref -> ["Category:Tag"]

    def ancestor(self, moref: str | None, kind: str) -> str | None:
        seen = 0
        while moref and seen < 64:
            if self.kinds.get(moref) == kind:
                return moref
            moref = self.parents.get(moref)
            seen += 1
        return None

    def first_ancestor(self, refs: list[str | None], kind: str) -> str | None:
        """The `kind` above the first of refs that has one: a VM in a vApp has no folder, a
        template or orphan no host, so each parent chain is only one way up."""
        for ref in refs:
            found = self.ancestor(ref, kind)
            if found:
                return found
        return None

    def path_below(self, moref: str | None, *stop_kinds: str) -> str | None:
        """Slash-joined names from below the nearest ancestor of a `stop_kinds` kind down to moref."""
        parts: list[str] = []
        while moref and self.kinds.get(moref) not in stop_kinds and len(parts) < 64:
            parts.append(self.names.get(moref, moref))
            moref = self.parents.get(moref)
        return "/".join(reversed(parts)) if parts else None

    def vapp_folder(self, vapp: str | None) -> str | None:
        """The VM folder a vApp sits in; a nested vApp has none, its outermost parent vApp has."""
        seen = 0
        while vapp and self.kinds.get(vapp) == "VirtualApp" and seen < 64:
            if vapp in self.vapp_folders:
                return self.vapp_folders[vapp]
            vapp = self.parents.get(vapp)
            seen += 1
        return None


def plain(value: Any) -> Any:
    """pyvmomi enums and strings are str subclasses that do not pickle: make them plain."""
    if isinstance(value, str):
        return str(value) if type(value) is not str else value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def moref(obj: Any) -> str | None:
    return obj._moId if obj is not None else None


_CONTROLLERS: list[tuple[type, str]] = [
    (vim.vm.device.ParaVirtualSCSIController, "pvscsi"),
    (vim.vm.device.VirtualLsiLogicSASController, "lsilogic-sas"),
    (vim.vm.device.VirtualLsiLogicController, "lsilogic"),
    (vim.vm.device.VirtualBusLogicController, "buslogic"),
    (vim.vm.device.VirtualAHCIController, "sata"),
    (vim.vm.device.VirtualNVMEController, "nvme"),
    (vim.vm.device.VirtualIDEController, "ide"),
]

_NIC_TYPES: list[tuple[type, str]] = [
    (vim.vm.device.VirtualSriovEthernetCard, "sriov"),
    (vim.vm.device.VirtualVmxnet3, "vmxnet3"),
    (vim.vm.device.VirtualVmxnet2, "vmxnet2"),
    (vim.vm.device.VirtualVmxnet, "vmxnet"),
    (vim.vm.device.VirtualE1000e, "e1000e"),
    (vim.vm.device.VirtualE1000, "e1000"),
    (vim.vm.device.VirtualPCNet32, "pcnet32"),
]


_IS_A: dict[tuple[type, Any], bool] = {}


def is_a(obj: Any, cls: Any) -> bool:
    """isinstance for typed pyvmomi objects and the fast path's RawObjects alike (memoised:
    called for every device of every VM against a handful of classes)."""
    if obj is None:
        return False
    key = (vim_type(obj), cls)
    found = _IS_A.get(key)
    if found is None:
        found = _IS_A[key] = issubclass(key[0], cls)
    return found


def _type_name(obj: Any, table: list[tuple[type, str]], default: str) -> str:
    for cls, name in table:
        if is_a(obj, cls):
            return name
    return default


def _label(dev: Any) -> str:
    info = getattr(dev, "deviceInfo", None)
    label = clean_text(info.label) if info is not None else None
    return label or f"device-{dev.key}"


def _disk(dev: Any, controllers: dict[int, str], lookups: Lookups) -> dict[str, Any]:
    backing = dev.backing
    capacity = dev.capacityInBytes or (dev.capacityInKB or 0) * 1024
    rdm = None
    if is_a(backing, vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo):
        rdm = backing.compatibilityMode  # physicalMode | virtualMode
    datastore = moref(getattr(backing, "datastore", None))
    return {
        "label": _label(dev),
        "key": dev.key,
        "capacity_gb": round(capacity / GIB, 3),
        "thin": bool(getattr(backing, "thinProvisioned", False)),
        "datastore": lookups.names.get(datastore or "", None),
        "file": clean_text(getattr(backing, "fileName", None)),
        "disk_mode": getattr(backing, "diskMode", None),
        "independent": str(getattr(backing, "diskMode", "")).startswith("independent"),
        "rdm": rdm,
        "sharing": getattr(backing, "sharing", None) or "sharingNone",
        "controller": controllers.get(dev.controllerKey),
        "unit_number": dev.unitNumber,
    }


def _nic_network(backing: Any, lookups: Lookups) -> tuple[str | None, str | None, str | None]:
    """(network name, kind, NSX segment id) of a NIC backing. An NSX-T segment seen as an opaque
    network is named by its UUID in the backing: resolve it to the network's name, keep the id."""
    card = vim.vm.device.VirtualEthernetCard
    ref: str | None = None
    fallback: str | None = None
    if is_a(backing, card.DistributedVirtualPortBackingInfo):
        fallback = backing.port.portgroupKey
        ref = lookups.dvportgroup_by_key.get(fallback or "")
    elif is_a(backing, card.NetworkBackingInfo):
        ref, fallback = moref(backing.network), backing.deviceName
    elif is_a(backing, card.OpaqueNetworkBackingInfo):
        fallback = backing.opaqueNetworkId
        ref = lookups.opaque_by_id.get(fallback or "")
        if ref is None:  # not in the inventory (no read right on it): the id is all there is
            return fallback, "opaque", fallback
    else:
        return None, None, None
    return (
        lookups.names.get(ref or "", fallback),
        lookups.network_kinds.get(ref or ""),
        lookups.segment_ids.get(ref or ""),
    )


def _nic(dev: Any, lookups: Lookups, ips_by_mac: dict[str, list[str]]) -> dict[str, Any]:
    network, kind, segment = _nic_network(dev.backing, lookups)
    mac = (dev.macAddress or "").lower() or None
    connectable = getattr(dev, "connectable", None)
    return {
        "label": _label(dev),
        "type": _type_name(dev, _NIC_TYPES, vim_type(dev).__name__),
        "mac": mac,
        "network": network,
        "network_kind": kind,
        "segment_id": segment,
        "vlan": lookups.network_vlans.get(network or ""),
        "connected": bool(connectable.connected) if connectable is not None else False,
        "start_connected": bool(connectable.startConnected) if connectable is not None else False,
        "ip_addresses": ips_by_mac.get(mac or "", []),
    }


def _usable(ip: str | None) -> bool:
    return bool(ip) and not str(ip).lower().startswith("fe80:")


def _entry_ips(entry: Any) -> list[str]:
    ips = list(entry.ipAddress or [])
    if entry.ipConfig is not None:
        ips += [a.ipAddress for a in entry.ipConfig.ipAddress or []]
    out: list[str] = []
    for ip in ips:
        if _usable(ip) and ip not in out:
            out.append(ip)
    return out


def _guest_ips(
    guest_net: list[Any] | None, nic_macs: set[str]
) -> tuple[dict[str, list[str]], list[dict[str, Any]]]:
    """guest.net split into addresses per virtual NIC (by MAC) and the guest's other interfaces:
    entries with deviceConfigId -1 or a MAC no virtual NIC has (docker bridges, NSX router
    ports, tunnels). Those addresses are still the VM's: flows to them must map to it."""
    by_mac: dict[str, list[str]] = {}
    others: list[dict[str, Any]] = []
    for entry in guest_net or []:
        mac = (entry.macAddress or "").lower()
        ips = _entry_ips(entry)
        if entry.deviceConfigId == -1 or mac not in nic_macs:
            if ips:
                others.append(
                    {"mac": mac or None, "network": clean_text(entry.network) or None, "ip_addresses": ips}
                )
            continue
        bucket = by_mac.setdefault(mac, [])
        bucket += [ip for ip in ips if ip not in bucket]
    return by_mac, others


def _snapshot_count(info: Any) -> int:
    if info is None:
        return 0
    stack = list(info.rootSnapshotList or [])
    count = 0
    while stack:
        node = stack.pop()
        count += 1
        stack.extend(node.childSnapshotList or [])
    return count


_PASSTHROUGH, _SRIOV, _USB, _VTPM = range(4)  # the device kinds a record counts
_COUNTED: list[tuple[int, Any]] = [
    (_PASSTHROUGH, vim.vm.device.VirtualPCIPassthrough),
    (_SRIOV, vim.vm.device.VirtualSriovEthernetCard),
    (_USB, vim.vm.device.VirtualUSBController | vim.vm.device.VirtualUSBXHCIController),
    (_VTPM, vim.vm.device.VirtualTPM),
]


@dataclass(frozen=True)
class _DeviceClass:
    """What a record needs to know of one device class, decided once per class."""

    controller: str | None  # the controller's type name; None: not a controller
    card: bool
    disk: bool
    counted: tuple[int, ...]  # the _COUNTED kinds it is


_DEVICE_CLASSES: dict[type, _DeviceClass] = {}


def _device_class(cls: type) -> _DeviceClass:
    found = _DEVICE_CLASSES.get(cls)
    if found is None:
        controller = None
        if issubclass(cls, vim.vm.device.VirtualController):
            controller = next((name for c, name in _CONTROLLERS if issubclass(cls, c)), "other")
        found = _DEVICE_CLASSES[cls] = _DeviceClass(
            controller,
            issubclass(cls, vim.vm.device.VirtualEthernetCard),
            issubclass(cls, vim.vm.device.VirtualDisk),
            tuple(kind for kind, c in _COUNTED if issubclass(cls, c)),
        )
    return found


class _Devices:
    """A VM's devices sorted by what the record reads of them, in one pass over the device list
    (it was seven, each testing every device: a tenth of discovery's client time)."""

    def __init__(self, devices: list[Any]) -> None:
        self.controllers: dict[int, str] = {}
        self.cards: list[Any] = []
        self.disks: list[Any] = []
        self.counts = [0] * len(_COUNTED)
        for dev in devices:
            if dev is None:
                continue
            kind = _device_class(vim_type(dev))
            if kind.controller is not None:
                self.controllers[dev.key] = kind.controller
            if kind.card:
                self.cards.append(dev)
            if kind.disk:
                self.disks.append(dev)
            for counted in kind.counted:
                self.counts[counted] += 1


def vm_record(ref: str, props: dict[str, Any], lookups: Lookups, raw: bool = False) -> dict[str, Any]:
    """One VM of the inventory export contract, from its retrieved properties. `raw`: they come
    from rawprops, whose values are plain already, so the pass that makes them plain is skipped."""
    found = _Devices(props.get("config.hardware.device") or [])
    cards = found.cards
    ips_by_mac, guest_interfaces = _guest_ips(
        props.get("guest.net"), {(d.macAddress or "").lower() for d in cards} - {""}
    )
    disks = [_disk(d, found.controllers, lookups) for d in found.disks]
    nics = [_nic(d, lookups, ips_by_mac) for d in cards]
    extra = {o.key: o.value for o in props.get("config.extraConfig") or []}
    ip_addresses: list[str] = []
    primary = props.get("guest.ipAddress")
    for ip in [
        primary,
        *[ip for nic in nics for ip in nic["ip_addresses"]],
        *[ip for iface in guest_interfaces for ip in iface["ip_addresses"]],
    ]:
        if _usable(ip) and ip not in ip_addresses:
            ip_addresses.append(ip)
    host = moref(props.get("runtime.host"))
    pool = moref(props.get("resourcePool"))
    vapp = moref(props.get("parentVApp")) or (pool if lookups.kinds.get(pool or "") == "VirtualApp" else None)
    # A VM in a vApp has no parent folder (vCenter leaves `parent` unset): its folder is the
    # vApp's, and datacenter and cluster come up the vApp's pool chain or the host's.
    folder = moref(props.get("parent")) or lookups.vapp_folder(vapp)
    chains = [folder, vapp or pool, host]
    cluster = lookups.first_ancestor([host, vapp or pool], "ClusterComputeResource")
    boot = props.get("config.bootOptions")
    cpu_affinity = props.get("config.cpuAffinity")
    custom = {
        lookups.custom_field_names.get(cv.key, str(cv.key)): clean_text(cv.value)
        for cv in props.get("customValue") or []
    }
    record = {
        "name": clean_text(props.get("name")) or ref,
        "moref": ref,
        "instance_uuid": props.get("config.instanceUuid"),
        "bios_uuid": props.get("config.uuid"),
        "template": bool(props.get("config.template", False)),
        "power_state": props.get("runtime.powerState"),
        "num_cpu": props.get("config.hardware.numCPU"),
        "cores_per_socket": props.get("config.hardware.numCoresPerSocket") or 1,
        "memory_mb": props.get("config.hardware.memoryMB"),
        "guest_id": props.get("config.guestId"),
        "guest_os": clean_text(props.get("config.guestFullName") or props.get("guest.guestFullName")),
        "tools_guest_os": clean_text(props.get("guest.guestFullName")),
        "firmware": props.get("config.firmware") or "bios",
        "secure_boot": bool(boot is not None and boot.efiSecureBootEnabled),
        "hw_version": props.get("config.version"),
        "annotation": clean_text(props.get("config.annotation")) or "",
        "datacenter": lookups.names.get(lookups.first_ancestor(chains, "Datacenter") or ""),
        "cluster": lookups.names.get(cluster or ""),
        "host": lookups.names.get(host or ""),
        "folder": lookups.path_below(folder, "Datacenter"),
        "resource_pool": lookups.path_below(pool, *COMPUTE_KINDS) if pool else None,
        "vapp": lookups.names.get(vapp or ""),
        "custom_fields": custom,
        "tags": sorted(lookups.tags.get(ref, [])),
        "disks": disks,
        "nics": nics,
        "ip_addresses": ip_addresses,
        "guest_interfaces": guest_interfaces,
        "hostname": clean_text(props.get("guest.hostName")),
        "tools_status": props.get("guest.toolsRunningStatus"),
        "tools_version_status": props.get("guest.toolsVersionStatus2"),
        "snapshot_count": _snapshot_count(props.get("snapshot")),
        "cbt_enabled": bool(props.get("config.changeTrackingEnabled", False)),
        "consolidation_needed": bool(props.get("runtime.consolidationNeeded", False)),
        "cpu_hot_add": bool(props.get("config.cpuHotAddEnabled", False)),
        "memory_hot_add": bool(props.get("config.memoryHotAddEnabled", False)),
        "cpu_affinity": list(cpu_affinity.affinitySet) if cpu_affinity is not None else [],
        "numa_affinity": extra.get("numa.nodeAffinity"),
        "fault_tolerance": props.get("runtime.faultToleranceState") or "notConfigured",
        "committed_gb": round((props.get("summary.storage.committed") or 0) / GIB, 3),
        "passthrough_devices": found.counts[_PASSTHROUGH],
        "sriov_nics": found.counts[_SRIOV],
        "usb_controllers": found.counts[_USB],
        "vtpm": found.counts[_VTPM] > 0,
        "perf": None,
    }
    return record if raw else plain(record)
