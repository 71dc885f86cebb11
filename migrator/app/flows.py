"""Flow evidence: import a flow file, collect IPFIX/NetFlow v9, list and remove flow sets."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

from migrator import interrupts
from migrator.app.workspace import Workspace
from migrator.flows.collector import collect, parse_listen
from migrator.flows.csv_import import read_flow_file
from migrator.flows.ipfix import DecodeStats
from migrator.flows.records import Flow, ReadResult
from migrator.input_files import Limits
from migrator.store.models import FlowSet

FLOW_FILE_FORMATS = ("generic", "azure-migrate")


def import_flow_file(
    ws: Workspace,
    path: Path,
    fmt: str = "generic",
    replace: bool = False,
    limits: Limits | None = None,
) -> FlowSet:
    """Read a flow file completely, then store it as one flow set.

    `replace` drops the sets imported earlier from a file of that name; `limits` bound the
    reader (None: the defaults and MIGRATOR_LIMIT_* variables, docs/limits.md).
    """
    result = read_flow_file(path, fmt, limits)
    source = "generic-csv" if fmt == "generic" else fmt
    return ws.flows.add(source, path.name, result, replace=replace)


@dataclass(frozen=True)
class CollectRequest:
    listen: str = "127.0.0.1:4739"  # HOST:PORT
    duration: float = 600.0  # seconds
    packets: int | None = None  # stop after this many


@dataclass(frozen=True)
class CollectResult:
    packets: int
    exporters: int
    records: int
    templates: int
    malformed: int
    options: int  # options data sets (exporter metadata), skipped by design
    flow_set: FlowSet | None  # None: no flows arrived, nothing stored
    warnings: list[str]  # what was skipped or changed (also the flow set's warnings when stored)


def collect_flows(
    ws: Workspace, request: CollectRequest, on_ready: Callable[[str], None] | None = None
) -> CollectResult:
    """Receive IPFIX (or NetFlow v9) over UDP and store what arrived as one flow set."""
    address = parse_listen(request.listen)
    store = ws.flows  # open the database before listening: fail fast
    collected = collect(address, request.duration, request.packets, on_ready=on_ready)
    stats = collected.stats
    warnings = _decode_warnings(stats)
    if collected.stopped_early:
        interrupts.handled()  # Ctrl-C is how a collection ends (docs/flows.md): store, exit 0
        warnings.append(f"stopped by the user after {collected.seconds:.0f} s")
    flow_set = None
    if collected.flows:
        result = ReadResult(collected.flows, stats.malformed, warnings, _digest(collected.flows))
        result.count_clamped()
        flow_set = store.add("ipfix", f"udp {request.listen}", result)
    return CollectResult(
        stats.packets,
        len(collected.exporters),
        stats.records,
        stats.templates,
        stats.malformed,
        stats.options,
        flow_set,
        warnings,
    )


def _decode_warnings(stats: DecodeStats) -> list[str]:
    """Every record or set the decoder skipped or changed, counted (nothing is dropped silently)."""
    warnings = list(stats.problems)
    if stats.without_template:
        warnings.append(
            f"{stats.without_template} data set(s) arrived before their template and were skipped"
        )
    if stats.absurd:
        warnings.append(
            f"{stats.absurd} record(s) with a counter above 2^63-1 or an end before their start were skipped"
        )
    if stats.ignored:
        warnings.append(f"{stats.ignored} record(s) lacking a source or destination address were skipped")
    if stats.times_dropped:
        warnings.append(
            f"{stats.times_dropped} start/end time(s) beyond year 9999 were dropped "
            "(their records are kept without them)"
        )
    return warnings


def _digest(flows: list[Flow]) -> str:
    """Of what is stored: `clamped` is a note about the values, and the set order is not stable."""
    names = [fld.name for fld in fields(Flow) if fld.name != "clamped"]
    canon = json.dumps([[str(getattr(f, name)) for name in names] for f in flows])
    return hashlib.sha256(canon.encode()).hexdigest()
