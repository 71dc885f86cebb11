"""`migrator plan`: transpile the stored wave plan into infrastructure code and validate it.

The workflow is migrator.app.generation; this module parses options and renders the result.
Each target's own options (--region, --vddk-url, ...) come from the transpiler registry.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
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


QUEUE_OPTION = typer.Option(False, "--queue", help="Queue one job per wave for the workers (docs/scale.md).")


@dataclass(frozen=True)
class Lander:
    """`--land` and its options: where and how each clean wave lands as a pull request."""

    repo: str | None
    base: str
    overwrite_edits: bool
    token_env: str | None
    forge: tuple[str | None, str | None, str | None]


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
    queue: bool = QUEUE_OPTION,
    **target_options: Any,
) -> None:
    """Generate and validate infrastructure code for the waves of the stored plan (docs/plan.md).

    `migrator plan refine --help`: change a wave's code from a request (docs/agents.md).
    """
    request = GenerateRequest(target, wave, out, plan_id, target_options, max_attempts, use_tools)
    lander = Lander(repo, base, overwrite_edits, token_env, (forge, forge_api, forge_repo)) if land else None
    if queue:
        return _queue(state(ctx), request, lander)
    result = generate(state(ctx), request)
    landed = _land(state(ctx), result, lander)
    _print(result, fmt, landed)
    if (error := result.incomplete()) is not None:
        raise error


def _land(ws: Workspace, result: GenerateResult, lander: Lander | None) -> list[LandResult]:
    if lander is None:
        return []
    req = pr_cmd.land_request(
        result.target, 0, lander.repo, lander.base, lander.overwrite_edits, result.plan_id,
        lander.token_env, lander.forge,
    )  # fmt: skip
    clean = [w.wave for w in result.waves if not w.needs_human]
    return land_waves(ws, req, clean, notify=pr_cmd.forge_wait_line)


def _queue(ws: Workspace, request: GenerateRequest, lander: Lander | None) -> None:
    """One job per wave; a landing as job arguments holds the token's variable name, not the token."""
    from migrator.app.jobs import queue_generation
    from migrator.cli.discover_cmd import print_enqueued

    land = None
    if lander is not None:
        who = pr_cmd.author()
        kind, api, forge_repo = lander.forge
        land = {
            "target": request.target, "repo": lander.repo, "base": lander.base,
            "overwrite_edits": lander.overwrite_edits, "token_env": lander.token_env,
            "author": [who.name, who.email], "forge": kind, "forge_api": api, "forge_repo": forge_repo,
        }  # fmt: skip
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
