"""Read an RVTools export into an Inventory, or fail with one line naming the problem.

The whole workbook is parsed and checked before anything is stored, so a malformed file
never leaves a partial snapshot behind.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from migrator import bounds, inventory_schema
from migrator.errors import InputFileError
from migrator.input_files import Limits, check_size
from migrator.rvtools.headers import DISPLAY, REQUIRED, custom_attribute_columns, resolve
from migrator.rvtools.xlsx import Row, SheetCells, read_cells
from migrator.store.inventory import Inventory
from migrator.text import MAX_TEXT, clean_text, cut_by_clean_text

SHEETS = ("vInfo", "vDisk", "vNetwork", "vHost", "vCluster", "vPartition", "vMemory", "vDatastore")
REQUIRED_SHEETS = ("vInfo",)
_DATASTORE_IN_PATH = re.compile(r"^\[([^\]]+)\]")
_TRUE = {"true", "yes", "1", "enabled", "on"}
_LISTED = 10  # examples named per kind of warning
SYNTHETIC_DISK_LABEL = "provisioned storage (vInfo)"


class Notes:
    """Counted warnings of one kind each, naming the first few places (row and column)."""

    def __init__(self) -> None:
        self.kinds: dict[str, list[str]] = {}
        self.counts: dict[str, int] = {}

    def add(self, kind: str, where: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        listed = self.kinds.setdefault(kind, [])
        if len(listed) < _LISTED:
            listed.append(where)

    def lines(self) -> list[str]:
        out = []
        for kind, listed in self.kinds.items():
            more = self.counts[kind] - len(listed)
            out.append(
                f"{self.counts[kind]} {kind}: {', '.join(listed)}" + (f" and {more} more" if more else "")
            )
        return out


class _Sheet:
    def __init__(self, file: Path, cells: SheetCells, notes: Notes, long_cells: bool = False) -> None:
        self.file, self.name, self.notes = file, cells.name, notes
        first = cells.rows[0][1] if cells.rows else {}
        self.headers: list[Any] = [first.get(i) for i in range(max(first, default=-1) + 1)]
        self.rows = cells.rows[1:]
        self.columns = resolve(self.headers, self.name)
        self.custom = custom_attribute_columns(self.headers) if self.name == "vInfo" else {}
        # The columns stored, checked for text clean_text cuts; only when the string limit lets
        # longer text through (raised above MAX_TEXT): otherwise no cell can be that long.
        self.kept = sorted({*self.columns.values(), *self.custom.values()}) if long_cells else []
        missing = [f for f in REQUIRED[self.name] if f not in self.columns]
        if missing:
            labels = ", ".join(DISPLAY.get(f, f) for f in missing)
            raise InputFileError(f"{file.name}: sheet {self.name} lacks column(s) {labels}")

    def records(self) -> Iterator[tuple[int, dict[str, Any], Row]]:
        for row_no, row in self.rows:
            for i in self.kept:  # text is stored at most MAX_TEXT long: a cut is a changed value
                if cut_by_clean_text(row.get(i)):
                    self.notes.add(
                        f"cell(s) of sheet {self.name} longer than {MAX_TEXT:,} characters cut there",
                        f"row {row_no} column {i + 1}",
                    )
            yield row_no, {f: row.get(i) for f, i in self.columns.items()}, row

    def named(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Rows of an object sheet (hosts, clusters, datastores); rows without a name are counted."""
        for row_no, rec, _raw in self.records():
            if _text(rec.get("name")):
                yield row_no, rec
            else:
                self.notes.add(f"row(s) of sheet {self.name} without a name skipped", f"row {row_no}")

    def number(self, row: int, field: str, value: Any) -> float | None:
        if value in (None, ""):
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            return float(str(value).replace(",", "").strip())
        except ValueError:
            raise InputFileError(
                f"{self.file.name}: sheet {self.name} row {row}, column {DISPLAY.get(field, field)}: "
                f"{str(value)[:40]!r} is not a number"
            ) from None

    def measure(
        self,
        row: int,
        field: str,
        value: Any,
        high: float,
        low: float = 0,
        required: bool = False,
        whole: bool = False,
    ) -> float | None:
        """A bounded number, or None (unknown) with a counted warning when empty or absurd (or,
        for a `whole` field such as CPUs, fractional: 2.5 CPUs is not silently made 2)."""
        number = self.number(row, field, value)
        where = f"row {row} {DISPLAY.get(field, field)}"
        if number is None:
            if required:
                self.notes.add(f"empty numeric cell(s) in sheet {self.name} stored as unknown (null)", where)
            return None
        if not bounds.within(number, low, high):
            self.notes.add(
                f"value(s) in sheet {self.name} outside {low:g}..{high:g} stored as unknown (null)",
                f"{where} = {str(value)[:20]}",
            )
            return None
        if whole and not number.is_integer():
            self.notes.add(
                f"fractional value(s) in sheet {self.name} for a whole number stored as unknown (null)",
                f"{where} = {str(value)[:20]}",
            )
            return None
        return number


