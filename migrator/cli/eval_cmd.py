"""`migrator eval`: measurements of migrator against recorded reviews (docs/learning.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from migrator.app.replay_model import NOT_RUN, replay_corpus
from migrator.cli.context import state
from migrator.cli.output import Format, dump_json, render

app = typer.Typer(help="Measure migrator against recorded reviews.", no_args_is_help=True)

COLUMNS = [
    ("case", "Case"),
    ("pr", "PR"),
    ("vms", "VMs"),
    ("edits_without", "Edits without learning"),
    ("edits_with", "Edits with deterministic learning"),
    ("model", "Edits with the model"),
    ("corrections", "Corrections known"),
    ("applied", "Learned values given"),
]


@app.command("replay")
def replay_cmd(
    ctx: typer.Context,
    corpus: Path = typer.Argument(
        ..., help="Corpus folder: one JSON file per merged-PR case, in time order."
    ),
    model_cases: int | None = typer.Option(
        None, "--model-cases", help="Run the model path on the first N cases only (default: all)."
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
) -> None:
    """Replay merged-PR cases in time order: reviewer edits still needed without learning, with
    the deterministic path and (a model configured) with the model path."""
    result = replay_corpus(corpus, state(ctx), model_cases)
    if fmt is Format.json:
        dump_json(result)
        return
    s, cases = result["summary"], result["cases"]
    ran = s["model"]["status"] != NOT_RUN
    rows = [
        *({**c, "model": NOT_RUN if c["edits_model"] is None else c["edits_model"]} for c in cases),
        {
            "case": "total",
            "vms": sum(c["vms"] for c in cases),
            "edits_without": s["edits"]["without"],
            "edits_with": s["edits"]["deterministic"],
            "model": s["model"]["edits"]["model"] if ran else NOT_RUN,
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
    typer.echo(_model_line(s["model"]))


def _model_line(m: dict[str, Any]) -> str:
    if m["status"] == NOT_RUN:
        return f"model path: not run ({m['reason']})"
    e, ends = m["edits"], m["refinements"]
    return (
        f"model path ({m['model']}, {len(m['cases'])} case(s), k={m['k']}, retrieval {m['retrieval']}): "
        f"{e['without']} edit(s) without learning, {e['deterministic']} deterministic, {e['model']} with "
        f"the model; refinements valid {ends['valid']}, empty {ends['empty']}, failed {ends['failed']}; "
        f"{m['accepted_edits']} edit(s) accepted; cases made worse: {len(m['cases_worse'])}"
    )
