"""`migrator interpret`: typed facts from VM text, with their spans and where they came from."""

from __future__ import annotations

import typer

from migrator.app.interpret import interpret
from migrator.cli.context import state
from migrator.cli.options import SNAPSHOT_OPTION
from migrator.cli.output import Format, render
from migrator.errors import UsageError

COLUMNS = [("vm", "VM"), ("kind", "Fact"), ("value", "Value"), ("confidence", "Conf."), ("field", "Field"),
           ("span", "Text"), ("origin", "Origin")]  # fmt: skip


def interpret_cmd(
    ctx: typer.Context,
    vm: str = typer.Argument(None, help="The VM to interpret."),
    all_vms: bool = typer.Option(False, "--all", help="Every VM of the snapshot."),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv."),
    snapshot: int = SNAPSHOT_OPTION,
) -> None:
    """Read roles, tiers, owners, dependencies and constraints from names, annotations, attributes, tags."""
    if (vm is None) == (not all_vms):
        raise UsageError("name one VM or pass --all")
    result = interpret(state(ctx), None if all_vms else vm, snapshot)
    rows = [{"vm": i.vm, **f.as_dict()} for i in result.interpretations for f in i.facts]
    for it in result.interpretations:
        rows += [{"vm": it.vm, "kind": "conflict", "value": c, "origin": "check"} for c in it.conflicts]
        rows += [
            {
                "vm": f.vm,
                "kind": "finding",
                "value": f.id,
                "field": f.field,
                "span": f.detail,
                "origin": "check",
            }
            for f in it.findings
        ]
    title = f"Snapshot {result.snapshot_id}: {len(rows)} fact(s) and finding(s), {result.model or 'offline'}"
    render(rows, COLUMNS, fmt, title=title, json_payload=result.as_dict())
