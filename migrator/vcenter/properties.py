"""The vSphere property paths discovery reads, named by the fields they feed.

Keeping the paths here, in one table per object type, documents where every exported fact
comes from (docs/discover.md reproduces these tables) and keeps retrieval to exactly what
a migration planner needs: each extra path costs parsing time on 10,000 VMs.
"""

from __future__ import annotations

VM_PROPERTIES: dict[str, str] = {
    "name": "name",
    "bios_uuid": "config.uuid",
    "instance_uuid": "config.instanceUuid",
    "template": "config.template",
    "power_state": "runtime.powerState",
    "num_cpu": "config.hardware.numCPU",
    "cores_per_socket": "config.hardware.numCoresPerSocket",
    "memory_mb": "config.hardware.memoryMB",
    "guest_id": "config.guestId",
    "guest_os": "config.guestFullName",
    "tools_guest_os": "guest.guestFullName",
    "firmware": "config.firmware",
    "secure_boot": "config.bootOptions",  # .efiSecureBootEnabled
    "hw_version": "config.version",
    "annotation": "config.annotation",
    "custom_fields": "customValue",
    "folder": "parent",
    "resource_pool": "resourcePool",
    "vapp": "parentVApp",
    "host": "runtime.host",
    "devices": "config.hardware.device",  # disks, NICs, controllers, passthrough, USB, vTPM
    "guest_net": "guest.net",
    "primary_ip": "guest.ipAddress",
    "hostname": "guest.hostName",
    "tools_running": "guest.toolsRunningStatus",
    "tools_version_status": "guest.toolsVersionStatus2",
    "snapshots": "snapshot",
    "cbt_enabled": "config.changeTrackingEnabled",
    "consolidation_needed": "runtime.consolidationNeeded",
    "cpu_hot_add": "config.cpuHotAddEnabled",
    "memory_hot_add": "config.memoryHotAddEnabled",
    "cpu_affinity": "config.cpuAffinity",
    "extra_config": "config.extraConfig",  # numa.nodeAffinity
    "fault_tolerance": "runtime.faultToleranceState",
    "committed_bytes": "summary.storage.committed",
}

HOST_PROPERTIES: dict[str, str] = {
    "name": "name",
    "parent": "parent",
    "hardware": "summary.hardware",  # cpuModel, numCpuPkgs, numCpuCores, numCpuThreads, memorySize
    "product": "summary.config.product",  # version, build, fullName
    "maintenance": "runtime.inMaintenanceMode",
    "connection_state": "runtime.connectionState",
    "power_state": "runtime.powerState",
    "portgroups": "config.network.portgroup",  # standard portgroups with their VLAN ids
}

CLUSTER_PROPERTIES: dict[str, str] = {
    "name": "name",
    "parent": "parent",
    "config": "configurationEx",  # dasConfig, drsConfig, dpmConfigInfo, rule[], group[]
}

DVPORTGROUP_PROPERTIES: dict[str, str] = {
    "name": "name",
    "key": "key",
    "parent": "parent",
    "config": "config",  # defaultPortConfig.vlan, distributedVirtualSwitch, uplink, NSX backing
}

NETWORK_PROPERTIES: dict[str, str] = {"name": "name", "parent": "parent"}

# NSX-T segments as vCenter shows them on an N-VDS or in VMware Cloud on AWS.
OPAQUE_NETWORK_PROPERTIES: dict[str, str] = {
    "name": "name",
    "parent": "parent",
    "summary": "summary",  # opaqueNetworkId, opaqueNetworkType
}

DVSWITCH_PROPERTIES: dict[str, str] = {"name": "name", "uuid": "uuid"}

DATASTORE_PROPERTIES: dict[str, str] = {
    "name": "name",
    "parent": "parent",
    "summary": "summary",  # type, capacity, freeSpace, url
}

# Containers: only name and parent, to resolve folder paths, datacenters and clusters.
CONTAINER_PROPERTIES: dict[str, str] = {"name": "name", "parent": "parent"}

# vApps also say which VM folder they sit in (their VMs have no folder of their own).
VAPP_PROPERTIES: dict[str, str] = {
    "name": "name",
    "parent": "parent",
    "folder": "parentFolder",
    "vapp": "parentVApp",
}