def _flag(value: Any) -> bool:
    return value is True or str(value).strip().lower() in _TRUE


def _text(value: Any) -> str | None:
    text = clean_text(value)
    return text.strip() if text else None


def _int(value: float | None) -> int | None:
    return int(value) if value is not None else None


def _mb_to_gb(value: float | None) -> float | None:
    return round(value / 1024, 3) if value is not None else None


def _load(path: Path, limits: Limits) -> dict[str, SheetCells]:
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    check_size(path, limits)
    sheets = read_cells(path, SHEETS, limits)
    for sheet in REQUIRED_SHEETS:
        if sheet not in sheets:
            raise InputFileError(f"{path.name}: sheet {sheet} is missing (is this an RVTools export?)")
    return sheets


def _vm(
    info: _Sheet, row_no: int, rec: dict[str, Any], raw_row: Row, custom: dict[str, int]
) -> dict[str, Any]:
    name = _text(rec.get("vm"))
    num_cpu = info.measure(
        row_no, "num_cpu", rec.get("num_cpu"), bounds.MAX_VCPU, low=1, required=True, whole=True
    )
    memory = info.measure(
        row_no, "memory_mb", rec.get("memory_mb"), bounds.MAX_MEMORY_MB, low=1, required=True, whole=True
    )
    high = bounds.MAX_STORAGE_GB * 1024
    provisioned = info.measure(row_no, "provisioned_mb", rec.get("provisioned_mb"), high)
    in_use = info.measure(row_no, "in_use_mb", rec.get("in_use_mb"), high)
    return {
        "name": name,
        "moref": _text(rec.get("moref")) or f"rvtools-{row_no}",
        "instance_uuid": _text(rec.get("instance_uuid")),
        "bios_uuid": _text(rec.get("bios_uuid")),
        "template": _flag(rec.get("template")),
        "power_state": _text(rec.get("power_state")),
        "num_cpu": _int(num_cpu),
        "cores_per_socket": None,
        "memory_mb": _int(memory),
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
        "custom_fields": {label: text for label, i in custom.items() if (text := _text(raw_row.get(i)))},
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
        "committed_gb": _mb_to_gb(in_use),
        "passthrough_devices": 0,
        "sriov_nics": 0,
        "usb_controllers": 0,
        "vtpm": False,
        "perf": None,
        "_provisioned_gb": _mb_to_gb(provisioned),  # for the synthetic disk; removed before storing
    }


def _synthetic_disks(vms: dict[str, dict[str, Any]]) -> int:
    """Without vDisk, vInfo's provisioned storage as one disk per VM, flagged `synthetic` (split in
    62 TB pieces in the rare case it is larger than one virtual disk can be)."""
    made = 0
    for vm in vms.values():
        left = vm["_provisioned_gb"]
        if left is None:
            continue
        made += 1
        while left > 0 or not vm["disks"]:
            piece = min(left, bounds.MAX_DISK_GB)
            vm["disks"].append(
                {
                    "label": SYNTHETIC_DISK_LABEL,
                    "capacity_gb": round(piece, 3),
                    "thin": None,
                    "datastore": None,
                    "file": None,
                    "disk_mode": None,
                    "independent": False,
                    "rdm": None,
                    "sharing": "sharingNone",
                    "controller": None,
                    "unit_number": None,
                    "synthetic": True,
                }
            )
            left -= piece
    return made


