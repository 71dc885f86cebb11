"""`migrator eval`: measurements of migrator against recorded reviews (docs/learning.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from migrator.app.learning import replay_corpus
from migrator.cli.output import Format, dump_json, render

app = typer.Typer(help="Measure migrator against recorded reviews.", no_args_is_help=True)

COLUMNS = [
    ("case", "Case"),
    ("pr", "PR"),
    ("vms", "VMs"),
    ("edits_without", "Edits without learning"),
    ("edits_with", "Edits with deterministic learning"),
    ("corrections", "Corrections known"),
    ("applied", "Learned values given"),
]


@app.command("replay")
def replay_cmd(
    corpus: Path = typer.Argument(
        ..., help="Corpus folder: one JSON file per merged-PR case, in time order."
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
) -> None:
    """Replay merged-PR cases in time order: reviewer edits still needed without and with learning."""
    result = replay_corpus(corpus)
    if fmt is Format.json:
        dump_json(result)
        return
    s = result["summary"]
    rows = [
        *result["cases"],
        {
            "case": "total",
            "vms": sum(c["vms"] for c in result["cases"]),
            "edits_without": s["edits"]["without"],
            "edits_with": s["edits"]["deterministic"],
        },
    ]
    render(rows, COLUMNS, fmt, title=f"Replay of {corpus}")
    later, clean = s["edits_after_first_quarter"], s["cases_without_edits"]
    typer.echo(
        f"after the first {s['first_quarter']} case(s): {later['without']} edit(s) without learning, "
        f"{later['deterministic']} with ({s['removed_after_first_quarter']:.0%} removed); "
        f"cases needing no edit: {clean['without']:.0%} without, {clean['deterministic']:.0%} with; "
        f"cases made worse: {len(s['cases_worse'])}"
    )
