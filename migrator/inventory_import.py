"""Reading an inventory export (docs/inventory-export.md) back in as a new snapshot.

This moves snapshots between databases and lets teams exchange inventories (and gives tests
and benchmarks whole estates without a vCenter). The file is untrusted: it is checked against
the contract's schema and every string is normalised like discovered text before storing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from migrator.errors import InputFileError
from migrator.export import SCHEMA_VERSION
from migrator.input_files import read_input
from migrator.store.snapshots import Inventory
from migrator.text import clean_text

_NAMED: dict[str, Any] = {
    "type": "object",
    "required": ["name", "moref"],
    "properties": {"name": {"type": "string", "minLength": 1}, "moref": {"type": "string"}},
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["schema_version", "vms"],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "vms": {
            "type": "array",
            "items": {
                **_NAMED,
                "properties": {
                    **_NAMED["properties"],
                    "num_cpu": {"type": ["integer", "null"], "minimum": 0},
                    "memory_mb": {"type": ["integer", "null"], "minimum": 0},
                    "disks": {"type": "array", "items": {"type": "object"}},
                    "nics": {"type": "array", "items": {"type": "object"}},
                    "ip_addresses": {"type": "array", "items": {"type": "string"}},
                    "custom_fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        **{
            kind: {"type": "array", "items": _NAMED}
            for kind in ("hosts", "clusters", "networks", "datastores")
        },
        "warnings": {"type": "array", "items": {"type": "string"}},
    },
}


def _extend_schema(schema: dict[str, Any]) -> None:
    """Network kinds, NSX segments and non-NIC guest interfaces (docs/discover.md, "Shapes real
    estates have"): optional, so exports written before them still import."""
    text_or_null = {"type": ["string", "null"]}
    kinds = {"enum": ["standard", "distributed", "opaque", None]}
    vm = schema["properties"]["vms"]["items"]["properties"]
    vm["nics"]["items"].setdefault("properties", {}).update(network_kind=kinds, segment_id=text_or_null)
    vm["guest_interfaces"] = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "mac": text_or_null,
                "network": text_or_null,
                "ip_addresses": {"type": "array", "items": {"type": "string"}},
            },
        },
    }
    networks = schema["properties"]["networks"]
    named = networks["items"]  # shared with hosts, clusters and datastores: extend a copy
    networks["items"] = {
        **named,
        "properties": {
            **named["properties"],
            "kind": {"enum": ["standard", "distributed", "opaque"]},
            "segment_id": text_or_null,
            "segment_type": text_or_null,
        },
    }


_extend_schema(SCHEMA)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {str(clean_text(k)): _clean(v) for k, v in value.items()}
    return value


def read_export(path: Path) -> Inventory:
    raw = read_input(path)
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputFileError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(SCHEMA).iter_errors(doc))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "top level"
        raise InputFileError(f"{path}: not an inventory export: at {where}: {error.message[:200]}")
    doc = _clean(doc)
    names = [vm["name"] for vm in doc["vms"]]
    if len(set(zip(names, (vm["moref"] for vm in doc["vms"]), strict=True))) != len(names):
        raise InputFileError(f"{path}: the same VM (name and moref) appears twice")
    return Inventory(
        vms=doc["vms"],
        hosts=doc.get("hosts", []),
        clusters=doc.get("clusters", []),
        networks=doc.get("networks", []),
        datastores=doc.get("datastores", []),
        warnings=doc.get("warnings", []),
    )
