"""Flow files: the documented generic CSV and Azure Migrate's dependency export.

Both are read completely, streamed (memory follows distinct flows, not rows); a row that cannot
be used is counted and reported with its line number, and never stops the rest (docs/flows.md).
A file that is not CSV at all, lacks a required column or exceeds a limit (docs/limits.md) is
an error before anything is stored. Generic rows that are the reply of another row (a -> b:p
and b -> a:q with q ephemeral-looking) are folded into it (migrator.flows.direction).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from migrator.bounds import MAX_COUNTER
from migrator.errors import InputFileError
from migrator.flows.direction import merge_replies
from migrator.flows.records import (
    Aggregator,
    Flow,
    FlowValueError,
    ReadResult,
    check_counters,
    normalise_ip,
    normalise_port,
    normalise_protocol,
)
from migrator.input_files import Limits, check_size
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


def read_flow_file(path: Path, fmt: str, limits: Limits | None = None) -> ReadResult:
    if fmt not in ("generic", "azure-migrate"):
        raise InputFileError(f"unknown flow format {fmt!r}: use generic or azure-migrate")
    limits = limits or Limits.from_env()
    check_size(path, limits)
    try:
        with path.open("rb") as raw:
            digest = hashlib.sha256()
            stream = _Hashing(raw, digest)
            fieldnames, rows = _rows(path, stream, limits)
            if fmt == "generic":
                _need(path, fieldnames, GENERIC_REQUIRED)
                result = _collect(path, rows, _generic_row, "flow")
                result.flows, folded = merge_replies(result.flows)
                if folded:
                    result.warnings.append(
                        f"{folded} row(s) were replies of another row (a -> b and b -> a, one port "
                        "ephemeral-looking) and were folded into it"
                    )
            else:
                result = _collect(path, rows, _azure_row(_azure_columns(path, fieldnames)), "dependency")
            result.count_clamped()
            while stream.read(_CHUNK):
                pass  # the digest covers the whole file
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    result.digest = digest.hexdigest()
    return result


Rows = Iterator[tuple[int, dict[str, str]]]
_CHUNK = 1 << 20


class _Hashing(io.RawIOBase):
    """A binary file that hashes what is read from it (the digest detects a second import)."""

    def __init__(self, raw: io.BufferedReader, digest: hashlib._Hash) -> None:
        self.raw, self.digest = raw, digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        self.digest.update(data)
        buffer[: len(data)] = data
        return len(data)


def _rows(path: Path, stream: _Hashing, limits: Limits) -> tuple[set[str], Rows]:
    head = stream.raw.peek(8192)[:8192]
    if b"\x00" in head[:4096]:
        raise InputFileError(f"{path}: not a CSV file (binary content)")
    sample = head.decode("utf-8-sig", errors="replace")
    dialect: type[csv.Dialect]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    text = io.TextIOWrapper(
        io.BufferedReader(stream, _CHUNK), encoding="utf-8-sig", errors="replace", newline=""
    )
    csv.field_size_limit(limits.string_chars)
    reader = csv.DictReader(text, dialect=dialect)
    try:
        names = reader.fieldnames
    except csv.Error as exc:
        raise _csv_error(path, 1, exc, limits) from None
    if not names:
        raise InputFileError(f"{path}: empty file, no header row")
    reader.fieldnames = [(name or "").strip().lower() for name in names]

    def numbered() -> Rows:
        count = 0
        try:
            for row in reader:
                count += 1
                if count > limits.rows_csv:
                    raise limits.exceeded(path, "the file", "rows_csv")
                yield reader.line_num, {k: (v or "") for k, v in row.items() if k is not None}
        except csv.Error as exc:
            # the reader fails while reading a line it has not counted yet: that line is the next one
            raise _csv_error(path, reader.line_num + 1, exc, limits) from None

    return set(reader.fieldnames), numbered()


def _csv_error(path: Path, line: int, exc: csv.Error, limits: Limits) -> InputFileError:
    if "field larger than field limit" in str(exc):
        return limits.exceeded(path, f"line {line}: a field", "string_chars")
    return InputFileError(f"{path}: line {line}: {exc}")


def _need(path: Path, fieldnames: set[str], required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in fieldnames]
    if missing:
        raise InputFileError(f"{path}: missing column(s) {', '.join(missing)} (docs/flows.md)")


def _collect(path: Path, rows: Rows, parse: Callable[[dict[str, str]], Flow], what: str) -> ReadResult:
    """Parse every row; a row that fails is counted with its line number, the rest are kept."""
    result = ReadResult(flows=[])
    merged = Aggregator()
    seen = False
    for line, row in rows:
        seen = True
        try:
            flow = parse(row)
            check_counters(flow)
        except FlowValueError as exc:
            result.warn(f"line {line}: {exc}")
            continue
        merged.add(flow)
    if not seen:
        raise InputFileError(f"{path}: no {what} rows")
    result.flows = merged.flows()
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


MAX_NAME = 255  # a DNS name has at most 253 characters, a vSphere VM name 80


def _name(text: str) -> str | None:
    """A server or process name as stored; a longer one is refused (the row is counted as
    malformed) rather than cut, since a cut name would silently match nothing or the wrong VM."""
    cleaned = (clean_text(text) or "").strip()
    if len(cleaned) > MAX_NAME:
        raise FlowValueError(f"name longer than {MAX_NAME} characters: {cleaned[:40]!r}...")
    return cleaned or None


def _count(text: str | None, default: int) -> int:
    if text is None or text.strip() == "":
        return default
    value = text.strip()
    try:
        number = int(value) if value.lstrip("+-").isdigit() and len(value) <= 25 else float(value)
    except ValueError:
        raise FlowValueError(f"not a number: {value[:20]!r}") from None
    if number < 0:
        raise FlowValueError(f"negative counter: {value[:20]}")
    if not number <= MAX_COUNTER:  # also NaN and infinity (1e400)
        raise FlowValueError(f"counter {value[:20]} above 2^63-1 (what the store holds)")
    if number != int(number):  # 2.5 packets: never rounded into a different value
        raise FlowValueError(f"counter {value[:20]} is not a whole number")
    return int(number)


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
