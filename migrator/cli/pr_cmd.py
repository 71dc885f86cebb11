"""`migrator pr ...`: land waves as pull requests, review, approve, and the guarded merge."""

from __future__ import annotations

import getpass
import os
import sys
import unicodedata
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from migrator.app import listings
from migrator.app.identities import cli_actor
from migrator.cli.context import state
from migrator.cli.options import PLAN_OPTION
from migrator.cli.output import Format, dump_json, render
from migrator.errors import UsageError
from migrator.timefmt import iso_utc
from transpilers.escape import one_line

# Keep this module light: `pr list` must start at once (migrator/cli/lazy.py). The PR use cases
# (the stores, git, the validator) are imported by the commands that use them.
if TYPE_CHECKING:
    from migrator.app.prs import LandRequest, LandResult, Reviews
    from migrator.review.repo import Author
    from migrator.store.models import PullRequest
    from migrator.store.quickread import PullRequestRow

app = typer.Typer(
    help="Plans as pull requests: land, review, approve, merge (docs/prs.md).", no_args_is_help=True
)

AUTHOR_NAME_ENV, AUTHOR_EMAIL_ENV = "MIGRATOR_GIT_AUTHOR_NAME", "MIGRATOR_GIT_AUTHOR_EMAIL"
COLUMNS = [
    ("number", "PR"),
    ("target", "Target"),
    ("wave", "Wave"),
    ("status", "Status"),
    ("branch", "Branch"),
    ("head", "Head"),
    ("approvals", "Approved by"),
    ("title", "Title"),
]
REPO_OPTION = typer.Option(None, "--repo", help="Plans repository path or URL [default: the workspace's].")
BASE_OPTION = typer.Option("main", "--base", help="Base branch of the plans repository.")
OVERWRITE_OPTION = typer.Option(
    False,
    "--overwrite-edits",
    help="Replace commits a human or a refinement made on the branch since migrator last generated it.",
)
TOKEN_ENV_OPTION = typer.Option(
    None, "--token-env", help="Name of the environment variable holding the remote's token (never the token)."
)


FORGE_OPTION = typer.Option(
    None, "--forge", help="github, gitlab or gitea [default: from the --repo URL; none: local mode]."
)
FORGE_API_OPTION = typer.Option(None, "--forge-api", help="The forge's API base URL [default: from --repo].")
FORGE_REPO_OPTION = typer.Option(None, "--forge-repo", help="owner/name on the forge [default: from --repo].")


def land_request(
    target: str,
    wave: int,
    repo: str | None,
    base: str,
    overwrite_edits: bool,
    plan_id: int | None,
    token_env: str | None,
    forge: tuple[str | None, str | None, str | None],
) -> LandRequest:
    from migrator.app.prs import LandRequest

    kind, api, forge_repo = forge
    token = token_from(token_env)
    return LandRequest(
        target, wave, repo, base, author(), overwrite_edits, plan_id, token, kind, api, forge_repo
    )


def terminal_safe(text: str) -> str:
    """Text from the branch (a reviewer may have written it) without control characters: no
    escape sequence reaches the terminal; newlines and tabs stay."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def reviewer_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
        return "unknown"


def author() -> Author:
    from migrator.review.repo import Author

    return Author(
        os.environ.get(AUTHOR_NAME_ENV) or "migrator",
        os.environ.get(AUTHOR_EMAIL_ENV) or "migrator@localhost",
    )


def token_from(token_env: str | None) -> str | None:
    if not token_env:
        return None
    value = os.environ.get(token_env)
    if not value:
        raise UsageError(f"--token-env {token_env}: that environment variable is not set")
    return value


def forge_wait_line(line: str) -> None:
    """A forge's rate limit makes migrator wait: say so on stderr (stdout stays parseable)."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def reviews(ctx: typer.Context, token_env: str | None = None) -> Reviews:
    from migrator.app.prs import Reviews

    return Reviews(state(ctx), token_from(token_env), notify=forge_wait_line)


def row(pr: PullRequest | PullRequestRow) -> dict[str, Any]:
    return {
        "number": pr.id,
        "target": pr.target,
        "wave": pr.wave,
        "status": pr.status,
        "branch": pr.branch,
        "base": pr.base,
        "repo": pr.repo,
        "forge": pr.forge,
        "forge_number": pr.forge_number,
        "forge_url": pr.forge_url,
        "head": pr.head_commit[:12],
        "head_commit": pr.head_commit,
        "merge_commit": pr.merge_commit,
        "plan_id": pr.plan_id,
        "title": pr.title,
        "summary": pr.summary,
        "approvals": [a["by"] for a in pr.approvals],
        "approval_records": pr.approvals,
        "created_at": iso_utc(pr.created_at),
        "updated_at": iso_utc(pr.updated_at),
    }


def print_landed(results: list[LandResult], fmt: Format) -> None:
    rows = [r.as_dict() for r in results]
    cols = [
        ("number", "PR"),
        ("action", "Action"),
        ("branch", "Branch"),
        ("commit", "Commit"),
        ("summary", "Changes"),
    ]
    render(rows, cols, fmt, title="Landed")


