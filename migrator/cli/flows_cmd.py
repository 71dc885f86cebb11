"""`migrator flows`: collect IPFIX/NetFlow v9, list and remove flow sets. Files come in via `import flows`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from pathlib import Path

import typer
from rich.console import Console

from migrator import interrupts
from migrator.cli.context import state
from migrator.export import iso_utc
from migrator.flows.collector import collect, parse_listen
from migrator.flows.csv_import import read_flow_file
from migrator.flows.records import Flow, ReadResult
from migrator.output import Format, render
from migrator.store.models import FlowSet

app = typer.Typer(help="Flow evidence: collect IPFIX, list and remove flow sets.", no_args_is_help=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)


def _report(flow_set: FlowSet) -> None:
    Console(highlight=False).print(
        f"flow set {flow_set.id}: {flow_set.records} aggregated flow(s) from {flow_set.origin}"
        + (f"; {flow_set.malformed} malformed skipped" if flow_set.malformed else "")
    )
    for warning in flow_set.warnings:
        _err.print(f"warning: {warning}", markup=False)


def import_file(ctx: typer.Context, path: Path, fmt: str, replace: bool = False) -> None:
    """Read a flow file completely, then store it as one flow set (see `migrator import flows`)."""
    result = read_flow_file(path, fmt)
    source = "generic-csv" if fmt == "generic" else fmt
    _report(state(ctx).flows.add(source, path.name, result, replace=replace))


def _digest(flows: list[Flow]) -> str:
    canon = json.dumps([[str(getattr(f, fld.name)) for fld in fields(f)] for f in flows])
    return hashlib.sha256(canon.encode()).hexdigest()


@app.command("collect")
def collect_cmd(
    ctx: typer.Context,
    listen: str = typer.Option(
        "127.0.0.1:4739", "--listen", help="HOST:PORT to receive IPFIX/NetFlow v9 on."
    ),
    duration: float = typer.Option(600, "--duration", min=0.1, help="Seconds to listen."),
    packets: int = typer.Option(None, "--packets", min=1, help="Stop after this many packets."),
) -> None:
    """Receive IPFIX (or NetFlow v9) over UDP, e.g. from a vSphere Distributed Switch, and store the flows."""
    address = parse_listen(listen)
    store = state(ctx).flows  # open the database before listening: fail fast
    collected = collect(
        address,
        duration,
        packets,
        on_ready=lambda where: _err.print(f"listening on udp {where}", markup=False),
    )
    if collected.stopped_early:
        interrupts.handled()  # Ctrl-C is how a collection ends (docs/flows.md): store, exit 0
    stats = collected.stats
    warnings = list(stats.problems)
    if stats.without_template:
        warnings.append(
            f"{stats.without_template} data set(s) arrived before their template and were skipped"
        )
    if collected.stopped_early:
        warnings.append(f"stopped by the user after {collected.seconds:.0f} s")
    _err.print(
        f"{stats.packets} packet(s) from {len(collected.exporters)} exporter(s), {stats.records} record(s), "
        f"{stats.templates} template(s), {stats.malformed} malformed",
        markup=False,
    )
    if not collected.flows:
        _err.print("no flows received: nothing stored", markup=False)
        return
    result = ReadResult(collected.flows, stats.malformed, warnings, _digest(collected.flows))
    _report(store.add("ipfix", f"udp {listen}", result))


@app.command("list")
def list_sets(
    ctx: typer.Context,
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv."),
) -> None:
    """The stored flow sets."""
    rows = [
        {
            "id": s.id,
            "source": s.source,
            "origin": s.origin,
            "created_at": iso_utc(s.created_at),
            "records": s.records,
            "malformed": s.malformed,
            "warnings": s.warnings,
        }
        for s in state(ctx).flows.sets()
    ]
    columns = [
        ("id", "Id"),
        ("source", "Source"),
        ("origin", "Origin"),
        ("created_at", "Created"),
        ("records", "Flows"),
        ("malformed", "Malformed"),
    ]
    render(rows, columns, fmt, title="Flow sets")


@app.command("remove")
def remove(
    ctx: typer.Context, set_id: int = typer.Argument(..., help="Flow set id (see `flows list`).")
) -> None:
    """Delete one flow set (for instance a mistaken import)."""
    state(ctx).flows.remove(set_id)
    Console(highlight=False).print(f"flow set {set_id} removed")
