"""`migrator flows`: collect IPFIX/NetFlow v9, list and remove flow sets. Files come in via `import flows`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from migrator.app.flows import CollectRequest, collect_flows, import_flow_file
from migrator.cli.context import state
from migrator.cli.output import Format, render
from migrator.input_files import Limits
from migrator.store.models import FlowSet
from migrator.timefmt import iso_utc

app = typer.Typer(help="Flow evidence: collect IPFIX, list and remove flow sets.", no_args_is_help=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)


def _report(flow_set: FlowSet) -> None:
    Console(highlight=False, soft_wrap=True, markup=False).print(  # one line, whatever the origin
        f"flow set {flow_set.id}: {flow_set.records} aggregated flow(s) from {flow_set.origin}"
        + (f"; {flow_set.malformed} malformed skipped" if flow_set.malformed else "")
        + (f"; {flow_set.clamped} counter(s) capped at 2^63-1" if flow_set.clamped else "")
    )
    for warning in flow_set.warnings:
        _err.print(f"warning: {warning}", markup=False)


def import_file(
    ctx: typer.Context, path: Path, fmt: str, replace: bool = False, limits: Limits | None = None
) -> None:
    """Read a flow file completely, then store it as one flow set (see `migrator import flows`)."""
    _report(import_flow_file(state(ctx), path, fmt, replace, limits))


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
    result = collect_flows(
        state(ctx),
        CollectRequest(listen, duration, packets),
        on_ready=lambda where: _err.print(f"listening on udp {where}", markup=False),
    )
    _err.print(
        f"{result.packets} packet(s) from {result.exporters} exporter(s), {result.records} record(s), "
        f"{result.templates} template(s), {result.malformed} malformed"
        + (f", {result.options} options data set(s) skipped (exporter metadata)" if result.options else ""),
        markup=False,
    )
    if result.flow_set is None:
        for warning in result.warnings:  # nothing stored, but what was skipped is still said
            _err.print(f"warning: {warning}", markup=False)
        _err.print("no flows received: nothing stored", markup=False)
        return
    _report(result.flow_set)


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
            "clamped": s.clamped,
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
        ("clamped", "Clamped"),
    ]
    render(rows, columns, fmt, title="Flow sets")


@app.command("remove")
def remove(
    ctx: typer.Context, set_id: int = typer.Argument(..., help="Flow set id (see `flows list`).")
) -> None:
    """Delete one flow set (for instance a mistaken import)."""
    state(ctx).flows.remove(set_id)
    Console(highlight=False).print(f"flow set {set_id} removed")
