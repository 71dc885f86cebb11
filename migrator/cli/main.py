"""Entry point: global options, the command groups, and the one place errors become exit codes."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console

from migrator import __version__, interrupts
from migrator.cli.compat import ABORT_EXCEPTIONS, EXIT_EXCEPTIONS, USAGE_EXCEPTIONS
from migrator.cli.flags import flag
from migrator.cli.lazy import LazyGroup
from migrator.errors import ExitCode, MigratorError, UsageError
from migrator.settings import DB_URL_ENV, TENANT_ENV, WORKSPACE_ENV

# The commands are listed in migrator/cli/lazy.py and imported when one runs.
app = typer.Typer(
    name="migrator",
    help="Plan the move of a VMware estate to the cloud.",
    cls=LazyGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # never print locals (credentials) in a traceback
)
# commands that need no workspace: the root callback does not resolve one for them
NO_WORKSPACE = {"validate"}

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
    tenant: str = typer.Option(
        None,
        "--tenant",
        envvar=TENANT_ENV,
        help="The tenant (a team's estate) to act as, on PostgreSQL (docs/scale.md#tenants); "
        "default: default.",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    if db and _carries_secret(db):
        raise UsageError(
            "--db must not carry a password, in the user part or the query string (argv is visible "
            f"to every user): set {DB_URL_ENV}, or use PGPASSWORD or ~/.pgpass"
        )
    if ctx.invoked_subcommand in NO_WORKSPACE:
        return
    from migrator.app.workspace import Workspace  # the stores' models: only for commands that use them

    ctx.obj = Workspace.open(workspace, db, tenant)


def _carries_secret(db: str) -> bool:
    from migrator.dburl import carries_secret  # SQLAlchemy's URL parser: only when --db is given

    return carries_secret(db)


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
        from migrator.dburl import scrub

        text = scrub(str(exc), os.environ.get(DB_URL_ENV, ""))  # a library may quote the URL
        error(f"internal error: {type(exc).__name__}: {_escape(text)[:300]} (please report this)")
        code = ExitCode.INTERNAL
    interrupts.exit_process(int(code))


def _escape(text: str) -> str:
    return text.replace("[", r"\[").replace("\n", " ")
