"""Turn retrieved vSphere properties into export-contract records (plain dicts).

Runs inside discovery worker processes, so everything it needs to resolve references
(datastore, network and folder names...) travels in a small picklable `Lookups`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyVmomi import vim

from migrator.text import clean_text

GIB = 1024**3


@dataclass
class Lookups:
    names: dict[str, str] = field(default_factory=dict)  # moref -> display name, every entity
    parents: dict[str, str] = field(default_factory=dict)  # moref -> parent moref
    kinds: dict[str, str] = field(default_factory=dict)  # moref -> vSphere type name
    dvportgroup_by_key: dict[str, str] = field(default_factory=dict)  # portgroup key -> moref
    network_vlans: dict[str, int | None] = field(default_factory=dict)  # network name -> VLAN id
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

    def path_below(self, moref: str | None, stop_kind: str) -> str | None:
        """Slash-joined names from below the nearest `stop_kind` ancestor down to moref."""
        parts: list[str] = []
        while moref and self.kinds.get(moref) != stop_kind and len(parts) < 64:
            parts.append(self.names.get(moref, moref))
            moref = self.parents.get(moref)
        return "/".join(reversed(parts)) if parts else None


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


def _type_name(obj: Any, table: list[tuple[type, str]], default: str) -> str:
    for cls, name in table:
        if isinstance(obj, cls):
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
    if isinstance(backing, vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo):
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


def _nic(dev: Any, lookups: Lookups, ips_by_mac: dict[str, list[str]]) -> dict[str, Any]:
    backing = dev.backing
    network: str | None = None
    if isinstance(backing, vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo):
        pg = lookups.dvportgroup_by_key.get(backing.port.portgroupKey or "")
        network = lookups.names.get(pg or "", backing.port.portgroupKey)
    elif isinstance(backing, vim.vm.device.VirtualEthernetCard.NetworkBackingInfo):
        network = lookups.names.get(moref(backing.network) or "", backing.deviceName)
    elif isinstance(backing, vim.vm.device.VirtualEthernetCard.OpaqueNetworkBackingInfo):
        network = backing.opaqueNetworkId
    mac = (dev.macAddress or "").lower() or None
    connectable = getattr(dev, "connectable", None)
    return {
        "label": _label(dev),
        "type": _type_name(dev, _NIC_TYPES, type(dev).__name__),
        "mac": mac,
        "network": network,
        "vlan": lookups.network_vlans.get(network or ""),
        "connected": bool(connectable.connected) if connectable is not None else False,
        "start_connected": bool(connectable.startConnected) if connectable is not None else False,
        "ip_addresses": ips_by_mac.get(mac or "", []),
    }


def _guest_ips(guest_net: list[Any] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for nic in guest_net or []:
        ips = list(nic.ipAddress or [])
        if nic.ipConfig is not None:
            ips += [a.ipAddress for a in nic.ipConfig.ipAddress or []]
        mac = (nic.macAddress or "").lower()
        bucket = out.setdefault(mac, [])
        for ip in ips:
            if ip and not ip.lower().startswith("fe80:") and ip not in bucket:
                bucket.append(ip)
    return out


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


def vm_record(ref: str, props: dict[str, Any], lookups: Lookups) -> dict[str, Any]:
    """One VM of the inventory export contract, from its retrieved properties."""
    devices = props.get("config.hardware.device") or []
    controllers = {
        d.key: _type_name(d, _CONTROLLERS, "other")
        for d in devices
        if isinstance(d, vim.vm.device.VirtualController)
    }
    ips_by_mac = _guest_ips(props.get("guest.net"))
    disks = [_disk(d, controllers, lookups) for d in devices if isinstance(d, vim.vm.device.VirtualDisk)]
    nics = [_nic(d, lookups, ips_by_mac) for d in devices if isinstance(d, vim.vm.device.VirtualEthernetCard)]
    extra = {o.key: o.value for o in props.get("config.extraConfig") or []}
    ip_addresses: list[str] = []
    primary = props.get("guest.ipAddress")
    for ip in [primary, *[ip for nic in nics for ip in nic["ip_addresses"]]]:
        if ip and ip not in ip_addresses and not ip.lower().startswith("fe80:"):
            ip_addresses.append(ip)
    host = moref(props.get("runtime.host"))
    cluster = lookups.ancestor(lookups.parents.get(host or ""), "ClusterComputeResource")
    folder = moref(props.get("parent"))
    pool = moref(props.get("resourcePool"))
    vapp = moref(props.get("parentVApp")) or (pool if lookups.kinds.get(pool or "") == "VirtualApp" else None)
    boot = props.get("config.bootOptions")
    cpu_affinity = props.get("config.cpuAffinity")
    custom = {
        lookups.custom_field_names.get(cv.key, str(cv.key)): clean_text(cv.value)
        for cv in props.get("customValue") or []
    }
    return plain(
        {
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
            "datacenter": lookups.names.get(lookups.ancestor(folder, "Datacenter") or ""),
            "cluster": lookups.names.get(cluster or ""),
            "host": lookups.names.get(host or ""),
            "folder": lookups.path_below(folder, "Datacenter"),
            "resource_pool": lookups.path_below(pool, "ClusterComputeResource") if pool else None,
            "vapp": lookups.names.get(vapp or ""),
            "custom_fields": custom,
            "tags": sorted(lookups.tags.get(ref, [])),
            "disks": disks,
            "nics": nics,
            "ip_addresses": ip_addresses,
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
            "passthrough_devices": sum(isinstance(d, vim.vm.device.VirtualPCIPassthrough) for d in devices),
            "sriov_nics": sum(isinstance(d, vim.vm.device.VirtualSriovEthernetCard) for d in devices),
            "usb_controllers": sum(
                isinstance(d, vim.vm.device.VirtualUSBController | vim.vm.device.VirtualUSBXHCIController)
                for d in devices
            ),
            "vtpm": any(isinstance(d, vim.vm.device.VirtualTPM) for d in devices),
            "perf": None,
        }
    )
