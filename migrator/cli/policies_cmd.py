"""`migrator policies`: the Rego policy pack (docs/policies.md)."""

from __future__ import annotations

import typer
from rich.console import Console

from migrator.cli.output import Format, dump_json, render
from migrator.errors import ChecksFailed
from policies.registry import policies
from policies.selftest import run_fixtures

app = typer.Typer(help="List and test the policy pack.", no_args_is_help=True)

COLUMNS = [
    ("id", "ID"),
    ("family", "Family"),
    ("severity", "Severity"),
    ("scope", "Scope"),
    ("title", "Title"),
    ("file", "File"),
]


@app.command("list")
def list_policies(fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv.")) -> None:
    """Every policy with its metadata."""
    rows = [
        {"family": p.family, "file": f"policies/{p.file}", "package": p.package, **p.metadata}
        for p in policies()
    ]
    render(rows, COLUMNS, fmt, title=f"{len(rows)} policies")


@app.command("test")
def test(fmt: Format = typer.Option(Format.table, "--format", help="table or json.")) -> None:
    """Run every policy against its pass and fail fixtures; exit 8 if any misbehaves."""
    results = run_fixtures()
    failed = [r for r in results if not r.ok]
    if fmt is Format.json:
        dump_json(
            {
                "passed": len(results) - len(failed),
                "failed": len(failed),
                "results": [r.__dict__ for r in results],
            }
        )
    else:
        for r in failed:
            Console(stderr=True, highlight=False).print(f"FAIL {r.policy} [{r.case}]: {r.detail}")
        Console(highlight=False).print(
            f"{len(results) - len(failed)} of {len(results)} fixture checks passed"
        )
    if failed:
        raise ChecksFailed(f"{len(failed)} policy fixture check(s) failed")
