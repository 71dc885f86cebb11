"""vm_record and the network records fed pyVmomi objects for shapes vcsim 0.24 cannot serve:
nested vApps, standalone hosts, NSX-T segments on a vSphere 7 distributed switch (API 7.0
fields; vcsim offers 6.5), an opaque network the account cannot read. The vcsim-backed tests
in test_discovery_shapes.py cover the rest end to end."""

from __future__ import annotations

from typing import Any

from pyVmomi import vim

from migrator.vcenter.infrastructure import _dvportgroup_record
from migrator.vcenter.mapping import Lookups, vm_record

Ref = Any


def _ref(cls: type, moid: str) -> Ref:
    return cls(moid)


def _tree() -> Lookups:
    """DC0 > host folder > cluster C1 > Resources > outer vApp > inner vApp; and a standalone host."""
    lk = Lookups()
    entries = [
        ("group-d1", "Folder", "Datacenters", None),
        ("datacenter-2", "Datacenter", "DC0", "group-d1"),
        ("group-v3", "Folder", "vm", "datacenter-2"),
        ("group-v9", "Folder", "apps", "group-v3"),
        ("group-h4", "Folder", "host", "datacenter-2"),
        ("domain-c5", "ClusterComputeResource", "C1", "group-h4"),
        ("resgroup-6", "ResourcePool", "Resources", "domain-c5"),
        ("resgroup-v7", "VirtualApp", "outer", "resgroup-6"),
        ("resgroup-v8", "VirtualApp", "inner", "resgroup-v7"),
        ("host-10", "HostSystem", "esx-1", "domain-c5"),
        ("domain-s11", "ComputeResource", "esx-2", "group-h4"),
        ("resgroup-12", "ResourcePool", "Resources", "domain-s11"),
        ("host-13", "HostSystem", "esx-2", "domain-s11"),
    ]
    for ref, kind, name, parent in entries:
        lk.names[ref], lk.kinds[ref] = name, kind
        if parent:
            lk.parents[ref] = parent
    lk.vapp_folders["resgroup-v7"] = "group-v9"  # only the outer vApp sits in a folder
    return lk


def test_vm_in_nested_vapp_without_host() -> None:
    props = {
        "name": "in-nested",
        "parentVApp": _ref(vim.VirtualApp, "resgroup-v8"),
        "resourcePool": _ref(vim.VirtualApp, "resgroup-v8"),
    }
    rec = vm_record("vm-1", props, _tree())
    assert {k: rec[k] for k in ("datacenter", "cluster", "host", "folder", "resource_pool", "vapp")} == {
        "datacenter": "DC0",
        "cluster": "C1",  # from the pool chain: a template or an orphan has no runtime.host
        "host": None,
        "folder": "vm/apps",
        "resource_pool": "Resources/outer/inner",
        "vapp": "inner",
    }


def test_vm_on_standalone_host_pool_path_stops_at_the_compute_resource() -> None:
    props = {
        "name": "standalone",
        "resourcePool": _ref(vim.ResourcePool, "resgroup-12"),
        "runtime.host": _ref(vim.HostSystem, "host-13"),
    }
    rec = vm_record("vm-2", props, _tree())
    assert (rec["datacenter"], rec["cluster"], rec["resource_pool"], rec["folder"]) == (
        "DC0",
        None,
        "Resources",
        None,
    )


def _card(backing: Any, mac: str, key: int = 4000) -> Any:
    return vim.vm.device.VirtualVmxnet3(key=key, macAddress=mac, backing=backing)


def test_opaque_backing_not_in_inventory_keeps_the_id_and_kind() -> None:
    backing = vim.vm.device.VirtualEthernetCard.OpaqueNetworkBackingInfo(
        opaqueNetworkId="seg-unknown-uuid", opaqueNetworkType="nsx.LogicalSwitch"
    )
    rec = vm_record(
        "vm-3", {"name": "x", "config.hardware.device": [_card(backing, "00:50:56:aa:bb:01")]}, Lookups()
    )
    (nic,) = rec["nics"]
    assert (nic["network"], nic["network_kind"], nic["segment_id"]) == (
        "seg-unknown-uuid",
        "opaque",
        "seg-unknown-uuid",
    )


