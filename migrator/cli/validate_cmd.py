"""`migrator validate DIR`: the validator pipeline on any folder of Terraform or Kubernetes YAML."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from agents.validator import ValidationReport, ValidatorOptions, languages_of, validate_folder
from migrator.cli.output import Format, dump_json, render
from migrator.errors import ChecksFailed, InputFileError
from transpilers.escape import one_line

COLUMNS = [
    ("severity", "Severity"),
    ("checker", "Checker"),
    ("rule", "Rule"),
    ("where", "Where"),
    ("resource", "Resource"),
    ("message", "Message"),
]


def _folders(path: Path) -> list[Path]:
    """The folder itself if it holds code, else every subfolder that does (wave-01, wave-02, ...)."""
    if languages_of(path):
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_dir() and not p.name.startswith(".") and languages_of(p))


def validate(
    directory: Path = typer.Argument(
        ..., help="A folder of .tf or .yaml files, or a folder of such folders."
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
    fail_on: str = typer.Option(
        "error", "--fail-on", help="error or warning: the level that fails (exit 8)."
    ),
    use_tools: bool = typer.Option(
        True, "--tools/--no-tools", help="Use terraform/tofu and kubeconform when on PATH."
    ),
) -> None:
    """Validate infrastructure code: parse, schema (real tools or built-in), policies."""
    if fail_on not in ("error", "warning"):
        raise InputFileError(f"--fail-on {fail_on!r}: use error or warning")
    if not directory.is_dir():
        raise InputFileError(f"{directory}: not a folder")
    folders = _folders(directory)
    if not folders:
        raise InputFileError(f"{directory}: no .tf, .yaml or .yml files found")
    reports: list[ValidationReport] = [
        validate_folder(f, ValidatorOptions(use_tools=use_tools)) for f in folders
    ]
    if fmt is Format.json:
        dump_json({"fail_on": fail_on, "reports": [r.as_dict() for r in reports]})
    else:
        for report in reports:
            rows = [
                {**d.as_dict(), "where": d.where(), "message": one_line(d.message, 400)}
                for d in report.diagnostics
            ]
            c = report.counts
            title = f"{report.folder}: {c['error']} error(s), {c['warning']} warning(s), {c['info']} info"
            if rows:
                render(rows, COLUMNS, Format.table, title=title)
            else:
                Console(highlight=False).print(f"{title} ({', '.join(report.checkers)})")
            for note in report.notes:
                Console(highlight=False).print(f"note: {one_line(note)}")
    failing = [r.folder for r in reports if r.failed(fail_on)]
    if failing:
        raise ChecksFailed(
            f"{len(failing)} of {len(reports)} folder(s) fail at level {fail_on}: {', '.join(failing)}"
        )
