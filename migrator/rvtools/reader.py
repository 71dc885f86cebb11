"""Read an RVTools export into an Inventory, or fail with one line naming the problem.

The whole workbook is parsed and checked before anything is stored, so a malformed file
never leaves a partial snapshot behind.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from migrator.errors import InputFileError
from migrator.rvtools.headers import DISPLAY, REQUIRED, custom_attribute_columns, resolve
from migrator.store.snapshots import Inventory
from migrator.text import clean_text

SHEETS = ("vInfo", "vDisk", "vNetwork", "vHost", "vCluster", "vPartition", "vMemory", "vDatastore")
REQUIRED_SHEETS = ("vInfo",)
_DATASTORE_IN_PATH = re.compile(r"^\[([^\]]+)\]")
_TRUE = {"true", "yes", "1", "enabled", "on"}


class _Sheet:
    def __init__(self, file: Path, name: str, rows: list[tuple[Any, ...]]) -> None:
        self.file, self.name = file, name
        self.headers = list(rows[0]) if rows else []
        self.rows = rows[1:]
        self.columns = resolve(self.headers, name)
        missing = [f for f in REQUIRED[name] if f not in self.columns]
        if missing:
            labels = ", ".join(DISPLAY.get(f, f) for f in missing)
            raise InputFileError(f"{file.name}: sheet {name} lacks column(s) {labels}")

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for offset, row in enumerate(self.rows, start=2):
            if not any(cell not in (None, "") for cell in row):
                continue
            yield offset, {f: row[i] if i < len(row) else None for f, i in self.columns.items()}

    def number(self, row: int, field: str, value: Any) -> float | None:
        if value in (None, ""):
            return None
        if isinstance(value, int | float):
            return float(value)
        try:
            return float(str(value).replace(",", "").strip())
        except ValueError:
            raise InputFileError(
                f"{self.file.name}: sheet {self.name} row {row}, column {DISPLAY.get(field, field)}: "
                f"{str(value)[:40]!r} is not a number"
            ) from None


def _flag(value: Any) -> bool:
    return value is True or str(value).strip().lower() in _TRUE


def _text(value: Any) -> str | None:
    text = clean_text(value)
    return text.strip() if text else None


def _load(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise InputFileError(
            f"{path.name}: not a readable xlsx workbook (is it an RVTools export?)"
        ) from None
    try:
        present = {name.lower(): name for name in workbook.sheetnames}
        sheets: dict[str, list[tuple[Any, ...]]] = {}
        for sheet in SHEETS:
            actual = present.get(sheet.lower())
            if actual is not None:
                sheets[sheet] = [tuple(r) for r in workbook[actual].iter_rows(values_only=True)]
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise InputFileError(f"{path.name}: the workbook is corrupt") from None
    finally:
        workbook.close()
    for sheet in REQUIRED_SHEETS:
        if sheet not in sheets:
            raise InputFileError(f"{path.name}: sheet {sheet} is missing (is this an RVTools export?)")
    return sheets


def read_rvtools(path: Path) -> Inventory:
    raw = _load(path)
    sheets = {name: _Sheet(path, name, rows) for name, rows in raw.items()}
    info = sheets["vInfo"]
    custom_columns = custom_attribute_columns(info.headers)
    inventory = Inventory()
    vms: dict[str, dict[str, Any]] = {}
    by_name: dict[str, str] = {}
    for row_no, rec in info.records():
        name = _text(rec.get("vm"))
        if not name:
            raise InputFileError(f"{path.name}: sheet vInfo row {row_no} has no VM name")
        key = _text(rec.get("moref")) or f"rvtools-{row_no}"
        raw_row = info.rows[row_no - 2]
        vm: dict[str, Any] = {
            "name": name,
            "moref": key,
            "instance_uuid": _text(rec.get("instance_uuid")),
            "bios_uuid": _text(rec.get("bios_uuid")),
            "template": _flag(rec.get("template")),
            "power_state": _text(rec.get("power_state")),
            "num_cpu": int(info.number(row_no, "num_cpu", rec.get("num_cpu")) or 0),
            "cores_per_socket": None,
            "memory_mb": int(info.number(row_no, "memory_mb", rec.get("memory_mb")) or 0),
            "guest_id": None,
            "guest_os": _text(rec.get("guest_os")) or _text(rec.get("tools_guest_os")),
            "tools_guest_os": _text(rec.get("tools_guest_os")),
            "firmware": (_text(rec.get("firmware")) or "bios").lower(),
            "secure_boot": _flag(rec.get("secure_boot")),
            "hw_version": _text(rec.get("hw_version")),
            "annotation": _text(rec.get("annotation")) or "",
            "datacenter": _text(rec.get("datacenter")),
            "cluster": _text(rec.get("cluster")),
            "host": _text(rec.get("host")),
            "folder": _text(rec.get("folder")),
            "resource_pool": _text(rec.get("resource_pool")),
            "vapp": _text(rec.get("vapp")),
            "custom_fields": {
                label: text
                for label, i in custom_columns.items()
                if (text := _text(raw_row[i] if i < len(raw_row) else None))
            },
            "tags": [],
            "disks": [],
            "nics": [],
            "partitions": [],
            "ip_addresses": [ip] if (ip := _text(rec.get("primary_ip"))) else [],
            "hostname": _text(rec.get("hostname")),
            "tools_status": None,
            "tools_version_status": None,
            "snapshot_count": 0,
            "cbt_enabled": _flag(rec.get("cbt_enabled")),
            "consolidation_needed": _flag(rec.get("consolidation_needed")),
            "cpu_hot_add": False,
            "memory_hot_add": False,
            "cpu_affinity": [],
            "numa_affinity": None,
            "fault_tolerance": _text(rec.get("fault_tolerance")) or "notConfigured",
            "committed_gb": None,
            "passthrough_devices": 0,
            "sriov_nics": 0,
            "usb_controllers": 0,
            "vtpm": False,
            "perf": None,
        }
        if key in vms:
            raise InputFileError(f"{path.name}: sheet vInfo row {row_no}: VM {name!r} ({key}) appears twice")
        vms[key] = vm
        by_name.setdefault(name, key)

    def owner(sheet: _Sheet, row_no: int, rec: dict[str, Any]) -> dict[str, Any]:
        key = _text(rec.get("moref"))
        if key and key in vms:
            return vms[key]
        name = _text(rec.get("vm")) or ""
        if name in by_name:
            return vms[by_name[name]]
        raise InputFileError(
            f"{path.name}: sheet {sheet.name} row {row_no} names VM {name!r}, absent from vInfo"
        )

    if disk_sheet := sheets.get("vDisk"):
        for row_no, rec in disk_sheet.records():
            vm = owner(disk_sheet, row_no, rec)
            disk_path = _text(rec.get("path")) or ""
            match = _DATASTORE_IN_PATH.match(disk_path)
            mode = _text(rec.get("disk_mode"))
            vm["disks"].append(
                {
                    "label": _text(rec.get("label")) or f"disk {len(vm['disks']) + 1}",
                    "capacity_gb": round(
                        (disk_sheet.number(row_no, "capacity_mb", rec.get("capacity_mb")) or 0) / 1024, 3
                    ),
                    "thin": _flag(rec.get("thin")),
                    "datastore": match.group(1) if match else None,
                    "file": disk_path or None,
                    "disk_mode": mode,
                    "independent": bool(mode and mode.lower().startswith("independent")),
                    "rdm": _text(rec.get("raw_mode")) if _flag(rec.get("raw")) else None,
                    "sharing": _text(rec.get("sharing")) or "sharingNone",
                    "controller": _text(rec.get("controller")),
                    "unit_number": int(n)
                    if (n := disk_sheet.number(row_no, "unit_number", rec.get("unit_number"))) is not None
                    else None,
                }
            )
    networks: dict[str, dict[str, Any]] = {}
    if net_sheet := sheets.get("vNetwork"):
        for row_no, rec in net_sheet.records():
            vm = owner(net_sheet, row_no, rec)
            ips = [
                ip.strip()
                for col in ("ipv4", "ipv6")
                for ip in str(rec.get(col) or "").split(",")
                if ip.strip()
            ]
            network = _text(rec.get("network"))
            vm["nics"].append(
                {
                    "label": _text(rec.get("label")) or f"nic {len(vm['nics']) + 1}",
                    "type": (_text(rec.get("type")) or "").lower() or None,
                    "mac": (_text(rec.get("mac")) or "").lower() or None,
                    "network": network,
                    "vlan": None,
                    "connected": _flag(rec.get("connected")),
                    "start_connected": _flag(rec.get("start_connected")),
                    "ip_addresses": ips,
                }
            )
            for ip in ips:
                if ip not in vm["ip_addresses"] and not ip.lower().startswith("fe80:"):
                    vm["ip_addresses"].append(ip)
            if network and network not in networks:
                switch = _text(rec.get("switch"))
                networks[network] = {
                    "name": network,
                    "moref": f"network:{network}",
                    "kind": "distributed" if switch and "dv" in switch.lower() else "standard",
                    "vlan": None,
                    "vlan_trunk": [],
                    "pvlan": None,
                    "switch": switch,
                    "uplink": False,
                    "datacenter": vm["datacenter"],
                }
    if part_sheet := sheets.get("vPartition"):
        for row_no, rec in part_sheet.records():
            owner(part_sheet, row_no, rec)["partitions"].append(
                {
                    "disk": _text(rec.get("disk")),
                    "capacity_mb": part_sheet.number(row_no, "capacity_mb", rec.get("capacity_mb")),
                    "free_mb": part_sheet.number(row_no, "free_mb", rec.get("free_mb")),
                }
            )
    if mem_sheet := sheets.get("vMemory"):
        for row_no, rec in mem_sheet.records():
            owner(mem_sheet, row_no, rec)["memory_hot_add"] = _flag(rec.get("hot_add"))
    if host_sheet := sheets.get("vHost"):
        for row_no, rec in host_sheet.records():
            memory = host_sheet.number(row_no, "memory_mb", rec.get("memory_mb"))
            sockets = host_sheet.number(row_no, "cpu_sockets", rec.get("cpu_sockets"))
            cores = host_sheet.number(row_no, "cpu_cores", rec.get("cpu_cores"))
            inventory.hosts.append(
                {
                    "name": _text(rec.get("name")),
                    "moref": _text(rec.get("moref")) or f"host:{_text(rec.get('name'))}",
                    "cluster": _text(rec.get("cluster")),
                    "datacenter": _text(rec.get("datacenter")),
                    "cpu_model": _text(rec.get("cpu_model")),
                    "cpu_sockets": int(sockets) if sockets is not None else None,
                    "cpu_cores": int(cores) if cores is not None else None,
                    "cpu_threads": None,
                    "memory_gb": round(memory / 1024, 3) if memory is not None else None,
                    "esxi_version": _text(rec.get("esxi_version")),
                    "esxi_build": None,
                    "maintenance_mode": _flag(rec.get("maintenance_mode")),
                    "connection_state": None,
                    "power_state": None,
                }
            )
    if cluster_sheet := sheets.get("vCluster"):
        for _row_no, rec in cluster_sheet.records():
            inventory.clusters.append(
                {
                    "name": _text(rec.get("name")),
                    "moref": _text(rec.get("moref")) or f"cluster:{_text(rec.get('name'))}",
                    "datacenter": None,
                    "ha_enabled": _flag(rec.get("ha_enabled")),
                    "drs_enabled": _flag(rec.get("drs_enabled")),
                    "drs_behavior": _text(rec.get("drs_behavior")),
                    "dpm_enabled": _flag(rec.get("dpm_enabled")),
                    "drs_rules": [],  # RVTools exports rule names per VM, not the rules themselves
                }
            )
    if ds_sheet := sheets.get("vDatastore"):
        for row_no, rec in ds_sheet.records():
            capacity = ds_sheet.number(row_no, "capacity_mb", rec.get("capacity_mb"))
            free = ds_sheet.number(row_no, "free_mb", rec.get("free_mb"))
            inventory.datastores.append(
                {
                    "name": _text(rec.get("name")),
                    "moref": f"datastore:{_text(rec.get('name'))}",
                    "type": _text(rec.get("type")),
                    "capacity_gb": round(capacity / 1024, 3) if capacity is not None else None,
                    "free_gb": round(free / 1024, 3) if free is not None else None,
                    "url": _text(rec.get("url")),
                    "datacenter": None,
                }
            )
    for vm in vms.values():
        vm_networks = {n["network"]: n for n in vm["nics"]}
        for nic in vm_networks.values():
            nic["vlan"] = networks.get(nic["network"] or "", {}).get("vlan")
    inventory.vms = sorted(vms.values(), key=lambda v: (v["name"], v["moref"]))
    inventory.networks = sorted(networks.values(), key=lambda n: n["name"])
    inventory.hosts.sort(key=lambda h: h["name"] or "")
    inventory.clusters.sort(key=lambda c: c["name"] or "")
    inventory.datastores.sort(key=lambda d: d["name"] or "")
    if not sheets.get("vDisk"):
        inventory.warnings.append("sheet vDisk is absent: VMs have no disk details")
    if not sheets.get("vNetwork"):
        inventory.warnings.append("sheet vNetwork is absent: VMs have no NIC details")
    return inventory
