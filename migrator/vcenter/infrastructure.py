"""Everything around the VMs: folders, datacenters, clusters (with DRS rules), hosts,
networks with VLANs, datastores. Small next to the VMs, so retrieved in the parent process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyVmomi import vim

from migrator.text import clean_text
from migrator.vcenter import properties as P
from migrator.vcenter.mapping import GIB, Lookups, moref, plain
from migrator.vcenter.retrieval import retrieve_all

# Containers retrieved only for names and parents (general types first: specific ones overwrite).
_CONTAINER_TYPES: list[tuple[type, str]] = [
    (vim.Folder, "Folder"),
    (vim.Datacenter, "Datacenter"),
    (vim.ComputeResource, "ComputeResource"),
    (vim.ClusterComputeResource, "ClusterComputeResource"),
    (vim.ResourcePool, "ResourcePool"),
    (vim.VirtualApp, "VirtualApp"),
]


@dataclass
class Infrastructure:
    lookups: Lookups
    hosts: list[dict[str, Any]] = field(default_factory=list)
    clusters: list[dict[str, Any]] = field(default_factory=list)  # drs_rules[].vms still morefs
    networks: list[dict[str, Any]] = field(default_factory=list)
    datastores: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def collect_infrastructure(content: Any) -> Infrastructure:
    lookups = Lookups()
    infra = Infrastructure(lookups=lookups)

    def remember(ref: str, kind: str, props: dict[str, Any]) -> None:
        lookups.names[ref] = clean_text(props.get("name")) or ref
        lookups.kinds[ref] = kind
        parent = moref(props.get("parent")) or moref(props.get("parentVApp"))
        if parent:
            lookups.parents[ref] = parent

    cluster_rows: list[tuple[str, dict[str, Any]]] = []
    for obj_type, kind in _CONTAINER_TYPES:
        # Clusters come with their configuration in the same pass; their records need host names.
        paths = {"ClusterComputeResource": P.CLUSTER_PROPERTIES, "VirtualApp": P.VAPP_PROPERTIES}.get(
            kind, P.CONTAINER_PROPERTIES
        )
        for ref, _obj, props in retrieve_all(content, obj_type, paths.values()):
            remember(ref, kind, props)
            if kind == "ClusterComputeResource":
                cluster_rows.append((ref, props))
            folder = moref(props.get("parentFolder"))
            if kind == "VirtualApp" and folder:
                lookups.vapp_folders[ref] = folder

    host_portgroups: dict[str, tuple[int | None, str | None]] = {}
    host_rows = list(retrieve_all(content, vim.HostSystem, P.HOST_PROPERTIES.values()))
    for ref, _obj, props in host_rows:
        remember(ref, "HostSystem", props)
        for pg in props.get("config.network.portgroup") or []:
            host_portgroups.setdefault(pg.spec.name, (pg.spec.vlanId, pg.spec.vswitchName))
    for ref, _obj, props in host_rows:
        infra.hosts.append(_host_record(ref, props, lookups))

    infra.clusters = [_cluster_record(ref, props, lookups) for ref, props in cluster_rows]

    switches = {
        ref: clean_text(props.get("name"))
        for ref, _obj, props in retrieve_all(
            content, vim.DistributedVirtualSwitch, P.DVSWITCH_PROPERTIES.values()
        )
    }
    dvpg_refs: set[str] = set()
    for ref, _obj, props in retrieve_all(
        content, vim.dvs.DistributedVirtualPortgroup, P.DVPORTGROUP_PROPERTIES.values()
    ):
        remember(ref, "DistributedVirtualPortgroup", props)
        dvpg_refs.add(ref)
        lookups.dvportgroup_by_key[props.get("key") or ref] = ref
        infra.networks.append(_dvportgroup_record(ref, props, lookups, switches))
    for ref, _obj, props in retrieve_all(content, vim.OpaqueNetwork, P.OPAQUE_NETWORK_PROPERTIES.values()):
        remember(ref, "OpaqueNetwork", props)
        dvpg_refs.add(ref)
        summary = props.get("summary")
        segment = getattr(summary, "opaqueNetworkId", None)
        if segment:
            lookups.opaque_by_id[segment] = ref
        infra.networks.append(_network_record(ref, lookups, "opaque", segment=segment))
        infra.networks[-1]["segment_type"] = getattr(summary, "opaqueNetworkType", None)
    for ref, _obj, props in retrieve_all(content, vim.Network, P.NETWORK_PROPERTIES.values()):
        if ref in dvpg_refs:  # portgroups and opaque networks are Networks too: done above
            continue
        remember(ref, "Network", props)
        vlan, switch = host_portgroups.get(lookups.names[ref], (None, None))
        infra.networks.append(_network_record(ref, lookups, "standard", vlan=vlan or None, switch=switch))
    for net in infra.networks:
        lookups.network_vlans.setdefault(net["name"], net["vlan"])
        lookups.network_kinds[net["moref"]] = net["kind"]
        if net.get("segment_id"):
            lookups.segment_ids[net["moref"]] = net["segment_id"]

    for ref, _obj, props in retrieve_all(content, vim.Datastore, P.DATASTORE_PROPERTIES.values()):
        remember(ref, "Datastore", props)
        summary = props.get("summary")
        infra.datastores.append(
            {
                "name": lookups.names[ref],
                "moref": ref,
                "type": getattr(summary, "type", None),
                "capacity_gb": round((getattr(summary, "capacity", 0) or 0) / GIB, 3),
                "free_gb": round((getattr(summary, "freeSpace", 0) or 0) / GIB, 3),
                "url": getattr(summary, "url", None),
                "datacenter": lookups.names.get(lookups.ancestor(ref, "Datacenter") or ""),
            }
        )
    infra.hosts, infra.clusters = plain(infra.hosts), plain(infra.clusters)
    infra.networks, infra.datastores = plain(infra.networks), plain(infra.datastores)
    return infra


def _network_record(
    ref: str,
    lookups: Lookups,
    kind: str,
    vlan: int | None = None,
    switch: str | None = None,
    segment: str | None = None,
) -> dict[str, Any]:
    return {
        "name": lookups.names[ref],
        "moref": ref,
        "kind": kind,
        "vlan": vlan,
        "vlan_trunk": [],
        "pvlan": None,
        "switch": switch,
        "uplink": False,
        "segment_id": segment,
        "segment_type": None,
        "datacenter": lookups.names.get(lookups.ancestor(ref, "Datacenter") or ""),
    }


def _host_record(ref: str, props: dict[str, Any], lookups: Lookups) -> dict[str, Any]:
    hw = props.get("summary.hardware")
    product = props.get("summary.config.product")
    parent = lookups.parents.get(ref)
    return {
        "name": lookups.names[ref],
        "moref": ref,
        "cluster": lookups.names.get(parent or "")
        if lookups.kinds.get(parent or "") == "ClusterComputeResource"
        else None,
        "datacenter": lookups.names.get(lookups.ancestor(ref, "Datacenter") or ""),
        "cpu_model": getattr(hw, "cpuModel", None),
        "cpu_sockets": getattr(hw, "numCpuPkgs", None),
        "cpu_cores": getattr(hw, "numCpuCores", None),
        "cpu_threads": getattr(hw, "numCpuThreads", None),
        "memory_gb": round((getattr(hw, "memorySize", 0) or 0) / GIB, 3),
        "esxi_version": getattr(product, "version", None),
        "esxi_build": getattr(product, "build", None),
        "maintenance_mode": bool(props.get("runtime.inMaintenanceMode", False)),
        "connection_state": props.get("runtime.connectionState"),
        "power_state": props.get("runtime.powerState"),
    }


def _group_members(config: Any) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    vm_groups: dict[str, list[str]] = {}
    host_groups: dict[str, list[str]] = {}
    for group in getattr(config, "group", None) or []:
        if isinstance(group, vim.cluster.VmGroup):
            vm_groups[group.name] = [moref(v) or "" for v in group.vm or []]
        elif isinstance(group, vim.cluster.HostGroup):
            host_groups[group.name] = [moref(h) or "" for h in group.host or []]
    return vm_groups, host_groups


def _cluster_record(ref: str, props: dict[str, Any], lookups: Lookups) -> dict[str, Any]:
    config = props.get("configurationEx")
    vm_groups, host_groups = _group_members(config)
    rules: list[dict[str, Any]] = []
    for rule in getattr(config, "rule", None) or []:
        entry: dict[str, Any] = {
            "name": clean_text(rule.name),
            "enabled": bool(rule.enabled),
            "mandatory": bool(getattr(rule, "mandatory", False)),
        }
        if isinstance(rule, vim.cluster.AffinityRuleSpec):
            entry.update(kind="vm-affinity", vms=[moref(v) for v in rule.vm or []])
        elif isinstance(rule, vim.cluster.AntiAffinityRuleSpec):
            entry.update(kind="vm-anti-affinity", vms=[moref(v) for v in rule.vm or []])
        elif isinstance(rule, vim.cluster.VmHostRuleInfo):
            host_group = rule.affineHostGroupName or rule.antiAffineHostGroupName
            entry.update(
                kind="vm-host",
                vms=vm_groups.get(rule.vmGroupName or "", []),
                vm_group=rule.vmGroupName,
                host_group=host_group,
                affine=bool(rule.affineHostGroupName),
                hosts=sorted(lookups.names.get(h, h) for h in host_groups.get(host_group or "", [])),
            )
        else:
            entry.update(kind=type(rule).__name__, vms=[])
        rules.append(entry)
    das = getattr(config, "dasConfig", None)
    drs = getattr(config, "drsConfig", None)
    dpm = getattr(config, "dpmConfigInfo", None)
    return {
        "name": lookups.names[ref],
        "moref": ref,
        "datacenter": lookups.names.get(lookups.ancestor(ref, "Datacenter") or ""),
        "ha_enabled": bool(getattr(das, "enabled", False)),
        "drs_enabled": bool(getattr(drs, "enabled", False)),
        "drs_behavior": getattr(drs, "defaultVmBehavior", None),
        "dpm_enabled": bool(getattr(dpm, "enabled", False)),
        "drs_rules": rules,
    }


def _dvportgroup_record(
    ref: str, props: dict[str, Any], lookups: Lookups, switches: dict[str, str | None]
) -> dict[str, Any]:
    config = props.get("config")
    vlan_spec = getattr(getattr(config, "defaultPortConfig", None), "vlan", None)
    vlan: int | None = None
    trunk: list[list[int]] = []
    pvlan: int | None = None
    if isinstance(vlan_spec, vim.dvs.VmwareDistributedVirtualSwitch.VlanIdSpec):
        vlan = vlan_spec.vlanId or None
    elif isinstance(vlan_spec, vim.dvs.VmwareDistributedVirtualSwitch.TrunkVlanSpec):
        trunk = [[r.start, r.end] for r in vlan_spec.vlanId or []]
    elif isinstance(vlan_spec, vim.dvs.VmwareDistributedVirtualSwitch.PvlanSpec):
        pvlan = vlan_spec.pvlanId
    switch_ref = moref(getattr(config, "distributedVirtualSwitch", None))
    # NSX-T 3 on a vSphere 7 distributed switch: the segment is a portgroup with an NSX backing.
    segment = getattr(config, "logicalSwitchUuid", None) or None
    return {
        "name": lookups.names[ref],
        "moref": ref,
        "kind": "distributed",
        "vlan": vlan,
        "vlan_trunk": trunk,
        "pvlan": pvlan,
        "switch": switches.get(switch_ref or "", switch_ref),
        "key": props.get("key"),
        "uplink": bool(getattr(config, "uplink", False)),
        "segment_id": segment,
        "segment_type": getattr(config, "backingType", None) if segment else None,
        "datacenter": lookups.names.get(lookups.ancestor(ref, "Datacenter") or ""),
    }
