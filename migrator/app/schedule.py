"""The wave schedule of a stored plan (docs/schedule.md): compute and store it, read it back,
ask what-if questions of it, export it as iCalendar.

The algorithm is waves.schedule (pure); this module turns typed text into its inputs, a plan
document into its loads, and its result into the stored JSON document (the contract of
`migrator schedule --format json`, the dashboard and PLAN.md).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from migrator.app.workspace import Workspace
from migrator.errors import NotFound, UsageError
from transpilers.registry import for_sizing
from waves.schedule import Schedule, WaveLoad, WaveSlot, schedule
from waves.schedule_inputs import (
    ScheduleInputs,
    check_pacing,
    parse_bandwidth,
    parse_blackout,
    parse_duration,
    parse_start,
    parse_timezone,
    parse_window,
)

SCHEDULE_VERSION = 1
BASES = ("used", "provisioned")
# What no input of the schedule says; PLAN.md and the dashboard repeat it next to the dates.
CANNOT_KNOW = (
    "Change freezes and blackouts that were not given: only the blackouts listed above are avoided.",
    "Replication throttling, other traffic on the link and delta syncs after the initial copy: the "
    "link is assumed to give its usable share to the initial sync for the whole time.",
    "Business approvals, CAB decisions and staff availability: a window is assumed usable once "
    "replication and the dependencies allow it.",
    "How long a cutover really takes: each one is given a whole window.",
)


@dataclass(frozen=True)
class ScheduleRequest:
    """The schedule's inputs as a user types them (CLI options, dashboard fields)."""

    start: str
    windows: tuple[str, ...]
    bandwidth: str
    blackouts: tuple[str, ...] = ()
    parallel_waves: int = 1
    per_window: int = 1
    settle: str = "24h"
    timezone: str = "UTC"
    basis: str = "used"  # which disk size replication moves: used (where known) or provisioned
    plan_id: int | None = None  # None: the latest plan

    def inputs(self) -> ScheduleInputs:
        """Parsed and checked; every bad value is a UsageError naming its field."""
        parse_timezone(self.timezone)
        if self.basis not in BASES:
            raise UsageError(f"{{basis}} {self.basis!r}: used or provisioned", field="basis")
        check_pacing(self.parallel_waves, self.per_window, len(self.windows), len(self.blackouts))
        return ScheduleInputs(
            start=parse_start(self.start, self.timezone),
            windows=tuple(parse_window(w) for w in self.windows),
            bandwidth_mbps=parse_bandwidth(self.bandwidth),
            blackouts=tuple(parse_blackout(b) for b in self.blackouts),
            parallel_waves=self.parallel_waves,
            per_window=self.per_window,
            settle=parse_duration(self.settle),
            timezone=self.timezone,
            basis=self.basis,
        )


def wave_loads(document: dict[str, Any], basis: str) -> list[WaveLoad]:
    """Each wave's data and the earlier waves it depends on, from a plan document (waves-json):
    `used` is the plan's replicate_gb (committed space where the inventory has it, else the
    provisioned size), `provisioned` its storage_gb. As in the planner's dependency order, a
    dependency on a shared service does not order waves (every wave reaches it where it is)."""
    shared = {s["vm"] for s in document.get("shared_services", [])}
    depends: dict[int, set[int]] = defaultdict(set)
    for info in document.get("vms", {}).values():
        for edge in info.get("depends_on", []):
            other = edge.get("wave")
            if other is not None and other != info["wave"] and edge["vm"] not in shared:
                depends[info["wave"]].add(int(other))
    key = "replicate_gb" if basis == "used" else "storage_gb"
    return [
        WaveLoad(w["number"], w["name"], float(w["metrics"][key]), tuple(sorted(depends[w["number"]])))
        for w in document["waves"]
    ]


def compute(document: dict[str, Any], inputs: ScheduleInputs) -> dict[str, Any]:
    """The schedule document of a plan document (nothing stored)."""
    result = schedule(wave_loads(document, inputs.basis), inputs)
    return schedule_document(document, result)


def schedule_document(plan: dict[str, Any], result: Schedule) -> dict[str, Any]:
    end = result.end
    return {
        "version": SCHEDULE_VERSION,
        "plan_id": plan["plan"]["id"],
        "inputs": result.inputs.as_dict(),
        "end": end.isoformat() if end else None,
        "runbook_target": runbook_target(plan),
        "waves": [_wave_json(w) for w in result.waves],
        "cannot_know": list(CANNOT_KNOW),
    }