def read_rvtools(path: Path, limits: Limits | None = None) -> Inventory:
    limits = limits or Limits.from_env()
    notes = Notes()
    long_cells = limits.string_chars > MAX_TEXT
    sheets = {name: _Sheet(path, cells, notes, long_cells) for name, cells in _load(path, limits).items()}
    info = sheets["vInfo"]
    custom_columns = info.custom
    inventory = Inventory()
    vms: dict[str, dict[str, Any]] = {}
    by_name: dict[str, str] = {}
    for row_no, rec, raw_row in info.records():
        if not _text(rec.get("vm")):
            notes.add(
                "row(s) of sheet vInfo without a VM name skipped (they cannot be a VM)", f"row {row_no}"
            )
            continue
        vm = _vm(info, row_no, rec, raw_row, custom_columns)
        name, key = vm["name"], vm["moref"]
        if key in vms:
            raise InputFileError(f"{path.name}: sheet vInfo row {row_no}: VM {name!r} ({key}) appears twice")
        vms[key] = vm
        by_name.setdefault(name, key)

    owners = _Owners(path, vms, by_name, notes)
    if disk_sheet := sheets.get("vDisk"):
        _disks(disk_sheet, owners)
    else:
        made = _synthetic_disks(vms)
        inventory.warnings.append(
            "sheet vDisk is absent: VMs have no disk details"
            + (f"; {made} VM(s) got one synthetic disk of vInfo's provisioned storage" if made else "")
        )
    networks = _nics(sheets["vNetwork"], owners) if "vNetwork" in sheets else {}
    if part_sheet := sheets.get("vPartition"):
        for row_no, rec, _raw in part_sheet.records():
            if owned := owners.of(part_sheet, row_no, rec):
                owned["partitions"].append(
                    {
                        "disk": _text(rec.get("disk")),
                        "capacity_mb": part_sheet.measure(
                            row_no, "capacity_mb", rec.get("capacity_mb"), bounds.MAX_DISK_MB
                        ),
                        "free_mb": part_sheet.measure(
                            row_no, "free_mb", rec.get("free_mb"), bounds.MAX_DISK_MB
                        ),
                    }
                )
    if mem_sheet := sheets.get("vMemory"):
        for row_no, rec, _raw in mem_sheet.records():
            if owned := owners.of(mem_sheet, row_no, rec):
                owned["memory_hot_add"] = _flag(rec.get("hot_add"))
    if host_sheet := sheets.get("vHost"):
        inventory.hosts = _hosts(host_sheet)
    if cluster_sheet := sheets.get("vCluster"):
        inventory.clusters = _clusters(cluster_sheet)
    if ds_sheet := sheets.get("vDatastore"):
        inventory.datastores = _datastores(ds_sheet)
    for vm in vms.values():
        del vm["_provisioned_gb"]
    inventory.vms = sorted(vms.values(), key=lambda v: (v["name"], v["moref"]))
    inventory.networks = sorted(networks.values(), key=lambda n: n["name"])
    inventory.hosts.sort(key=lambda h: h["name"] or "")
    inventory.clusters.sort(key=lambda c: c["name"] or "")
    inventory.datastores.sort(key=lambda d: d["name"] or "")
    if "vNetwork" not in sheets:
        inventory.warnings.append("sheet vNetwork is absent: VMs have no NIC details")
    inventory.warnings += notes.lines()
    inventory_schema.check(
        {key: getattr(inventory, key) for key in ("vms", "hosts", "clusters", "networks", "datastores")},
        path.name,
    )
    return inventory


class _Owners:
    """The vInfo VM a row of another sheet belongs to: by VM ID, else by name."""

    def __init__(
        self, path: Path, vms: dict[str, dict[str, Any]], by_name: dict[str, str], notes: Notes
    ) -> None:
        self.path, self.vms, self.by_name, self.notes = path, vms, by_name, notes

    def of(self, sheet: _Sheet, row_no: int, rec: dict[str, Any]) -> dict[str, Any] | None:
        key = _text(rec.get("moref"))
        if key and key in self.vms:
            return self.vms[key]
        name = _text(rec.get("vm")) or ""
        if name in self.by_name:
            return self.vms[self.by_name[name]]
        if not name and not key:
            self.notes.add(f"row(s) of sheet {sheet.name} without a VM skipped", f"row {row_no}")
            return None
        raise InputFileError(
            f"{self.path.name}: sheet {sheet.name} row {row_no} names VM {name!r}, absent from vInfo"
        )


