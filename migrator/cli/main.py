"""Entry point: global options, the command groups, and the one place errors become exit codes."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console

from migrator import __version__, interrupts
from migrator.app.workspace import Workspace
from migrator.cli import (
    discover_cmd,
    drift_cmd,
    edits_cmd,
    findings_cmd,
    flows_cmd,
    graph_cmd,
    import_cmd,
    interpret_cmd,
    inventory_cmd,
    llm_cmd,
    plan_cmd,
    policies_cmd,
    pr_cmd,
    refine_cmd,
    serve_cmd,
    size_cmd,
    snapshots_cmd,
    validate_cmd,
    waves_cmd,
)
from migrator.cli.compat import ABORT_EXCEPTIONS, EXIT_EXCEPTIONS, USAGE_EXCEPTIONS
from migrator.cli.flags import flag
from migrator.dburl import carries_secret, scrub
from migrator.errors import ExitCode, MigratorError, UsageError
from migrator.settings import DB_URL_ENV, WORKSPACE_ENV

app = typer.Typer(
    name="migrator",
    help="Plan the move of a VMware estate to the cloud.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # never print locals (credentials) in a traceback
)
app.command("discover")(discover_cmd.discover)
app.add_typer(import_cmd.app, name="import")
app.add_typer(inventory_cmd.app, name="inventory")
app.add_typer(snapshots_cmd.app, name="snapshots")
snapshots_cmd.app.command("diff")(drift_cmd.snapshots_diff)
app.command("drift")(drift_cmd.drift)
app.add_typer(flows_cmd.app, name="flows")
app.add_typer(graph_cmd.app, name="graph")
app.add_typer(waves_cmd.app, name="waves")
app.add_typer(edits_cmd.app, name="edits")
app.command("size")(size_cmd.size)
app.command("plan", cls=refine_cmd.PlanCommand)(plan_cmd.plan)
app.command("validate")(validate_cmd.validate)
app.add_typer(policies_cmd.app, name="policies")
app.command("findings")(findings_cmd.findings)
app.add_typer(pr_cmd.app, name="pr")
app.add_typer(refine_cmd.app, name="conversations")
app.command("interpret")(interpret_cmd.interpret_cmd)
app.add_typer(llm_cmd.app, name="llm")
app.command("serve")(serve_cmd.serve)

_err = Console(stderr=True, highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"migrator {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    workspace: Path = typer.Option(
        None,
        "--workspace",
        envvar=WORKSPACE_ENV,
        help="Folder for the SQLite database and plans (default: ./.migrator).",
    ),
    db: str = typer.Option(
        None,
        "--db",
        help=f"Database URL (postgresql://user@host/db) instead of SQLite; env {DB_URL_ENV}. "
        "Keep passwords out of argv: use the env variable, PGPASSWORD or ~/.pgpass.",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    if db and carries_secret(db):
        raise UsageError(
            "--db must not carry a password, in the user part or the query string (argv is visible "
            f"to every user): set {DB_URL_ENV}, or use PGPASSWORD or ~/.pgpass"
        )
    ctx.obj = Workspace.open(workspace, db)


def error(message: str) -> None:
    _err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)


def run(argv: list[str] | None = None) -> None:
    """Console-script entry: run the app and map every failure to a documented exit code."""
    code: int = ExitCode.OK
    interrupts.install()
    try:
        result = app(args=argv, standalone_mode=False)
        code = result if isinstance(result, int) else ExitCode.OK
        if interrupts.received():  # Typer returns a KeyboardInterrupt as a silent 130
            error(interrupts.message())
            code = ExitCode.INTERRUPTED
    except MigratorError as exc:
        error(_escape(exc.render(flag)))  # a field the error names is shown as its --flag
        code = exc.exit_code
    except EXIT_EXCEPTIONS as exc:
        code = int(getattr(exc, "exit_code", 0))
    except ABORT_EXCEPTIONS:
        error("aborted")
        code = ExitCode.INTERRUPTED
    except USAGE_EXCEPTIONS as exc:
        exc.show()  # type: ignore[attr-defined]
        code = ExitCode.USAGE
    except KeyboardInterrupt:
        error(interrupts.message())
        code = ExitCode.INTERRUPTED
    except Exception as exc:  # a bug: one line, no locals, no traceback
        text = scrub(str(exc), os.environ.get(DB_URL_ENV, ""))  # a library may quote the URL
        error(f"internal error: {type(exc).__name__}: {_escape(text)[:300]} (please report this)")
        code = ExitCode.INTERNAL
    interrupts.exit_process(int(code))


def _escape(text: str) -> str:
    return text.replace("[", r"\[").replace("\n", " ")
