"""Reading a CMDB export (CSV) by header name, bounded like every other reader (docs/drift.md).

Accepted headers follow the ServiceNow `cmdb_ci_server` / `cmdb_ci_vmware_instance` column names
where they exist, and their display labels ("Owned by", "RAM (MB)"); matching ignores case,
spaces, dashes and a parenthesised unit. Values are untrusted text: cleaned, capped and stored as
data (a cell starting with "=" is a string, never a formula).
"""

from __future__ import annotations

import csv
import hashlib
import io
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator.errors import InputFileError
from migrator.input_files import Limits, read_input
from migrator.text import clean_text

# field -> accepted headers (normalised), first one is the ServiceNow name where there is one
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name", "ci_name", "vm_name", "server_name"),
    "application": (
        "u_application",
        "application",
        "business_service",
        "u_business_service",
        "service",
        "app",
    ),
    "environment": ("environment", "u_environment", "env"),
    "owner": ("owned_by", "owner", "managed_by"),
    "support_group": ("support_group", "assignment_group"),
    "criticality": ("busines_criticality", "business_criticality", "u_criticality", "criticality"),
    "operational_status": ("operational_status", "install_status", "status"),
    "cpu": ("cpu_count", "cpus", "num_cpu", "vcpu", "vcpus"),
    "memory_mb": ("ram", "memory", "memory_mb", "ram_mb"),
    "ip_addresses": ("ip_address", "ip_addresses", "ip"),
}
TEXT_FIELDS = ("application", "environment", "owner", "support_group", "criticality", "operational_status")
_UNIT = re.compile(r"\([^)]*\)")
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)\s*(mb|gb|mib|gib)?$", re.IGNORECASE)


@dataclass
class CmdbFile:
    origin: str
    digest: str
    columns: dict[str, str]  # field -> the header it was read from
    items: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def normalise_header(header: str) -> str:
    text = _UNIT.sub("", header.strip().lstrip("\ufeff")).strip().lower()
    return re.sub(r"[\s\-./]+", "_", text).strip("_")


def read_cmdb(path: Path, limits: Limits | None = None) -> CmdbFile:
    """Every configuration item of the file, or one clear InputFileError (nothing half-read)."""
    limits = limits or Limits.from_env()
    data = read_input(path, limits=limits)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path.name}: not UTF-8 text (byte {exc.start}); export the CSV as UTF-8"
        ) from None
    if "\x00" in text:
        raise InputFileError(f"{path.name}: contains NUL bytes; not a CSV export")
    csv.field_size_limit(limits.string_chars)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise InputFileError(f"{path.name}: empty file; expected a header row with a name column")
        columns = _columns(path.name, header)
        result = CmdbFile(
            path.name, hashlib.sha256(data).hexdigest(), {f: header[i] for f, i in columns.items()}
        )
        seen: set[str] = set()
        for number, row in enumerate(reader, start=2):
            if number - 1 > limits.rows_csv:
                raise limits.exceeded(path, "rows", "rows_csv")
            item = _item(path.name, number, row, columns)
            if item is None:
                continue
            if item["name"].lower() in seen:
                result.warnings.append(f"row {number}: duplicate CI {item['name']!r} ignored (first kept)")
                continue
            seen.add(item["name"].lower())
            result.items.append(item)
    except csv.Error as exc:
        line = reader.line_num
        if "field larger" in str(exc):
            raise limits.exceeded(path, f"a field on line {line}", "string_chars") from None
        raise InputFileError(f"{path.name}: malformed CSV on line {line}: {exc}") from None
    if not result.items:
        raise InputFileError(f"{path.name}: no configuration items (every row lacks a name)")
    return result


def _columns(origin: str, header: list[str]) -> dict[str, int]:
    index = {normalise_header(h): i for i, h in reversed(list(enumerate(header)))}
    columns: dict[str, int] = {}
    for name, accepted in COLUMNS.items():
        for alias in accepted:
            if alias in index:
                columns[name] = index[alias]
                break
    if "name" not in columns:
        shown = ", ".join(repr(h[:40]) for h in header[:8])
        raise InputFileError(f"{origin}: no name column (accepted: name, ci_name, vm_name); headers: {shown}")
    return columns


def _item(origin: str, number: int, row: list[str], columns: dict[str, int]) -> dict[str, Any] | None:
    def cell(name: str) -> str:
        i = columns.get(name)
        return (clean_text(row[i]) or "").strip() if i is not None and i < len(row) else ""

    name = cell("name")
    if not name:
        return None
    item: dict[str, Any] = {"name": name, "row": number}
    for key in TEXT_FIELDS:
        item[key] = cell(key) or None
    item["cpu"] = _whole(origin, number, "cpu", cell("cpu"))
    item["memory_mb"] = _memory(origin, number, cell("memory_mb"))
    item["ip_addresses"] = _ips(origin, number, cell("ip_addresses"))
    return item


def _whole(origin: str, number: int, key: str, text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or len(text) > 6:
        raise InputFileError(f"{origin} row {number}: {key} {text[:20]!r} is not a whole number")
    return int(text)


def _memory(origin: str, number: int, text: str) -> int | None:
    """Memory in MiB; ServiceNow's `ram` is in MB, a "GB" suffix is accepted."""
    if not text:
        return None
    match = _MEMORY.match(text.replace(",", ""))
    if match is None or len(text) > 20:
        raise InputFileError(f"{origin} row {number}: memory {text[:20]!r} is not a size in MB or GB")
    value = float(match.group(1))
    unit = (match.group(2) or "mb").lower()
    return round(value * 1024) if unit in ("gb", "gib") else round(value)


def _ips(origin: str, number: int, text: str) -> list[str]:
    found: list[str] = []
    for part in re.split(r"[\s,;]+", text):
        if not part:
            continue
        try:
            found.append(str(ipaddress.ip_address(part)))
        except ValueError:
            raise InputFileError(
                f"{origin} row {number}: ip_address {part[:40]!r} is not an IP address"
            ) from None
    return found
