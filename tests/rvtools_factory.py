"""Small RVTools-format workbooks, in the three header dialects RVTools has written, plus broken ones.

`python -m tests.rvtools_factory fixtures/rvtools` regenerates the shipped fixtures;
test_rvtools.py checks the shipped copies still match this generator.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from openpyxl import Workbook

# One estate, as rows of (field -> value); the dialects only rename the headers.
VMS = [
    {
        "vm": "web-01",
        "power": "poweredOn",
        "template": False,
        "cpus": 2,
        "memory": 4096,
        "annotation": "front end",
        "app": "shop",
        "env": "prod",
        "dc": "DC1",
        "cluster": "Prod",
        "host": "esx01.corp",
        "os": "Red Hat Enterprise Linux 8 (64-bit)",
        "vmid": "vm-101",
        "uuid": "5001aaaa-0000-0000-0000-000000000101",
        "firmware": "efi",
        "hw": "vmx-19",
        "dns": "web-01.corp.example",
        "ip": "10.1.0.11",
        "folder": "/Prod/Web",
        "cbt": True,
    },
    {
        "vm": "db 01 (Ünïcode)",
        "power": "poweredOff",
        "template": False,
        "cpus": 8,
        "memory": 32768,
        "annotation": "line1\nline2 ${x}",
        "app": "shop",
        "env": "prod",
        "dc": "DC1",
        "cluster": "Prod",
        "host": "esx02.corp",
        "os": "Microsoft Windows Server 2019 (64-bit)",
        "vmid": "vm-102",
        "uuid": "5001aaaa-0000-0000-0000-000000000102",
        "firmware": "bios",
        "hw": "vmx-15",
        "dns": "",
        "ip": "",
        "folder": "/Prod/DB",
        "cbt": False,
    },
]
DISKS = [
    {
        "vm": "web-01",
        "vmid": "vm-101",
        "disk": "Hard disk 1",
        "capacity": 40960,
        "thin": True,
        "mode": "persistent",
        "sharing": "sharingNone",
        "raw": False,
        "path": "[ds-prod-01] web-01/web-01.vmdk",
    },
    {
        "vm": "db 01 (Ünïcode)",
        "vmid": "vm-102",
        "disk": "Hard disk 1",
        "capacity": 102400,
        "thin": False,
        "mode": "independent_persistent",
        "sharing": "sharingMultiWriter",
        "raw": True,
        "path": "[ds-prod-02] db01/db01.vmdk",
    },
]
NICS = [
    {
        "vm": "web-01",
        "vmid": "vm-101",
        "label": "Network adapter 1",
        "adapter": "Vmxnet3",
        "network": "web-vlan110",
        "switch": "dvSwitch-Prod",
        "connected": True,
        "mac": "00:50:56:AA:BB:01",
        "ipv4": "10.1.0.11",
        "ipv6": "fe80::1",
    },
    {
        "vm": "db 01 (Ünïcode)",
        "vmid": "vm-102",
        "label": "Network adapter 1",
        "adapter": "E1000E",
        "network": "db-vlan130",
        "switch": "vSwitch0",
        "connected": False,
        "mac": "00:50:56:AA:BB:02",
        "ipv4": "",
        "ipv6": "",
    },
]

DIALECTS: dict[str, dict[str, dict[str, str]]] = {
    "display": {
        "vInfo": {
            "vm": "VM",
            "power": "Powerstate",
            "template": "Template",
            "cpus": "CPUs",
            "memory": "Memory",
            "annotation": "Annotation",
            "dc": "Datacenter",
            "cluster": "Cluster",
            "host": "Host",
            "os": "OS according to the configuration file",
            "vmid": "VM ID",
            "uuid": "VM UUID",
            "firmware": "Firmware",
            "hw": "HW version",
            "dns": "DNS Name",
            "ip": "Primary IP Address",
            "folder": "Folder",
            "cbt": "CBT",
        },
        "vDisk": {
            "vm": "VM",
            "vmid": "VM ID",
            "disk": "Disk",
            "capacity": "Capacity MiB",
            "thin": "Thin",
            "mode": "Disk Mode",
            "sharing": "Sharing mode",
            "raw": "Raw",
            "path": "Path",
        },
        "vNetwork": {
            "vm": "VM",
            "vmid": "VM ID",
            "label": "NIC label",
            "adapter": "Adapter",
            "network": "Network",
            "switch": "Switch",
            "connected": "Connected",
            "mac": "Mac Address",
            "ipv4": "IPv4 Address",
            "ipv6": "IPv6 Address",
        },
        "vPartition": {"vm": "VM", "disk": "Disk", "capacity": "Capacity MiB", "free": "Free MiB"},
        "vMemory": {"vm": "VM", "size": "Size MiB", "hot_add": "Hot Add"},
    },
    "internal": {
        "vInfo": {
            "vm": "vInfoVMName",
            "power": "vInfoPowerstate",
            "template": "vInfoTemplate",
            "cpus": "vInfoCPUs",
            "memory": "vInfoMemory",
            "annotation": "vInfoAnnotation",
            "dc": "vInfoDataCenter",
            "cluster": "vInfoCluster",
            "host": "vInfoHost",
            "os": "vInfoOS",
            "vmid": "vInfoVMID",
            "uuid": "vInfoUUID",
            "firmware": "vInfoFirmware",
            "hw": "vInfoHWVersion",
            "dns": "vInfoGuestHostName",
            "ip": "vInfoPrimaryIPAddress",
            "folder": "vInfoFolder",
            "cbt": "vInfoCBT",
        },
        "vDisk": {
            "vm": "vDiskVMName",
            "vmid": "vDiskVMID",
            "disk": "vDiskDisk",
            "capacity": "vDiskCapacityMiB",
            "thin": "vDiskThin",
            "mode": "vDiskMode",
            "sharing": "vDiskSharingMode",
            "raw": "vDiskRaw",
            "path": "vDiskPath",
        },
        "vNetwork": {
            "vm": "vNetworkVMName",
            "vmid": "vNetworkVMID",
            "label": "vNetworkNICLabel",
            "adapter": "vNetworkAdapter",
            "network": "vNetworkNetwork",
            "switch": "vNetworkSwitch",
            "connected": "vNetworkConnected",
            "mac": "vNetworkMacAddress",
            "ipv4": "vNetworkIPv4Address",
            "ipv6": "vNetworkIPv6Address",
        },
        "vPartition": {
            "vm": "vPartitionVMName",
            "disk": "vPartitionDisk",
            "capacity": "vPartitionCapacityMiB",
            "free": "vPartitionFreeMiB",
        },
        "vMemory": {"vm": "vMemoryVMName", "size": "vMemorySizeMiB", "hot_add": "vMemoryHotAdd"},
    },
}
# RVTools before its MiB headers: "MB" units and "IP Address" on vNetwork.
DIALECTS["legacy-mb"] = {
    sheet: {
        key: header.replace(" MiB", " MB").replace("IPv4 Address", "IP Address")
        for key, header in columns.items()
    }
    for sheet, columns in DIALECTS["display"].items()
}
PARTITIONS = [{"vm": "web-01", "disk": "/", "capacity": 40000, "free": 12000}]
MEMORY = [
    {"vm": "web-01", "size": 4096, "hot_add": True},
    {"vm": "db 01 (Ünïcode)", "size": 32768, "hot_add": False},
]
CUSTOM = ("app", "env")  # custom attributes, placed between Annotation and Datacenter as RVTools does


def _sheet(
    wb: Workbook, name: str, columns: dict[str, str], rows: list[dict[str, Any]], custom: bool = False
) -> None:
    ws = wb.create_sheet(name)
    keys = list(columns)
    headers = [columns[k] for k in keys]
    if custom:
        at = keys.index("annotation") + 1
        keys[at:at] = list(CUSTOM)
        headers[at:at] = list(CUSTOM)
    ws.append(headers)
    for row in rows:
        ws.append([row.get(k) for k in keys])


def workbook(
    dialect: str,
    drop_sheet: str | None = None,
    drop_column: tuple[str, str] | None = None,
    patch: dict[str, Any] | None = None,
) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    spec = {s: dict(cols) for s, cols in DIALECTS[dialect].items()}
    if drop_column:
        del spec[drop_column[0]][drop_column[1]]
    data = {"vInfo": VMS, "vDisk": DISKS, "vNetwork": NICS, "vPartition": PARTITIONS, "vMemory": MEMORY}
    for sheet, cols in spec.items():
        if sheet == drop_sheet:
            continue
        rows = [dict(r, **(patch or {}).get(sheet, {})) if i == 0 else r for i, r in enumerate(data[sheet])]
        _sheet(wb, sheet, cols, rows, custom=sheet == "vInfo")
    return wb


def write_all(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for dialect in DIALECTS:
        out[dialect] = folder / f"rvtools-{dialect}.xlsx"
        workbook(dialect).save(out[dialect])
    broken = {
        "missing-vinfo": workbook("display", drop_sheet="vInfo"),
        "missing-column": workbook("display", drop_column=("vInfo", "cpus")),
        "bad-number": workbook("display", patch={"vInfo": {"cpus": "four"}}),
        "orphan-disk": workbook("display", patch={"vDisk": {"vm": "ghost", "vmid": "vm-999"}}),
    }
    for name, wb in broken.items():
        out[name] = folder / f"malformed-{name}.xlsx"
        wb.save(out[name])
    out["not-xlsx"] = folder / "malformed-not-xlsx.xlsx"
    out["not-xlsx"].write_text("VM,CPUs\nweb-01,2\n", encoding="utf-8")
    out["truncated"] = folder / "malformed-truncated.xlsx"
    out["truncated"].write_bytes(out["display"].read_bytes()[:700])
    return out


if __name__ == "__main__":
    for path in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "fixtures/rvtools")).values():
        print(path)
