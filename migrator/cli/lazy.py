"""The command table, loaded on demand: a command's module (and what it imports: the stores,
pyVmomi, networkx, the transpilers) is imported only when that command runs or help lists it.

Importing every command module took about 1.8 s before any command ran; `migrator validate DIR`
needs none of the others. The table keeps the order `migrator --help` shows.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, MutableMapping
from functools import cache
from typing import Any

import typer
from typer.core import TyperGroup

# a click Command: Click itself, or the copy newer Typer vendors (migrator/cli/compat.py)
Command = Any


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


# commands first, then groups, each in the order `migrator --help` has always listed them
COMMANDS: dict[str, Callable[[str], Command]] = {
    "discover": _command("migrator.cli.discover_cmd", "discover"),
    "schedule-discovery": _command("migrator.cli.discover_cmd", "schedule_discovery"),
    "worker": _command("migrator.cli.worker_cmd", "worker"),
    "drift": _command("migrator.cli.drift_cmd", "drift"),
    "size": _command("migrator.cli.size_cmd", "size"),
    "plan": _plan,
    "validate": _command("migrator.cli.validate_cmd", "validate"),
    "schedule": _command("migrator.cli.schedule_cmd", "schedule"),
    "findings": _command("migrator.cli.findings_cmd", "findings"),
    "interpret": _command("migrator.cli.interpret_cmd", "interpret_cmd"),
    "serve": _command("migrator.cli.serve_cmd", "serve"),
    "import": _group("migrator.cli.import_cmd"),
    "inventory": _group("migrator.cli.inventory_cmd"),
    "snapshots": _snapshots,
    "flows": _group("migrator.cli.flows_cmd"),
    "graph": _group("migrator.cli.graph_cmd"),
    "waves": _group("migrator.cli.waves_cmd"),
    "edits": _group("migrator.cli.edits_cmd"),
    "learn": _group("migrator.cli.learn_cmd"),
    "policies": _group("migrator.cli.policies_cmd"),
    "pr": _group("migrator.cli.pr_cmd"),
    "conversations": _group("migrator.cli.refine_cmd"),
    "llm": _group("migrator.cli.llm_cmd"),
    "eval": _group("migrator.cli.eval_cmd"),
    "identities": _group("migrator.cli.identities_cmd"),
    "audit": _group("migrator.cli.audit_cmd"),
    "jobs": _group("migrator.cli.jobs_cmd"),
}


@cache
def load(name: str) -> Command:
    """The command, built once per process (building `snapshots` registers `diff` on its app)."""
    return COMMANDS[name](name)


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
    """The root group: its commands come from the table above, imported when used."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands()
