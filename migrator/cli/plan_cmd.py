"""`migrator plan`: transpile the stored wave plan into infrastructure code and validate it.

The workflow is migrator.app.generation; this module parses options and renders the result.
Each target's own options (--region, --vddk-url, ...) come from the transpiler registry.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from agents.generator.transpiler_agent import DEFAULT_ATTEMPTS
from migrator.app.generation import GenerateRequest, GenerateResult, generate
from migrator.app.prs import LandResult, land_waves
from migrator.app.workspace import Workspace
from migrator.cli import pr_cmd
from migrator.cli.context import state
from migrator.cli.flags import flag
from migrator.cli.options import PLAN_OPTION
from migrator.cli.output import Format, dump_json, render
from transpilers.registry import TARGETS, option_specs

COLUMNS = [
    ("wave", "Wave"),
    ("vms", "VMs"),
    ("blocked", "Blocked"),
    ("files", "Files"),
    ("errors", "Errors"),
    ("warnings", "Warnings"),
    ("attempts", "Attempts"),
    ("status", "Status"),
    ("out_dir", "Folder"),
]


def plan(
    ctx: typer.Context,
    target: str = typer.Option(..., "--target", help=f"{' or '.join(TARGETS)}."),
    wave: str = typer.Option("all", "--wave", help="A wave number, or all."),
    out: Path = typer.Option(
        Path("migration"), "--out", help="Folder for the generated code (one subfolder per target and wave)."
    ),
    plan_id: int = PLAN_OPTION,
    max_attempts: int = typer.Option(
        DEFAULT_ATTEMPTS, "--max-attempts", min=1, max=10, help="Generate-validate-fix rounds per wave."
    ),
    use_tools: bool = typer.Option(
        True, "--tools/--no-tools", help="Use terraform/tofu and kubeconform when on PATH."
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
    land: bool = typer.Option(
        False, "--land", help="Then land each clean wave as a pull request (docs/prs.md)."
    ),
    repo: str = pr_cmd.REPO_OPTION,
    base: str = pr_cmd.BASE_OPTION,
    overwrite_edits: bool = pr_cmd.OVERWRITE_OPTION,
    token_env: str = pr_cmd.TOKEN_ENV_OPTION,
    forge: str = pr_cmd.FORGE_OPTION,
    forge_api: str = pr_cmd.FORGE_API_OPTION,
    forge_repo: str = pr_cmd.FORGE_REPO_OPTION,
    queue: bool = typer.Option(
        False, "--queue", help="Queue one job per wave for the workers (docs/scale.md)."
    ),
    **target_options: Any,
) -> None:
    """Generate and validate infrastructure code for the waves of the stored plan (docs/plan.md).

    `migrator plan refine --help`: change a wave's code from a request (docs/agents.md).
    """
    request = GenerateRequest(target, wave, out, plan_id, target_options, max_attempts, use_tools)
    if queue:
        land_args = _land_args(repo, base, overwrite_edits, token_env, (forge, forge_api, forge_repo))
        _queue(state(ctx), request, land_args if land else None)
        return
    result = generate(state(ctx), request)
    landed: list[LandResult] = []
    if land:
        forge_opts = (forge, forge_api, forge_repo)
        req = pr_cmd.land_request(
            target, 0, repo, base, overwrite_edits, result.plan_id, token_env, forge_opts
        )
        clean = [w.wave for w in result.waves if not w.needs_human]
        landed = land_waves(state(ctx), req, clean, notify=pr_cmd.forge_wait_line)
    _print(result, fmt, landed)
    if (error := result.incomplete()) is not None:
        raise error


def _land_args(
    repo: str | None, base: str, overwrite: bool, token_env: str | None, forge: tuple[str | None, ...]
) -> dict[str, Any]:
    """A landing as job arguments: the token by its variable's name (the worker reads it)."""
    who = pr_cmd.author()
    kind, api, forge_repo = forge
    return {
        "target": None,  # filled per wave below
        "repo": repo,
        "base": base,
        "overwrite_edits": overwrite,
        "token_env": token_env,
        "author": [who.name, who.email],
        "forge": kind,
        "forge_api": api,
        "forge_repo": forge_repo,
    }


def _queue(ws: Workspace, request: GenerateRequest, land: dict[str, Any] | None) -> None:
    from migrator.app.jobs import queue_generation
    from migrator.cli.discover_cmd import print_enqueued

    if land is not None:
        land["target"] = request.target
    print_enqueued(queue_generation(ws, request, land))


def _print(result: GenerateResult, fmt: Format, landed: list[LandResult]) -> None:
    rows = [w.as_dict() for w in result.waves]
    if fmt is Format.json:
        dump_json({**result.as_dict(), "landed": [r.as_dict() for r in landed]})
        return
    render(rows, COLUMNS, Format.table, title=f"Plan {result.plan_id}: {result.target}")
    errors = sum(w.errors for w in result.waves)
    warnings = sum(w.warnings for w in result.waves)
    Console(highlight=False).print(
        f"validation summary: {len(rows)} wave(s), {errors} error(s), {warnings} warning(s); "
        f"{len(result.stuck)} need a human. Reports: {result.root}/wave-NN/REPORT.md"
    )
    if landed:
        pr_cmd.print_landed(landed, Format.table)


def _with_target_options(command: Any) -> None:
    """Give `command` one option per declared target option (its **kwargs receive them)."""
    signature = inspect.signature(command)
    fixed = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    declared = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(spec.default, flag(name), help=f"{'/'.join(targets)}: {spec.help}"),
            annotation=spec.type,
        )
        for name, (spec, targets) in option_specs().items()
    ]
    command.__signature__ = signature.replace(parameters=[*fixed, *declared])


_with_target_options(plan)
