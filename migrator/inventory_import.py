"""Reading an inventory export (docs/inventory-export.md) back in as a new snapshot.

This moves snapshots between databases and lets teams exchange inventories (and gives tests
and benchmarks whole estates without a vCenter). The file is untrusted: it is checked against
the contract's schema and every string is normalised like discovered text before storing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from migrator import inventory_schema
from migrator.errors import InputFileError
from migrator.export import SCHEMA_VERSION
from migrator.input_files import Limits, read_input
from migrator.store.inventory import Inventory
from migrator.text import clean_text


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {str(clean_text(k)): _clean(v) for k, v in value.items()}
    return value


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _depth(doc: Any) -> int:
    """Nesting depth, without recursion (the document is untrusted)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(value, dict):
            stack += [(v, depth + 1) for v in value.values()]
        elif isinstance(value, list):
            stack += [(v, depth + 1) for v in value]
    return deepest


def _parse(path: Path, raw: bytes, limits: Limits) -> Any:
    try:
        doc = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise InputFileError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except ValueError as exc:  # NaN/Infinity, or an integer too long to convert
        raise InputFileError(f"{path}: not JSON the contract allows ({str(exc)[:80]})") from None
    except RecursionError:
        raise limits.exceeded(path, "JSON nesting", "depth", "deeper than the parser can go") from None
    if _depth(doc) > limits.depth:
        raise limits.exceeded(path, "JSON nesting", "depth")
    return doc


def read_export(path: Path, limits: Limits | None = None) -> Inventory:
    limits = limits or Limits.from_env()
    doc = _parse(path, read_input(path, limits=limits), limits)
    if not isinstance(doc, dict) or doc.get("schema_version") != SCHEMA_VERSION:
        found = doc.get("schema_version") if isinstance(doc, dict) else type(doc).__name__
        raise InputFileError(
            f"{path}: not an inventory export: at schema_version: "
            f"expected {SCHEMA_VERSION}, found {str(found)[:40]}"
        )
    inventory_schema.check(doc, str(path))
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
