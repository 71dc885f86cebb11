"""Flow files: the documented generic CSV and Azure Migrate's dependency export.

Both are read completely; a row that cannot be used is counted and reported with its line
number, and never stops the rest (docs/flows.md). A file that is not CSV at all, or lacks a
required column, is an error before anything is stored.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from migrator.errors import InputFileError
from migrator.flows.records import (
    Flow,
    FlowValueError,
    ReadResult,
    aggregate,
    normalise_ip,
    normalise_port,
    normalise_protocol,
)
from migrator.input_files import read_input
from migrator.text import clean_text

GENERIC_REQUIRED = ("src_ip", "dst_ip", "dst_port", "protocol")
GENERIC_OPTIONAL = ("bytes", "packets", "connections", "first_seen", "last_seen")
GENERIC_COLUMNS = GENERIC_REQUIRED + GENERIC_OPTIONAL

# Azure Migrate (agentless dependency analysis) export columns, matched case-insensitively.
AZURE_COLUMNS = {
    "src_name": ("source server name", "source server"),
    "src_ip": ("source ip", "source ip address"),
    "src_process": ("source process", "source process name"),
    "dst_name": ("destination server name", "destination server"),
    "dst_ip": ("destination ip", "destination ip address"),
    "dst_process": ("destination process", "destination process name"),
    "dst_port": ("destination port",),
    "time_slot": ("time slot",),
}


def read_flow_file(path: Path, fmt: str) -> ReadResult:
    if fmt not in ("generic", "azure-migrate"):
        raise InputFileError(f"unknown flow format {fmt!r}: use generic or azure-migrate")
    raw = read_input(path, "; split it and import the parts")
    fieldnames, rows = _rows(path, raw)
    if fmt == "generic":
        _need(path, fieldnames, GENERIC_REQUIRED)
        result = _collect(path, rows, _generic_row, "flow")
    else:
        result = _collect(path, rows, _azure_row(_azure_columns(path, fieldnames)), "dependency")
    result.digest = hashlib.sha256(raw).hexdigest()
    return result


Rows = Iterator[tuple[int, dict[str, str]]]


def _rows(path: Path, raw: bytes) -> tuple[set[str], Rows]:
    if b"\x00" in raw[:4096]:
        raise InputFileError(f"{path}: not a CSV file (binary content)")
    text = raw.decode("utf-8-sig", errors="replace")
    dialect: type[csv.Dialect]
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if not reader.fieldnames:
        raise InputFileError(f"{path}: empty file, no header row")
    reader.fieldnames = [(name or "").strip().lower() for name in reader.fieldnames]

    def numbered() -> Rows:
        try:
            for row in reader:
                yield reader.line_num, {k: (v or "") for k, v in row.items() if k is not None}
        except csv.Error as exc:
            raise InputFileError(f"{path}: line {reader.line_num}: {exc}") from None

    return set(reader.fieldnames), numbered()


def _need(path: Path, fieldnames: set[str], required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in fieldnames]
    if missing:
        raise InputFileError(f"{path}: missing column(s) {', '.join(missing)} (docs/flows.md)")


def _collect(path: Path, rows: Rows, parse: Callable[[dict[str, str]], Flow], what: str) -> ReadResult:
    """Parse every row; a row that fails is counted with its line number, the rest are kept."""
    result = ReadResult(flows=[])
    seen = False
    for line, row in rows:
        seen = True
        try:
            result.flows.append(parse(row))
        except FlowValueError as exc:
            result.warn(f"line {line}: {exc}")
    if not seen:
        raise InputFileError(f"{path}: no {what} rows")
    result.flows = aggregate(result.flows)
    return result


def _generic_row(row: dict[str, str]) -> Flow:
    return Flow(
        src_ip=normalise_ip(row["src_ip"]),
        dst_ip=normalise_ip(row["dst_ip"]),
        dst_port=normalise_port(row["dst_port"]),
        protocol=normalise_protocol(row["protocol"]),
        bytes=_count(row.get("bytes"), 0),
        packets=_count(row.get("packets"), 0),
        connections=_count(row.get("connections"), 1),
        first_seen=_time(row.get("first_seen")),
        last_seen=_time(row.get("last_seen")),
    )


def _azure_row(columns: dict[str, str]) -> Callable[[dict[str, str]], Flow]:
    def parse(row: dict[str, str]) -> Flow:
        def get(key: str) -> str:
            return row.get(columns.get(key, ""), "").strip()

        src_ip, dst_ip = _optional_ip(get("src_ip")), _optional_ip(get("dst_ip"))
        src_name, dst_name = _name(get("src_name")), _name(get("dst_name"))
        if not (src_ip or src_name) or not (dst_ip or dst_name):
            raise FlowValueError("needs a source and a destination (server name or IP)")
        return Flow(
            src_ip=src_ip,
            dst_ip=dst_ip,
            dst_port=normalise_port(get("dst_port")),
            protocol="tcp",  # the export lists TCP connections only
            connections=1,  # one row: the connection was seen in one time slot
            src_name=src_name,
            dst_name=dst_name,
            process=_name(get("dst_process")),
        )

    return parse


def _azure_columns(path: Path, fieldnames: set[str]) -> dict[str, str]:
    found = {
        key: next((alias for alias in aliases if alias in fieldnames), "")
        for key, aliases in AZURE_COLUMNS.items()
    }
    if not found["dst_port"] or not (found["src_name"] or found["src_ip"]):
        raise InputFileError(
            f"{path}: not an Azure Migrate dependency export (needs 'Source server name' or "
            "'Source IP', and 'Destination port')"
        )
    if not (found["dst_name"] or found["dst_ip"]):
        raise InputFileError(f"{path}: missing 'Destination server name' or 'Destination IP'")
    return {key: col for key, col in found.items() if col}


def _optional_ip(text: str) -> str | None:
    return normalise_ip(text) if text else None


def _name(text: str) -> str | None:
    cleaned = (clean_text(text) or "").strip()[:255]
    return cleaned or None


def _count(text: str | None, default: int) -> int:
    if text is None or text.strip() == "":
        return default
    try:
        value = int(float(text.strip()))
    except ValueError:
        raise FlowValueError(f"not a number: {text.strip()[:20]!r}") from None
    if value < 0:
        raise FlowValueError(f"negative counter: {value}")
    return value


def _time(text: str | None) -> datetime | None:
    if text is None or text.strip() == "":
        return None
    value = text.strip()
    try:
        if value.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(value), UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise FlowValueError(f"not a time (ISO 8601 or epoch seconds): {value[:40]!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
