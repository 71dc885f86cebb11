"""A planned dashboard workspace with a hostile CMDB imported (and the plan re-made with its facts)."""

from __future__ import annotations

import csv
from pathlib import Path

from migrator.app.cmdb import import_cmdb
from migrator.app.planning import plan_waves
from migrator.app.workspace import Workspace
from tests.web_helpers import BREAKER, FIXTURES, HOSTILE_APP, HOSTILE_VM, SCRIPT, planned_workspace
from waves.parameters import PlanParameters

CMDB_SCRIPT = "<script>alert('cmdb')</script>"
ORPHAN_CI = f"{BREAKER}ci"  # a CI with no VM, with an attribute breaker in its name


def hostile_cmdb(path: Path) -> Path:
    """The demo CMDB export plus hostile values: a CI named with markup, a script as an
    application, an attribute breaker as an owner, a javascript: environment."""
    with (FIXTURES / "cmdb" / "demo-cmdb.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    for row in body:
        if row[0] == "crm-app-01":
            row[1], row[3], row[7] = CMDB_SCRIPT, BREAKER, "99"  # application, owner, CPU count
    body.append([HOSTILE_VM, "crm", HOSTILE_APP, SCRIPT, "x", "3 - less critical", "1", "1", "1024", ""])
    body.append([ORPHAN_CI, "orphan", "prod", "nobody", "x", "3 - less critical", "1", "2", "2048", ""])
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *body])
    return path


def cmdb_workspace(folder: Path) -> Workspace:
    ws = planned_workspace(folder, land=False)
    import_cmdb(ws, hostile_cmdb(folder.parent / "cmdb.csv"))
    plan_waves(ws, PlanParameters(target="kubevirt"))  # the plan now carries the CMDB's facts
    return ws
