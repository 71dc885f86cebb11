"""The command table, loaded on demand: a command's module (and what it imports: the stores,
pyVmomi, networkx, the transpilers) is imported only when that command runs.

Importing every command module took about 1.8 s before any command ran, and `migrator --help`
did it to read each command's help line. The table below also holds that line, so the root
help imports no command module; tests/test_cli_startup.py checks the lines still match the
commands' own help, and which modules `--help` and the listing commands may not import.

**Adding a command** (docs/development.md, "A new command"): write `migrator/cli/<name>_cmd.py`
with either a function (a command) or a `typer.Typer` named `app` (a group); import what is
heavy (the stores, networkx, the transpilers, git) inside the functions that use it, not at
module level; then add one `Entry` to `COMMANDS` with the loader (`_command(module, function)`
or `_group(module)`) and the first paragraph of its help, in the place `--help` should list it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

# a click Command: Click itself, or the copy newer Typer vendors (migrator/cli/compat.py)
Command = Any


@dataclass(frozen=True)
class Entry:
    build: Callable[[str], Command]  # imports the command's module and builds the command
    help: str  # the first paragraph of the command's help, exactly as `migrator --help` shows it


def _command(module: str, function: str, **options: Any) -> Callable[[str], Command]:
    def build(name: str) -> Command:
        single = typer.Typer(add_completion=False)
        single.command(name, **options)(getattr(importlib.import_module(module), function))
        return typer.main.get_command(single)

    return build


def _group(module: str) -> Callable[[str], Command]:
    return lambda name: _named(typer.main.get_group(importlib.import_module(module).app), name)


def _named(group: Command, name: str) -> Command:
    group.name = name  # as `add_typer(name=...)` names it, for help and usage lines
    return group


def _snapshots(name: str) -> Command:
    from migrator.cli import drift_cmd, snapshots_cmd

    snapshots_cmd.app.command("diff")(drift_cmd.snapshots_diff)
    return _named(typer.main.get_group(snapshots_cmd.app), name)


def _plan(name: str) -> Command:
    from migrator.cli import refine_cmd

    return _command("migrator.cli.plan_cmd", "plan", cls=refine_cmd.PlanCommand)(name)


_CMD = "migrator.cli.{}_cmd"
# commands first, then groups, each in the order `migrator --help` has always listed them
COMMANDS: dict[str, Entry] = {
    "discover": Entry(
        _command(_CMD.format("discover"), "discover"),
        "Discover a vCenter into a new inventory snapshot (read-only), or every vCenter of the estate.",
    ),
    "schedule-discovery": Entry(
        _command(_CMD.format("discover"), "schedule_discovery"),
        "Discover a vCenter now and then every interval, on the workers (docs/scale.md).",
    ),
    "worker": Entry(
        _command(_CMD.format("worker"), "worker"),
        "Run queued jobs from the workspace's PostgreSQL (stop: Ctrl-C; running jobs finish first).",
    ),
    "drift": Entry(
        _command(_CMD.format("drift"), "drift"),
        "Where the CMDB and vCenter disagree: CPU, memory, IP, application, environment; CIs without\n"
        "a VM and VMs without a CI.",
    ),
    "size": Entry(
        _command(_CMD.format("size"), "size"),
        "Right-size every VM of a snapshot and price it on AWS, or side by side per --cloud (docs/size.md).",
    ),
    "plan": Entry(
        _plan, "Generate and validate infrastructure code for the waves of the stored plan (docs/plan.md)."
    ),
    "validate": Entry(
        _command(_CMD.format("validate"), "validate"),
        "Validate infrastructure code: parse, schema (Terraform's core, kubeconform or built-in), policies.",
    ),
    "schedule": Entry(
        _command(_CMD.format("schedule"), "schedule"),
        "Schedule every wave of a plan: replication, cutover window, rollback deadline and why; stored.",
    ),
    "findings": Entry(
        _command(_CMD.format("findings"), "findings"),
        "List migratability concerns (critical ones block a VM's generated code).",
    ),
    "interpret": Entry(
        _command(_CMD.format("interpret"), "interpret_cmd"),
        "Read roles, tiers, owners, dependencies and constraints from names, annotations, attributes, tags.",
    ),
    "serve": Entry(
        _command(_CMD.format("serve"), "serve"),
        "Serve the dashboard until interrupted; prints its URL. Ctrl-C stops it (exit 0).",
    ),
    "mcp": Entry(
        _command(_CMD.format("mcp"), "mcp"),
        "Serve migrator's read tools (and with --allow-edits its change tools) to an MCP client.\n"
        "Over stdio unless --http; Ctrl-C stops it.",
    ),
    "import": Entry(_group(_CMD.format("import")), "Import inventories and flow evidence from files."),
    "estate": Entry(
        _group(_CMD.format("estate")),
        "The vCenters of the estate: add, list, remove; duplicates across them.",
    ),
    "inventory": Entry(_group(_CMD.format("inventory")), "Inspect and export an inventory snapshot."),
    "snapshots": Entry(_snapshots, "Discovery and import runs."),
    "flows": Entry(_group(_CMD.format("flows")), "Flow evidence: collect IPFIX, list and remove flow sets."),
    "graph": Entry(
        _group(_CMD.format("graph")), "The dependency graph built from flows, DRS rules and metadata."
    ),
    "waves": Entry(
        _group(_CMD.format("waves")), "Plan migration waves, explain them, pin decisions, compare plans."
    ),
    "edits": Entry(
        _group(_CMD.format("edits")), "Typed changes to the generated plan: add, list, show, revert."
    ),
    "learn": Entry(_group(_CMD.format("learn")), "Corrections learned from reviewers: status, show, forget."),
    "policies": Entry(_group(_CMD.format("policies")), "List and test the policy pack."),
    "pr": Entry(
        _group(_CMD.format("pr")), "Plans as pull requests: land, review, approve, merge (docs/prs.md)."
    ),
    "conversations": Entry(_group(_CMD.format("refine")), "Refinement conversations (docs/agents.md)."),
    "llm": Entry(_group(_CMD.format("llm")), "Chat-model usage (docs/agents.md)."),
    "eval": Entry(_group(_CMD.format("eval")), "Measure migrator against recorded reviews."),
    "jobs": Entry(_group(_CMD.format("jobs")), "Queued work: list, show, cancel, retry (docs/scale.md)."),
    "identities": Entry(
        _group(_CMD.format("identities")),
        "People and their dashboard tokens (team mode): add, list, revoke.",
    ),
    "audit": Entry(
        _group(_CMD.format("audit")),
        "The audit log of state changes (approve, merge, pins, edits, identities).",
    ),
    "handoff": Entry(
        _group(_CMD.format("handoff")),
        "Hand-off files for the tools that move the VMs, completed after apply.",
    ),
}


@cache
def load(name: str) -> Command:
    """The command, built once per process (building `snapshots` registers `diff` on its app)."""
    return COMMANDS[name].build(name)


@cache
def stub(name: str) -> Command:
    """What the root help lists for a command: its name and help line, without importing it."""
    return TyperCommand(name, help=COMMANDS[name].help)


class _Commands(MutableMapping[str, Command]):
    """The group's `commands`: every name known up front, each command built when looked up."""

    def __getitem__(self, name: str) -> Command:
        if name not in COMMANDS:
            raise KeyError(name)
        return load(name)

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)

    def __setitem__(self, name: str, command: Command) -> None:
        raise TypeError("migrator's commands are listed in migrator/cli/lazy.py")

    def __delitem__(self, name: str) -> None:
        raise TypeError("migrator's commands are listed in migrator/cli/lazy.py")


class LazyGroup(TyperGroup):
    """The root group: its commands come from the table above, imported when used; its help
    lists them from the table's help lines (`help_from_table` False: from the commands, for tests)."""

    help_from_table = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands()
        self._formatting = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)  # Typer's own walks `commands.items()`, which builds every command

    def get_command(self, ctx: Any, cmd_name: str) -> Command | None:
        if self._formatting and self.help_from_table and cmd_name in COMMANDS:
            return stub(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._formatting = True  # only while the help is written: running a command loads it
        try:
            super().format_help(ctx, formatter)
        finally:
            self._formatting = False
