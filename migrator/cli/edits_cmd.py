"""`migrator edits`: the typed changes to the generated plan (docs/edits.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from migrator.app.edits import AddRequest, add_edit, edit_from_text, list_edits, revert_edit, show_edit
from migrator.app.prs import Reviews
from migrator.cli.context import state
from migrator.cli.output import Format, dump_json, render
from migrator.errors import ChecksFailed
from migrator.input_files import read_input
from waves.edits import edit_json_schema

app = typer.Typer(help="Typed changes to the generated plan: add, list, show, revert.", no_args_is_help=True)
_out = Console(highlight=False, soft_wrap=True)

COLUMNS = [
    ("id", "Id"),
    ("status", "Status"),
    ("change", "Change"),
    ("source", "Source"),
    ("who", "Who"),
    ("pr", "PR"),
    ("created_at", "Created (UTC)"),
]
FORMAT_OPTION = typer.Option(Format.table, "--format", help="table, json or csv.")


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    status: str = typer.Option(None, "--status", help="Only applied, refused or reverted edits."),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Every plan edit, oldest first, with its status and provenance."""
    render(list_edits(state(ctx), status), COLUMNS, fmt, title="Plan edits")


@app.command("show")
def show_cmd(
    ctx: typer.Context, edit_id: int = typer.Argument(..., help="Edit id."), fmt: Format = FORMAT_OPTION
) -> None:
    """One edit: its JSON form, provenance, status and the diagnostics that refused it."""
    _print(show_edit(state(ctx), edit_id), fmt)


@app.command("revert")
def revert_cmd(
    ctx: typer.Context, edit_id: int = typer.Argument(..., help="Edit id."), fmt: Format = FORMAT_OPTION
) -> None:
    """Revert an applied edit: the next `migrator plan` (or, for a pin, `waves plan`) leaves it out."""
    _print(revert_edit(state(ctx), edit_id), fmt)


@app.command("add")
def add_cmd(
    ctx: typer.Context,
    file: str = typer.Argument(..., help="JSON file with one edit, or - for stdin."),
    who: str = typer.Option(..., "--who", help="Reviewer's name (recorded as the edit's author)."),
    pr: int = typer.Option(None, "--pr", min=1, help="Pull request the change was asked for in."),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Add a reviewer's edit (JSON under `migrator edits schema`); exit 8 when it is refused."""
    text = sys.stdin.buffer.read(65537) if file == "-" else read_input(Path(file))
    row = add_edit(state(ctx), AddRequest(edit_from_text(text, "stdin" if file == "-" else file), who, pr=pr))
    _print(row, fmt)
    if row["status"] == "refused":
        reasons = "; ".join(d["message"] for d in row["diagnostics"])
        raise ChecksFailed(f"edit {row['id']} refused: {reasons}")


@app.command("extract")
def extract_cmd(
    ctx: typer.Context,
    pr: int = typer.Option(..., "--pr", min=1, help="Pull request whose branch to read."),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Store the human commits on a PR's branch as edits (free edits where no kind fits)."""
    rows = Reviews(state(ctx)).reviewer_edits(pr)
    render(rows, COLUMNS, fmt, title=f"New reviewer edits of pull request #{pr}")


@app.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of an edit."""
    dump_json(edit_json_schema())


def _print(row: dict[str, Any], fmt: Format) -> None:
    if fmt is Format.json:
        dump_json(row)
        return
    if fmt is Format.csv:
        render([row], COLUMNS, fmt)
        return
    _out.print(Text(f"edit {row['id']} ({row['status']}): {row['change']}"))
    _out.print(
        Text(
            f"  by {row['source']} {row['who']} at {row['created_at']}"
            + (f", PR #{row['pr']}" if row["pr"] else "")
            + (f", {row['conversation']}" if row["conversation"] else "")
        )
    )
    for d in row["diagnostics"]:
        _out.print(Text(f"  {d['severity']} {d['rule']}: {d['message']}"))
