"""`migrator plan refine` and `migrator conversations ...` (docs/agents.md, Refinement)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand

from migrator.app import conversations as convs
from migrator.cli import pr_cmd
from migrator.cli.context import state
from migrator.cli.output import Format, dump_json, render
from migrator.errors import UsageError

if TYPE_CHECKING:
    from migrator.app.refine import RefineResult
    from migrator.app.refine_edits import EditRefineResult

app = typer.Typer(help="Refinement conversations (docs/agents.md).", no_args_is_help=True)
COLUMNS = [
    ("id", "ID"),
    ("target", "Target"),
    ("wave", "Wave"),
    ("pr", "PR"),
    ("status", "Status"),
    ("attempts", "Attempts"),
    ("request", "Request"),
]


def plan_refine(
    ctx: typer.Context,
    request: str = typer.Argument(None, help="What to change, in plain language."),
    wave: int = typer.Option(None, "--wave", min=1, help="The wave to refine."),
    target: str = typer.Option(None, "--target", help="The target, as `plan --target` names it."),
    max_attempts: int = typer.Option(4, "--max-attempts", min=1, max=10, help="Model attempts at most."),
    resume_id: int = typer.Option(None, "--resume", help="Continue an interrupted refinement."),
    use_tools: bool = typer.Option(
        True, "--tools/--no-tools", help="Use terraform/kubeconform when on PATH."
    ),
    free_form: bool = typer.Option(
        False, "--free-form", help="Ask for whole files instead of plan edits (weaker; docs/agents.md)."
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
) -> None:
    """Change a wave from a request as plan edits; lands on the wave's pull request when valid."""
    # LangGraph and LangChain take ~0.8 s to import: only this command pays for them
    from migrator.app.refine import RefineRequest, model_from_env, refine
    from migrator.app.refine_edits import EditRefineResult, refine_with_edits, resume_refinement

    ws = state(ctx)
    model = model_from_env(ws)
    if resume_id is not None:  # in the mode the refinement was started in
        resumed = resume_refinement(ws, resume_id, model, use_tools, pr_cmd.author())
        if isinstance(resumed, EditRefineResult):
            _print_edits(resumed, fmt)
            return
        result = resumed
    else:
        if request is None or wave is None or target is None:
            raise UsageError(
                "give {wave}, {target} and the request (or {resume})", field=("wave", "target", "resume")
            )
        req = RefineRequest(target, wave, request, max_attempts, use_tools, pr_cmd.author())
        if not free_form:
            _print_edits(refine_with_edits(ws, req, model), fmt)
            return
        result = refine(ws, req, model)
    _print(result, fmt)


def _print_edits(result: EditRefineResult, fmt: Format) -> None:
    if fmt is Format.json:
        dump_json(result.as_dict())
        return
    if result.status == "no-edits":
        asked = f"; it asks: {pr_cmd.terminal_safe(result.question)}" if result.question else ""
        typer.echo(
            f"refinement {result.conversation}: the model proposed no edits{asked}; nothing was changed"
        )
        return
    for edit in result.edits:
        typer.echo(f"edit {edit['id']} {edit['status']}: {pr_cmd.terminal_safe(edit['change'])}")
    typer.echo(
        f"refinement {result.conversation} landed on {result.branch} as {result.commit} "
        f"after {result.attempts} attempt(s); the pull request needs a new approval"
    )


def _print(result: RefineResult, fmt: Format) -> None:
    if fmt is Format.json:
        dump_json({**result.as_dict(), "diff": pr_cmd.terminal_safe(result.diff)})
        return
    typer.echo(
        f"refinement {result.conversation} landed on {result.branch} as {result.commit} "
        f"after {result.attempts} attempt(s); the pull request needs a new approval"
    )


_refine_app = typer.Typer(add_completion=False)
_refine_app.command("refine")(plan_refine)


class PlanCommand(TyperCommand):
    """`plan` with one subcommand: `plan refine ...` dispatches to refinement, anything else is
    the generating `plan` as before (plan keeps its own required options)."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        if args and args[0] == "refine":
            refine_cmd = typer.main.get_command(_refine_app)
            return refine_cmd.make_context(f"{info_name} refine", args[1:], parent=parent, **extra)
        return super().make_context(info_name, args, parent=parent, **extra)


@app.command("list")
def list_(
    ctx: typer.Context, fmt: Format = typer.Option(Format.table, "--format", help="table or json.")
) -> None:
    """Every refinement: request, status, attempts."""
    rows = [convs.conversation_dict(c) for c in convs.list_conversations(state(ctx))]
    render(rows, COLUMNS, fmt, title="Conversations")


@app.command("show")
def show(
    ctx: typer.Context,
    number: int = typer.Argument(..., help="Conversation ID."),
    fmt: Format = typer.Option(Format.table, "--format", help="table (Markdown) or json."),
) -> None:
    """One refinement: the request, every attempt with its diagnostics, the final diff."""
    conv = convs.get_conversation(state(ctx), number)
    if fmt is Format.json:
        dump_json(convs.conversation_dict(conv, full=True))
        return
    text = convs.conversation_markdown(conv)
    if conv.diff:
        text += "\n## Diff\n\n" + conv.diff
    typer.echo(pr_cmd.terminal_safe(text))
