"""`migrator learn`: the corrections learned from merged pull requests (docs/learning.md)."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from migrator.app.learning import forget, show, status
from migrator.cli.context import state
from migrator.cli.output import Format, dump_json, render

app = typer.Typer(help="Corrections learned from reviewers: status, show, forget.", no_args_is_help=True)
_out = Console(highlight=False, soft_wrap=True)

COLUMNS = [
    ("id", "Id"),
    ("status", "Status"),
    ("rule", "Correction"),
    ("support", "Support"),
    ("against", "Against"),
    ("confidence", "Confidence"),
    ("prs", "From PRs"),
    ("reviewers", "Reviewers"),
    ("applied", "Edits applied"),
]
FORMAT_OPTION = typer.Option(Format.table, "--format", help="table or json.")


@app.command("status")
def status_cmd(ctx: typer.Context, fmt: Format = FORMAT_OPTION) -> None:
    """The corrections learned, from which PRs and reviewers, and the edits they now make."""
    result = status(state(ctx))
    rows = [{**c, "applied": c["edits"]["applied"]} for c in result["corrections"]]
    title = f"Learned corrections ({result['examples']} example(s) from {len(result['prs'])} merged PR(s))"
    render(rows, COLUMNS, fmt, title=title, json_payload=result)


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    correction_id: int = typer.Argument(..., help="Correction id (learn status)."),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """One correction: its rule, evidence, provenance and the edits derived from it."""
    _print(show(state(ctx), correction_id), fmt)


@app.command("forget")
def forget_cmd(
    ctx: typer.Context,
    correction_id: int = typer.Argument(..., help="Correction id (learn status)."),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Remove a correction and the edits derived from it; it is not learned again."""
    result = forget(state(ctx), correction_id)
    if fmt is Format.json:
        dump_json(result)
        return
    _out.print(
        Text(f"correction L{correction_id} forgotten; {result['removed_edits']} learned edit(s) removed")
    )


def _print(row: dict[str, Any], fmt: Format) -> None:
    if fmt is Format.json:
        dump_json(row)
        return
    _out.print(Text(f"correction L{row['id']} ({row['status']}): {row['rule']}"))
    _out.print(
        Text(
            f"  support {row['support']}, against {row['against']}, confidence {row['confidence']:.2f}; "
            f"from PR(s) {', '.join(f'#{p}' for p in row['prs'])}; reviewers {', '.join(row['reviewers'])}"
        )
    )
    for e in row["derived_edits"]:
        _out.print(Text(f"  edit {e['id']} ({e['status']}): {e['change']}"))
