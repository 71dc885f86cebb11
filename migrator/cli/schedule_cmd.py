"""`migrator schedule`: when each wave of a plan replicates and cuts over (docs/schedule.md)."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from migrator.app.schedule import ScheduleRequest, schedule_plan
from migrator.app.schedule_ics import to_ics
from migrator.cli.context import state
from migrator.cli.options import PLAN_OPTION
from migrator.cli.output import Format, dump_json, render


class ScheduleFormat(StrEnum):
    table = "table"
    json = "json"
    ics = "ics"


COLUMNS = [
    ("number", "Wave"),
    ("name", "Name"),
    ("gigabytes", "GB"),
    ("replication", "Replication"),
    ("cutover", "Cutover"),
    ("rollback_deadline", "Rollback deadline"),
    ("depends_on", "Depends on"),
]


def _short(iso: str) -> str:
    return iso[:16].replace("T", " ")


def _row(wave: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": wave["number"],
        "name": wave["name"],
        "gigabytes": wave["gigabytes"],
        "replication": f"{_short(wave['replication_start'])} to {_short(wave['replication_end'])}",
        "cutover": f"{_short(wave['cutover_start'])} to {_short(wave['cutover_end'])}",
        "rollback_deadline": _short(wave["rollback_deadline"]),
        "depends_on": [str(n) for n in wave["depends_on"]],
    }


# the options, defined once here so that the command stays a short parse-call-render
_START = typer.Option(..., "--start", help="First day replication may start (2027-01-11).")
_WINDOW = typer.Option(..., "--window", help="A weekly cutover window, 'Sat 22:00-06:00' (repeatable).")
_BANDWIDTH = typer.Option(..., "--bandwidth", help="The replication link shared by all waves, e.g. 2Gbps.")
_BLACKOUT = typer.Option([], "--blackout", help="Days with no cutover, 2027-02-01..2027-02-07 (repeatable).")
_PARALLEL = typer.Option(1, "--parallel-waves", help="Waves replicating at once (sharing the link).")
_PER_WINDOW = typer.Option(1, "--per-window", help="Cutovers in one window.")
_SETTLE = typer.Option("24h", "--settle", help="After a cutover: rollback possible, dependents wait.")
_TIMEZONE = typer.Option("UTC", "--timezone", help="IANA zone of the windows and blackouts.")
_BASIS = typer.Option("used", "--basis", help="Disk size replicated: used (where known) or provisioned.")
_RUNBOOK_BASE = typer.Option("", "--runbook-base", help="Web address of the plans repository (ics links).")
_FORMAT = typer.Option(ScheduleFormat.table, "--format", help="table, json or ics.")


def schedule(
    ctx: typer.Context,
    start: str = _START,
    window: list[str] = _WINDOW,
    bandwidth: str = _BANDWIDTH,
    blackout: list[str] = _BLACKOUT,
    parallel_waves: int = _PARALLEL,
    per_window: int = _PER_WINDOW,
    settle: str = _SETTLE,
    timezone: str = _TIMEZONE,
    basis: str = _BASIS,
    runbook_base: str = _RUNBOOK_BASE,
    fmt: ScheduleFormat = _FORMAT,
    plan: int = PLAN_OPTION,
) -> None:
    """Schedule every wave of a plan: replication, cutover window, rollback deadline and why; stored."""
    request = ScheduleRequest(
        start,
        tuple(window),
        bandwidth,
        tuple(blackout),
        parallel_waves,
        per_window,
        settle,
        timezone,
        basis,
        plan,
    )
    document = schedule_plan(state(ctx), request)
    if fmt is ScheduleFormat.ics:
        sys.stdout.buffer.write(to_ics(document, runbook_base))
    elif fmt is ScheduleFormat.json:
        dump_json(document)
    else:
        _table(document)


def _table(document: dict[str, Any]) -> None:
    rows = [_row(w) for w in document["waves"]]
    render(
        rows,
        COLUMNS,
        Format.table,
        title=f"Schedule {document['schedule']['id']} of plan {document['plan_id']}",
    )
    out = Console(highlight=False, soft_wrap=True)
    for wave in document["waves"]:
        out.print(Text(f"wave {wave['number']}: " + "; ".join(w["text"] for w in wave["why"])))
    out.print(Text(f"last cutover window ends {document['end']}"))
