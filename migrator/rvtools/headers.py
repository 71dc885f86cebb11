"""RVTools column names, in both dialects, resolved by name (never by position).

RVTools writes display headers ("VM", "Provisioned MiB"; "MB" before version 3.9.x) or,
in its internal dialect, sheet-prefixed names ("vInfoVMName", "vInfoCPUs"). Both are
normalised to lower-case alphanumerics with the sheet prefix dropped and MiB/MB unified,
then looked up in ALIASES.
"""

from __future__ import annotations

import re

_NON_ALNUM = re.compile(r"[^a-z0-9#]")


def normalise(header: object, sheet: str) -> str:
    text = _NON_ALNUM.sub("", str(header or "").lower())
    prefix = sheet.lower()
    if text.startswith(prefix) and len(text) > len(prefix):
        text = text[len(prefix) :]
    text = text.replace("#", "num")
    return re.sub(r"mib$", "mb", text).replace("kib", "kb")


# field -> accepted normalised headers, per sheet.
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "vInfo": {
        "vm": ("vm", "vmname", "name"),
        "power_state": ("powerstate",),
        "template": ("template",),
        "num_cpu": ("cpus", "numcpu", "cpu"),
        "memory_mb": ("memory", "memorymb"),
        "annotation": ("annotation",),
        "datacenter": ("datacenter",),
        "cluster": ("cluster",),
        "host": ("host",),
        "guest_os": ("osaccordingtotheconfigurationfile", "os"),
        "tools_guest_os": ("osaccordingtothevmwaretools", "ostools"),
        "moref": ("vmid",),
        "instance_uuid": ("vmuuid", "uuid"),
        "bios_uuid": ("smbiosuuid", "biosuuid"),
        "firmware": ("firmware",),
        "secure_boot": ("efisecureboot",),
        "hw_version": ("hwversion",),
        "hostname": ("dnsname", "guesthostname"),
        "primary_ip": ("primaryipaddress",),
        "folder": ("folder",),
        "resource_pool": ("resourcepool",),
        "vapp": ("vapp",),
        "cbt_enabled": ("cbt",),
        "consolidation_needed": ("consolidationneeded",),
        "fault_tolerance": ("ftstate",),
        "server": ("visdkserver",),
        "provisioned_mb": ("provisionedmb", "provisioned"),
        "in_use_mb": ("inusemb", "inuse"),
    },
    "vDisk": {
        "vm": ("vm", "vmname"),
        "moref": ("vmid",),
        "label": ("disk", "label"),
        "capacity_mb": ("capacitymb", "capacity"),
        "thin": ("thin",),
        "disk_mode": ("diskmode", "mode"),
        "sharing": ("sharingmode", "sharing"),
        "raw": ("raw",),
        "raw_mode": ("rawcompmode",),
        "path": ("path", "diskpath"),
        "controller": ("controller",),
        "unit_number": ("unitnum", "unit"),
    },
    "vNetwork": {
        "vm": ("vm", "vmname"),
        "moref": ("vmid",),
        "label": ("niclabel", "label"),
        "type": ("adapter",),
        "network": ("network", "portgroup"),
        "switch": ("switch",),
        "connected": ("connected",),
        "start_connected": ("startsconnected",),
        "mac": ("macaddress", "mac"),
        "ipv4": ("ipv4address", "ipaddress"),
        "ipv6": ("ipv6address",),
    },
    "vHost": {
        "name": ("host", "name"),
        "datacenter": ("datacenter",),
        "cluster": ("cluster",),
        "cpu_model": ("cpumodel",),
        "cpu_sockets": ("numcpu", "cpu"),
        "cpu_cores": ("numcores", "cores"),
        "memory_mb": ("nummemory", "memory"),
        "esxi_version": ("esxversion",),
        "maintenance_mode": ("inmaintenancemode", "maintenancemode"),
        "moref": ("objectid", "hostid"),
    },
    "vCluster": {
        "name": ("name", "cluster"),
        "ha_enabled": ("haenabled",),
        "drs_enabled": ("drsenabled",),
        "drs_behavior": ("drsdefaultvmbehavior", "drsbehavior"),
        "dpm_enabled": ("dpmenabled",),
        "moref": ("objectid", "clusterid"),
    },
    "vPartition": {
        "vm": ("vm", "vmname"),
        "moref": ("vmid",),
        "disk": ("disk", "partition"),
        "capacity_mb": ("capacitymb", "capacity"),
        "free_mb": ("freemb", "free"),
    },
    "vMemory": {
        "vm": ("vm", "vmname"),
        "moref": ("vmid",),
        "size_mb": ("sizemb", "size"),
        "hot_add": ("hotadd",),
    },
    "vDatastore": {
        "name": ("name", "datastore"),
        "type": ("type",),
        "capacity_mb": ("capacitymb", "capacity"),
        "free_mb": ("freemb", "free"),
        "url": ("url",),
    },
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "vInfo": ("vm", "power_state", "num_cpu", "memory_mb"),
    "vDisk": ("vm", "capacity_mb"),
    "vNetwork": ("vm", "network"),
    "vHost": ("name",),
    "vCluster": ("name",),
    "vPartition": ("vm", "capacity_mb", "free_mb"),
    "vMemory": ("vm",),
    "vDatastore": ("name",),
}

# Headers RVTools shows to people, for error messages.
DISPLAY: dict[str, str] = {
    "vm": "VM",
    "power_state": "Powerstate",
    "num_cpu": "CPUs",
    "memory_mb": "Memory",
    "capacity_mb": "Capacity MiB",
    "network": "Network",
    "name": "Name",
    "free_mb": "Free MiB",
    "provisioned_mb": "Provisioned MiB",
    "in_use_mb": "In Use MiB",
    "unit_number": "Unit #",
    "cpu_sockets": "# CPU",
    "cpu_cores": "# Cores",
}

# In vInfo, RVTools places custom-attribute columns between these two headers.
CUSTOM_ATTRIBUTES_AFTER = "annotation"
CUSTOM_ATTRIBUTES_BEFORE = "datacenter"


def resolve(headers: list[object], sheet: str) -> dict[str, int]:
    """field -> column index, for the fields of ALIASES[sheet] present in headers."""
    normalised = [normalise(h, sheet) for h in headers]
    found: dict[str, int] = {}
    for field, names in ALIASES[sheet].items():
        for name in names:
            if name in normalised:
                found[field] = normalised.index(name)
                break
    return found


def custom_attribute_columns(headers: list[object]) -> dict[str, int]:
    normalised = [normalise(h, "vInfo") for h in headers]
    try:
        start = normalised.index(CUSTOM_ATTRIBUTES_AFTER) + 1
        end = normalised.index(CUSTOM_ATTRIBUTES_BEFORE)
    except ValueError:
        return {}
    return {str(headers[i]).strip(): i for i in range(start, end) if headers[i] not in (None, "")}