def _disks(sheet: _Sheet, owners: _Owners) -> None:
    for row_no, rec, _raw in sheet.records():
        vm = owners.of(sheet, row_no, rec)
        if vm is None:
            continue
        disk_path = _text(rec.get("path")) or ""
        match = _DATASTORE_IN_PATH.match(disk_path)
        mode = _text(rec.get("disk_mode"))
        capacity = sheet.measure(
            row_no, "capacity_mb", rec.get("capacity_mb"), bounds.MAX_DISK_MB, required=True
        )
        vm["disks"].append(
            {
                "label": _text(rec.get("label")) or f"disk {len(vm['disks']) + 1}",
                "capacity_gb": _mb_to_gb(capacity),
                "thin": _flag(rec.get("thin")),
                "datastore": match.group(1) if match else None,
                "file": disk_path or None,
                "disk_mode": mode,
                "independent": bool(mode and mode.lower().startswith("independent")),
                "rdm": _text(rec.get("raw_mode")) if _flag(rec.get("raw")) else None,
                "sharing": _text(rec.get("sharing")) or "sharingNone",
                "controller": _text(rec.get("controller")),
                "unit_number": _int(
                    sheet.measure(row_no, "unit_number", rec.get("unit_number"), 65535, whole=True)
                ),
            }
        )


def _nics(sheet: _Sheet, owners: _Owners) -> dict[str, dict[str, Any]]:
    networks: dict[str, dict[str, Any]] = {}
    for row_no, rec, _raw in sheet.records():
        vm = owners.of(sheet, row_no, rec)
        if vm is None:
            continue
        ips = [
            ip.strip() for col in ("ipv4", "ipv6") for ip in str(rec.get(col) or "").split(",") if ip.strip()
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
    return networks


def _hosts(sheet: _Sheet) -> list[dict[str, Any]]:
    hosts = []
    for row_no, rec in sheet.named():
        memory = sheet.measure(row_no, "memory_mb", rec.get("memory_mb"), bounds.MAX_HOST_MEMORY_GB * 1024)
        sockets = sheet.measure(
            row_no, "cpu_sockets", rec.get("cpu_sockets"), bounds.MAX_HOST_CPUS, whole=True
        )
        cores = sheet.measure(row_no, "cpu_cores", rec.get("cpu_cores"), bounds.MAX_HOST_CPUS, whole=True)
        hosts.append(
            {
                "name": _text(rec.get("name")),
                "moref": _text(rec.get("moref")) or f"host:{_text(rec.get('name'))}",
                "cluster": _text(rec.get("cluster")),
                "datacenter": _text(rec.get("datacenter")),
                "cpu_model": _text(rec.get("cpu_model")),
                "cpu_sockets": _int(sockets),
                "cpu_cores": _int(cores),
                "cpu_threads": None,
                "memory_gb": _mb_to_gb(memory),
                "esxi_version": _text(rec.get("esxi_version")),
                "esxi_build": None,
                "maintenance_mode": _flag(rec.get("maintenance_mode")),
                "connection_state": None,
                "power_state": None,
            }
        )
    return hosts


def _clusters(sheet: _Sheet) -> list[dict[str, Any]]:
    return [
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
        for _row_no, rec in sheet.named()
    ]


def _datastores(sheet: _Sheet) -> list[dict[str, Any]]:
    high = bounds.MAX_STORAGE_GB * 1024
    return [
        {
            "name": _text(rec.get("name")),
            "moref": f"datastore:{_text(rec.get('name'))}",
            "type": _text(rec.get("type")),
            "capacity_gb": _mb_to_gb(sheet.measure(row_no, "capacity_mb", rec.get("capacity_mb"), high)),
            "free_gb": _mb_to_gb(sheet.measure(row_no, "free_mb", rec.get("free_mb"), high)),
            "url": _text(rec.get("url")),
            "datacenter": None,
        }
        for row_no, rec in sheet.named()
    ]