def _wave_json(w: WaveSlot) -> dict[str, Any]:
    return {
        "number": w.number,
        "name": w.name,
        "gigabytes": w.gigabytes,
        "depends_on": list(w.depends_on),
        "replication_start": w.replication_start.isoformat(),
        "replication_end": w.replication_end.isoformat(),
        "replication_hours": round((w.replication_end - w.replication_start).total_seconds() / 3600, 2),
        "link_shares": [
            {"start": s.start.isoformat(), "end": s.end.isoformat(), "mbps": round(s.mbps, 3)}
            for s in w.shares
        ],
        "window": w.window,
        "cutover_start": w.cutover_start.isoformat(),
        "cutover_end": w.cutover_end.isoformat(),
        "rollback_deadline": w.rollback_deadline.isoformat(),
        "why": [{"kind": r.kind, "text": r.text} for r in w.reasons],
    }


def runbook_target(plan: dict[str, Any]) -> str:
    """The code target whose wave folders hold the runbooks (PLAN.md): the plan's sizing target's."""
    sizing = plan["plan"]["parameters"].get("target") or "aws"
    return for_sizing(sizing) or sizing


def runbook_link(target: str, wave: int, base: str = "") -> str:
    """Where a wave's cutover runbook is in the plans repository (`base`: its web address, if any)."""
    prefix = base.rstrip("/") + "/" if base else ""
    return f"{prefix}{target}/wave-{wave:02d}/PLAN.md#cutover-runbook"


def schedule_plan(ws: Workspace, req: ScheduleRequest) -> dict[str, Any]:
    """`migrator schedule`: compute the schedule of a stored plan and store it with the plan."""
    inputs = req.inputs()
    plan = ws.plans.get(req.plan_id)
    document = compute(plan, inputs)
    return ws.schedules.save(int(plan["plan"]["id"]), inputs.as_dict(), document)


def stored_schedule(ws: Workspace, plan_id: int | None = None) -> dict[str, Any]:
    """The newest stored schedule of a plan (None: the latest plan)."""
    plan = ws.plans.get(plan_id)
    found = ws.schedules.latest(int(plan["plan"]["id"]))
    if found is None:
        raise NotFound(f"no schedule for plan {plan['plan']['id']} yet: run `migrator schedule`")
    return found


def cutover_times(ws: Workspace, plan_id: int | None = None) -> dict[int, datetime]:
    """Each wave's cutover start (aware, in the schedule's time zone) from the stored schedule of
    the plan (None: the latest plan). NotFound when the plan has no schedule yet."""
    document = stored_schedule(ws, plan_id)
    return {w["number"]: datetime.fromisoformat(w["cutover_start"]) for w in document["waves"]}


def stored_cutovers(ws: Workspace, plan_id: int) -> dict[int, datetime]:
    """`cutover_times`, or none when the plan has no schedule (generation runs without one)."""
    try:
        return cutover_times(ws, plan_id)
    except NotFound:
        return {}


@dataclass(frozen=True)
class WhatIf:
    """A changed bandwidth or window list against the stored schedule (nothing is stored)."""

    bandwidth: str | None = None
    windows: tuple[str, ...] | None = None


def what_if(ws: Workspace, change: WhatIf, plan_id: int | None = None) -> dict[str, Any]:
    """The stored schedule recomputed with `change`: both end dates and every wave whose cutover moved."""
    before = stored_schedule(ws, plan_id)
    inputs = ScheduleInputs.from_dict(before["inputs"])
    if change.bandwidth is not None:
        inputs = replace(inputs, bandwidth_mbps=parse_bandwidth(change.bandwidth))
    if change.windows is not None:
        check_pacing(inputs.parallel_waves, inputs.per_window, len(change.windows), len(inputs.blackouts))
        inputs = replace(inputs, windows=tuple(parse_window(w) for w in change.windows))
    after = compute(ws.plans.get(before["plan_id"]), inputs)
    old = {w["number"]: w for w in before["waves"]}
    moved = [
        {"number": w["number"], "before": old[w["number"]]["cutover_start"], "after": w["cutover_start"]}
        for w in after["waves"]
        if w["number"] in old and old[w["number"]]["cutover_start"] != w["cutover_start"]
    ]
    return {
        "before": before,
        "after": after,
        "end_before": before["end"],
        "end_after": after["end"],
        "moved": moved,
    }
