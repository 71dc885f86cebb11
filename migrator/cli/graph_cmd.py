"""`migrator graph`: the dependency graph in standard formats."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console

from migrator.app.inventory import dependency_graph
from migrator.atomic import atomic_write_text
from migrator.cli.context import state
from migrator.cli.options import SNAPSHOT_OPTION
from waves.export import render

app = typer.Typer(help="The dependency graph built from flows, DRS rules and metadata.", no_args_is_help=True)


class GraphFormat(StrEnum):
    graphml = "graphml"
    json = "json"
    dot = "dot"


@app.command("export")
def export(
    ctx: typer.Context,
    fmt: GraphFormat = typer.Option(
        GraphFormat.graphml, "--format", help="graphml (Gephi, yEd), json or dot."
    ),
    output: Path = typer.Option(None, "-o", "--output", help="Write to this file instead of stdout."),
    snapshot: int = SNAPSHOT_OPTION,
) -> None:
    """Write the dependency graph: VMs, external endpoints, typed edges with evidence and confidence."""
    graph = dependency_graph(state(ctx), snapshot)
    text = render(graph, fmt.value)
    if output is None:
        typer.echo(text, nl=False)
        return
    atomic_write_text(output, text)  # the old file or the new one, never half of one
    Console(stderr=True, highlight=False).print(
        f"wrote {graph.g.number_of_nodes()} nodes and {graph.g.number_of_edges()} edges to {output}",
        markup=False,
    )