def test_guest_entry_with_device_config_minus_one_is_not_a_nic_even_with_a_nic_mac() -> None:
    backing = vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName="VM Network")
    net = [
        vim.vm.GuestInfo.NicInfo(macAddress="00:50:56:AA:BB:02", deviceConfigId=4000, ipAddress=["10.0.0.5"]),
        # a bridge that reuses the NIC's MAC (macvlan, an NSX edge's router port)
        vim.vm.GuestInfo.NicInfo(
            macAddress="00:50:56:aa:bb:02",
            deviceConfigId=-1,
            network="br0",
            ipAddress=["192.0.2.7", "fe80::1"],
        ),
    ]
    props = {
        "name": "x",
        "guest.ipAddress": "10.0.0.5",
        "guest.net": net,
        "config.hardware.device": [_card(backing, "00:50:56:aa:bb:02")],
    }
    rec = vm_record("vm-4", props, Lookups())
    assert rec["nics"][0]["ip_addresses"] == ["10.0.0.5"]
    assert rec["ip_addresses"] == ["10.0.0.5", "192.0.2.7"]
    assert rec["guest_interfaces"] == [
        {"mac": "00:50:56:aa:bb:02", "network": "br0", "ip_addresses": ["192.0.2.7"]}
    ]


def test_nsx_segment_on_a_vsphere7_distributed_switch() -> None:
    lk = Lookups(names={"dvportgroup-1": "seg-app"}, kinds={"dvportgroup-1": "DistributedVirtualPortgroup"})
    config = vim.dvs.DistributedVirtualPortgroup.ConfigInfo(
        key="dvportgroup-1", logicalSwitchUuid="7e1d3c2b-0a9f-4e8d-b7c6-5a4b3c2d1e01", backingType="nsx"
    )
    rec = _dvportgroup_record("dvportgroup-1", {"config": config, "key": "dvportgroup-1"}, lk, {})
    assert (rec["kind"], rec["segment_id"], rec["segment_type"]) == (
        "distributed",
        "7e1d3c2b-0a9f-4e8d-b7c6-5a4b3c2d1e01",
        "nsx",
    )
    plain = vim.dvs.DistributedVirtualPortgroup.ConfigInfo(key="dvportgroup-2", backingType="standard")
    lk.names["dvportgroup-2"] = "pg"
    rec = _dvportgroup_record("dvportgroup-2", {"config": plain, "key": "dvportgroup-2"}, lk, {})
    assert (rec["segment_id"], rec["segment_type"]) == (None, None)


def test_devices_sorted_in_one_pass_controllers_disks_cards_and_counts() -> None:
    """Every device kind a record reads, typed as pyVmomi builds them: controllers by their most
    specific type (SAS before plain LSI Logic), a disk on its controller, NICs, passthrough
    devices, SR-IOV cards (a NIC and counted), both USB controller kinds and a vTPM."""
    d = vim.vm.device
    devices = [
        d.VirtualLsiLogicSASController(key=1000),
        d.ParaVirtualSCSIController(key=1001),
        d.VirtualIDEController(key=200),
        d.VirtualPCIController(key=100),  # a controller of no catalogued kind: "other"
        d.VirtualDisk(
            key=2000,
            controllerKey=1001,
            unitNumber=0,
            capacityInKB=1024 * 1024,
            backing=d.VirtualDisk.FlatVer2BackingInfo(fileName="[ds] a.vmdk", diskMode="persistent"),
        ),
        d.VirtualVmxnet3(key=4000, macAddress="00:50:56:AA:00:01"),
        d.VirtualSriovEthernetCard(key=4001, macAddress="00:50:56:aa:00:02"),
        d.VirtualPCIPassthrough(key=5000),
        d.VirtualPCIPassthrough(key=5001),
        d.VirtualUSBController(key=7000),
        d.VirtualUSBXHCIController(key=14000),
        d.VirtualTPM(key=11000),
        None,  # an unset entry is skipped, as any reader would
    ]
    rec = vm_record("vm-9", {"name": "devices", "config.hardware.device": devices}, _tree())
    assert [(x["key"], x["controller"], x["capacity_gb"]) for x in rec["disks"]] == [(2000, "pvscsi", 1.0)]
    assert [(n["type"], n["mac"]) for n in rec["nics"]] == [
        ("vmxnet3", "00:50:56:aa:00:01"),
        ("sriov", "00:50:56:aa:00:02"),
    ]
    assert (rec["passthrough_devices"], rec["sriov_nics"], rec["usb_controllers"], rec["vtpm"]) == (
        2,
        1,
        2,
        True,
    )
    bare = vm_record(
        "vm-10", {"name": "bare", "config.hardware.device": [d.VirtualIDEController(key=200)]}, _tree()
    )
    assert (bare["disks"], bare["nics"], bare["passthrough_devices"], bare["vtpm"]) == ([], [], 0, False)