@app.command("list")
def list_prs(
    ctx: typer.Context, fmt: Format = typer.Option(Format.table, "--format", help="table or json.")
) -> None:
    """Every pull request, oldest first."""
    rows = [row(pr) for pr in listings.pull_requests(state(ctx))]
    render(rows, COLUMNS, fmt, title="Pull requests")


@app.command("show")
def show(
    ctx: typer.Context,
    number: int = typer.Argument(..., help="PR number."),
    fmt: str = typer.Option("md", "--format", help="md (PLAN.md and the review state) or json."),
) -> None:
    """One pull request: its review state, then its PLAN.md as on the branch now."""
    svc = reviews(ctx)
    pr = svc.prs.get(number)
    plan_md = svc.plan_md(pr)
    if fmt == "json":
        dump_json({**row(pr), "plan_md": plan_md, "merged": [m.model_dump() for m in svc.prs.merged(number)]})
        return
    if fmt != "md":
        raise UsageError(f"--format {fmt!r}: use md or json")
    approvals = ", ".join(f"{one_line(a['by'], 60)} at {a['at'][:19]}" for a in pr.approvals) or "none"
    head = f"PR #{pr.id} [{pr.status}] {pr.branch} -> {pr.base} at {pr.head_commit[:12]}"
    sys.stdout.write(f"{head}; approvals: {approvals}\n\n")
    sys.stdout.write(terminal_safe(plan_md))


@app.command("diff")
def diff(ctx: typer.Context, number: int = typer.Argument(..., help="PR number.")) -> None:
    """The branch's changes against the base (git diff)."""
    sys.stdout.write(terminal_safe(reviews(ctx).diff(number)) + "\n")


@app.command("approve")
def approve(
    ctx: typer.Context,
    number: int = typer.Argument(..., help="PR number."),
    by: str = typer.Option(None, "--by", help="Reviewer's name [default: the login name]."),
    token_env: str = TOKEN_ENV_OPTION,
) -> None:
    """Record an approval of the branch as it is now (a later commit needs a new approval)."""
    name = by or reviewer_name()
    from migrator.app.prs import Reviews

    svc = Reviews(state(ctx), token_from(token_env), notify=forge_wait_line, actor=cli_actor(name))
    pr = svc.approve(number, name)
    Console(highlight=False).print(
        f"PR #{pr.id} approved by {one_line(pr.approvals[-1]['by'], 60)}", markup=False
    )


@app.command("close")
def close(ctx: typer.Context, number: int = typer.Argument(..., help="PR number.")) -> None:
    """Close without merging (the branch stays)."""
    pr = reviews(ctx).close(number)
    Console(highlight=False).print(f"PR #{pr.id} closed", markup=False)


@app.command("merge")
def merge(
    ctx: typer.Context,
    number: int = typer.Argument(..., help="PR number."),
    use_tools: bool = typer.Option(
        True, "--tools/--no-tools", help="Use terraform/tofu and kubeconform when on PATH."
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
    token_env: str = TOKEN_ENV_OPTION,
) -> None:
    """Re-validate the branch as it is now, then merge it: through the forge's API when the PR is
    on a forge (exit 9 if the forge refuses), else git merge into the base (exit 8: checks fail)."""
    from migrator.app.prs import GuardFailed

    try:
        result = reviews(ctx, token_env).merge(number, author(), use_tools)
    except GuardFailed as failed:
        rows = [
            {**d.as_dict(), "where": d.where(), "message": one_line(d.message, 300)}
            for d in failed.report.diagnostics
        ]
        cols = [
            ("severity", "Severity"),
            ("rule", "Rule"),
            ("where", "Where"),
            ("resource", "Resource"),
            ("message", "Message"),
        ]
        render(rows, cols, fmt, title=f"PR #{number}: checks", json_payload=failed.report.as_dict())
        raise
    if fmt is Format.json:
        dump_json(
            {
                "number": number,
                "merge_commit": result.merge_commit,
                "merged_by": result.merged_by,
                "changed_by_review": result.changed_files,
            }
        )
        return
    changed = ", ".join(result.changed_files) or "none"
    by = "" if result.merged_by == "git" else f" on {result.merged_by}"
    Console(highlight=False).print(
        f"PR #{number} merged{by} as {result.merge_commit[:12]}; files changed in review: {changed}",
        markup=False,
    )


@app.command("land")
def land(
    ctx: typer.Context,
    target: str = typer.Option(..., "--target", help="The target, as `plan --target` names it."),
    wave: int = typer.Option(..., "--wave", min=1, help="Wave number."),
    repo: str = REPO_OPTION,
    base: str = BASE_OPTION,
    overwrite_edits: bool = OVERWRITE_OPTION,
    token_env: str = TOKEN_ENV_OPTION,
    forge: str = FORGE_OPTION,
    forge_api: str = FORGE_API_OPTION,
    forge_repo: str = FORGE_REPO_OPTION,
    plan_id: int = PLAN_OPTION,
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
) -> None:
    """Commit a generated wave (and its PLAN.md) to its branch and open or update its PR."""
    forge_opts = (forge, forge_api, forge_repo)
    request = land_request(target, wave, repo, base, overwrite_edits, plan_id, token_env, forge_opts)
    print_landed([reviews(ctx).land(request)], fmt)
