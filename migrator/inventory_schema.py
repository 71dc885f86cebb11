"""The inventory export contract (docs/inventory-export.md) as a JSON Schema, with bounds.

Both `import inventory` (an untrusted file) and the RVTools reader (its own output) are
checked against it before a snapshot is begun, so a wrong type or an absurd number deep inside
(a disk capacity "huge", memory_mb of 10^30) is one bad-input error and nothing is stored.
Unknown extra fields are allowed (a newer minor writer may add some); known ones are typed.
Bounds: migrator.bounds (vSphere 8.0 configuration maximums).
"""

from __future__ import annotations

from typing import Any

import jsonschema

from migrator import bounds
from migrator.errors import InputFileError

TEXT_CHARS = 65_536  # what migrator.text.clean_text keeps of any inventory text
_INT32 = 2**31


def _text(nullable: bool = True) -> dict[str, Any]:
    return {"type": ["string", "null"] if nullable else "string", "maxLength": TEXT_CHARS}


def _number(low: float, high: float, kind: str = "number") -> dict[str, Any]:
    return {"type": [kind, "null"], "minimum": low, "maximum": high}


_BOOL = {"type": ["boolean", "null"]}
_TEXTS = {"type": "array", "items": _text(nullable=False)}
_COUNT = _number(0, 1_000_000, "integer")
_PCT = _number(0, 100_000)  # percent of configured: busy guests exceed 100

DISK = {
    "type": "object",
    "properties": {
        "label": _text(),
        "key": _number(-_INT32, _INT32, "integer"),
        "capacity_gb": _number(0, bounds.MAX_DISK_GB),
        "thin": _BOOL,
        "datastore": _text(),
        "file": _text(),
        "disk_mode": _text(),
        "independent": _BOOL,
        "rdm": _text(),
        "sharing": _text(),
        "controller": _text(),
        "unit_number": _number(0, 65_535, "integer"),
        "synthetic": _BOOL,
    },
}
NIC = {
    "type": "object",
    "properties": {
        "label": _text(),
        "type": _text(),
        "mac": _text(),
        "network": _text(),
        "vlan": _number(0, 4095, "integer"),
        "connected": _BOOL,
        "start_connected": _BOOL,
        "ip_addresses": _TEXTS,
    },
}
PERF = {
    "type": ["object", "null"],
    "properties": {
        **{f"{m}_{p}_pct": _PCT for m in ("cpu", "mem") for p in ("p50", "p95", "max")},
        "samples": _COUNT,
        "expected_samples": _COUNT,
        "coverage": _number(0, 1),
        "interval_s": _number(0, 86_400 * 366),
        "window_days": _number(0, 3_660),
        "window_start": _text(),
        "window_end": _text(),
    },
}
PARTITION = {
    "type": "object",
    "properties": {
        "disk": _text(),
        "capacity_mb": _number(0, bounds.MAX_DISK_MB),
        "free_mb": _number(0, bounds.MAX_DISK_MB),
    },
}
_NAMED = {"name": _text(nullable=False) | {"minLength": 1}, "moref": _text(nullable=False)}
VM = {
    "type": "object",
    "required": ["name", "moref"],
    "properties": {
        **_NAMED,
        **{f: _text() for f in ("instance_uuid", "bios_uuid", "power_state", "guest_id", "guest_os")},
        **{f: _text() for f in ("tools_guest_os", "firmware", "hw_version", "annotation", "datacenter")},
        **{f: _text() for f in ("cluster", "host", "folder", "resource_pool", "vapp", "hostname")},
        **{f: _text() for f in ("tools_status", "tools_version_status", "numa_affinity", "fault_tolerance")},
        **{f: _BOOL for f in ("template", "secure_boot", "cbt_enabled", "consolidation_needed", "vtpm")},
        **{f: _BOOL for f in ("cpu_hot_add", "memory_hot_add")},
        "num_cpu": _number(1, bounds.MAX_VCPU, "integer"),
        "cores_per_socket": _number(1, bounds.MAX_VCPU, "integer"),
        "memory_mb": _number(1, bounds.MAX_MEMORY_MB, "integer"),
        "committed_gb": _number(0, bounds.MAX_STORAGE_GB),
        **{f: _COUNT for f in ("snapshot_count", "passthrough_devices", "sriov_nics", "usb_controllers")},
        "custom_fields": {"type": "object", "additionalProperties": _text(nullable=False)},
        "tags": _TEXTS,
        "ip_addresses": _TEXTS,
        "cpu_affinity": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 65_535}},
        "disks": {"type": "array", "items": DISK},
        "nics": {"type": "array", "items": NIC},
        "partitions": {"type": "array", "items": PARTITION},
        "perf": PERF,
    },
}
HOST = {
    "type": "object",
    "required": ["name", "moref"],
    "properties": {
        **_NAMED,
        **{
            f: _number(0, bounds.MAX_HOST_CPUS, "integer")
            for f in ("cpu_sockets", "cpu_cores", "cpu_threads")
        },
        "memory_gb": _number(0, bounds.MAX_HOST_MEMORY_GB),
        "maintenance_mode": _BOOL,
    },
}
RULE = {
    "type": "object",
    "properties": {
        "name": _text(),
        "kind": _text(),
        "enabled": _BOOL,
        "mandatory": _BOOL,
        "vms": _TEXTS,
        "hosts": _TEXTS,
    },
}
CLUSTER = {
    "type": "object",
    "required": ["name", "moref"],
    "properties": {**_NAMED, "drs_rules": {"type": "array", "items": RULE}},
}
NETWORK = {
    "type": "object",
    "required": ["name", "moref"],
    "properties": {
        **_NAMED,
        "vlan": _number(0, 4095, "integer"),
        "pvlan": _number(0, 4095, "integer"),
        "vlan_trunk": {
            "type": "array",
            "items": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 4095}},
        },
    },
}
DATASTORE = {
    "type": "object",
    "required": ["name", "moref"],
    "properties": {
        **_NAMED,
        # free space can be negative when thin disks overcommit (vcsim reports it so)
        "capacity_gb": _number(0, bounds.MAX_STORAGE_GB),
        "free_gb": _number(-bounds.MAX_STORAGE_GB, bounds.MAX_STORAGE_GB),
    },
}
INVENTORY = {
    "type": "object",
    "required": ["vms"],
    "properties": {
        "vms": {"type": "array", "items": VM},
        "hosts": {"type": "array", "items": HOST},
        "clusters": {"type": "array", "items": CLUSTER},
        "networks": {"type": "array", "items": NETWORK},
        "datastores": {"type": "array", "items": DATASTORE},
        "warnings": _TEXTS,
    },
}
_VALIDATOR = jsonschema.Draft202012Validator(INVENTORY)


def check(doc: Any, origin: str) -> None:
    """Raise one InputFileError naming the first place where doc breaks the contract."""
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(doc))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "top level"
        raise InputFileError(f"{origin}: not an inventory export: at {where}: {error.message[:200]}")
