"""What `migrator mcp` (docs/mcp.md) needs beyond the other front ends' use cases: inventory search
with filters, a preview of edits that stores nothing, a wave's verdict, and the record of each
tool call (kept with the model calls, so `migrator llm usage` shows them by client).

Everything else an MCP tool does is an existing use case (inventory, waves, findings, sizing,
edits, prs); the MCP server only adapts arguments and answers.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agents.generator.transpiler_agent import run_wave
from agents.validator import ValidatorOptions
from migrator.app.edits import active_edits, for_target, for_wave, plan_problems
from migrator.app.generation import planned_inputs, stored_options
from migrator.app.workspace import Workspace
from migrator.diagnostics import Diagnostic
from migrator.errors import NotFound, UsageError
from migrator.store.models import LLMInteraction
from policies.engine import blocking, source_findings
from transpilers.base import Transpiler
from transpilers.edits import apply_edits
from transpilers.model import TargetOptions, VMInput, WaveInput
from transpilers.registry import TARGETS, get, target_options
from transpilers.terraform_azure import azure_choice
from transpilers.terraform_google import gcp_choice
from waves.edits import Edit

TOOL_TASK = "mcp"  # llm_interactions.task of a tool call
DIFF_CAP = 400_000  # characters of a preview's diff kept (the tool pages it)


@dataclass(frozen=True)
class VMFilter:
    """Inventory search: every given filter must match (case-insensitive substrings, tags exact)."""

    application: str | None = None
    tier: str | None = None
    os: str | None = None
    datastore: str | None = None
    tag: str | None = None
    name: str | None = None
    vcenter: str | None = None  # exact (case-insensitive): the vCenter a VM was read from


def search_vms(
    ws: Workspace, wanted: VMFilter, snapshot: int | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """(snapshot id, the summaries of the VMs every filter matches). Application and tier are the
    planner's reading (custom attributes, tags, names) where a plan of that snapshot exists."""
    snap = ws.store.get(snapshot)
    assert snap.id is not None
    planned = _planned_facts(ws, snap.id)
    # an estate snapshot stamps each VM with its vCenter; a one-vCenter snapshot names it once
    origin = snap.server if snap.source == "vcenter" else None
    found = []
    for vm in ws.store.records(snap.id, "vms"):
        row = _summary(vm, planned.get(str(vm.get("name")), {}), origin)
        if _matches(row, wanted):
            found.append(row)
    return snap.id, found


def _planned_facts(ws: Workspace, snapshot_id: int) -> dict[str, dict[str, Any]]:
    if not ws.plans.ids():
        return {}
    document = ws.plans.get(None)
    return document["vms"] if int(document["plan"]["snapshot_id"]) == snapshot_id else {}


def _summary(vm: dict[str, Any], placed: dict[str, Any], origin: str | None) -> dict[str, Any]:
    custom = vm.get("custom_fields") or {}
    return {
        "name": str(vm.get("name")),
        "vcenter": vm.get("vcenter") or origin,
        "application": placed.get("app") or custom.get("app"),
        "tier": custom.get("tier") or custom.get("role"),
        "env": placed.get("env") or custom.get("env"),
        "os": vm.get("guest_os") or vm.get("guest_id"),
        "power_state": vm.get("power_state"),
        "vcpu": vm.get("num_cpu"),
        "memory_mb": vm.get("memory_mb"),
        "datastores": sorted({str(d.get("datastore")) for d in vm.get("disks") or [] if d.get("datastore")}),
        "tags": [str(t) for t in vm.get("tags") or []],
        "wave": placed.get("wave"),
    }


def _matches(row: dict[str, Any], wanted: VMFilter) -> bool:
    def has(value: object, needle: str | None) -> bool:
        return needle is None or needle.casefold() in str(value or "").casefold()

    return (
        has(row["application"], wanted.application)
        and has(row["tier"], wanted.tier)
        and has(row["os"], wanted.os)
        and has(row["name"], wanted.name)
        and (wanted.datastore is None or any(has(d, wanted.datastore) for d in row["datastores"]))
        and (wanted.tag is None or wanted.tag in row["tags"])
        and (wanted.vcenter is None or wanted.vcenter.casefold() == str(row["vcenter"] or "").casefold())
    )


@dataclass(frozen=True)
class EditPreview:
    target: str
    wave: int
    problems: list[dict[str, Any]]  # the edits against the plan, the wave and the validators
    diff: str  # unified diff of the wave's files, current edits -> current and proposed edits
    files_changed: list[str] = field(default_factory=list)
    # the wave's estimate on the target's cloud (USD a month, as PLAN.md's cost table): before,
    # after, change (AWS's for kubevirt and terraform-openstack, as before)
    cost: dict[str, float] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return not self.problems


def preview_edits(
    ws: Workspace, target: str, wave: int, edits: list[Edit], use_tools: bool = True
) -> EditPreview:
    """The wave rendered and validated with its current edits and then with `edits` too; nothing is
    stored. Problems are those the proposal adds (the VM or disk is missing, a validator or guardrail
    fails); the diff is what the proposal changes in the generated files."""
    if target not in TARGETS:
        raise UsageError(f"unknown target {target!r}: use one of {', '.join(TARGETS)}", field="target")
    transpiler = get(target)  # resolved once: both renders below use it
    planned = planned_inputs(ws, None)
    found = next((w for w in planned.waves if w.number == wave), None)
    if found is None:
        raise NotFound(f"wave {wave} is not in plan {planned.plan_id}")
    problems = [d for e in edits for d in plan_problems(ws, e)]
    if problems:
        return EditPreview(target, wave, [d.as_dict() for d in problems], "")
    records = [vm.record for vm in found.vms]
    found = replace(found, blocked=blocking(source_findings(records, planned.clusters, target)))
    options = target_options(stored_options(ws, planned, target, wave))
    names = {vm.name for vm in found.vms}
    current = [e.edit for e in for_wave(for_target(active_edits(ws), target), wave, names)]
    before, base_errors, was = _render(transpiler, found, options, current, use_tools)
    after, errors, now = _render(transpiler, found, options, [*current, *edits], use_tools)
    added = [d.as_dict() for d in errors if d not in base_errors]
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    cost = {"before_usd": round(was, 2), "after_usd": round(now, 2), "change_usd": round(now - was, 2)}
    return EditPreview(target, wave, added, _diff(before, after, changed), changed, cost)


def _render(
    transpiler: Transpiler, wave: WaveInput, options: TargetOptions, edits: list[Edit], use_tools: bool
) -> tuple[dict[str, str], list[Diagnostic], float]:
    """(files, errors, the wave's monthly estimate on the target's cloud) with `edits` applied."""
    applied = apply_edits(wave, options, edits)
    monthly = sum(_monthly(transpiler.meta.cloud, vm) for vm in applied.wave.vms)
    if applied.refused:
        refused = [
            Diagnostic("edit", "EDIT-NOT-IN-WAVE", "error", "", None, w) for w in applied.refused.values()
        ]
        return {}, refused, monthly
    with tempfile.TemporaryDirectory(prefix="migrator-preview-") as tmp:
        result = run_wave(
            transpiler,
            applied.wave,
            applied.options,
            Path(tmp) / "wave",
            max_attempts=1,
            validator=ValidatorOptions(use_tools=use_tools),
        )
    return result.files, [d for d in result.diagnostics if d.severity == "error"], monthly


def _monthly(cloud: str, vm: VMInput) -> float:
    """One VM's monthly price where the target's cloud is priced, as PLAN.md's cost table shows it
    (Azure and Google from their catalogues, after any size edit; AWS's otherwise)."""
    if cloud == "azure":
        return float(azure_choice(vm)["monthly_usd"] or 0)
    if cloud == "gcp":
        return float(gcp_choice(vm)["monthly_usd"] or 0)
    return float((vm.sizing.get("aws") or {}).get("monthly_usd") or 0)


def _diff(before: dict[str, str], after: dict[str, str], paths: list[str]) -> str:
    chunks: list[str] = []
    for path in paths:
        chunks += difflib.unified_diff(
            before.get(path, "").splitlines(keepends=True),
            after.get(path, "").splitlines(keepends=True),
            f"a/{path}",
            f"b/{path}",
        )
    return "".join(chunks)[:DIFF_CAP]


def wave_verdict(ws: Workspace, target: str, wave: int) -> dict[str, Any]:
    """The validators' verdict on a wave as last generated for the latest plan."""
    document = ws.plans.get(None)
    plan_id = int(document["plan"]["id"])
    found = [r for r in ws.generated.latest(plan_id, target) if r["wave"] == wave]
    if not found:
        raise NotFound(
            f"wave {wave} of plan {plan_id} was not generated for {target}: land it or run migrator plan"
        )
    return found[0]


class RateLimiter:
    """At most `per_minute` calls per client in any sliding minute (a runaway agent loop stops here)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._calls: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def admit(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._calls.get(client, []) if now - t < 60]
            admitted = len(recent) < self.per_minute
            if admitted:
                recent.append(now)
            self._calls[client] = recent
        return admitted


def record_tool_call(
    ws: Workspace,
    client: str,
    tool: str,
    arguments: dict[str, Any],
    outcome: str,
    latency_ms: int,
    why: str = "",
) -> None:
    """One tool call as an interaction: task `mcp`, command `mcp TOOL`, model `mcp:CLIENT`; the
    arguments only as a hash (they may be long, and are the client's data)."""
    digest = hashlib.sha256(json.dumps(arguments, sort_keys=True, default=str).encode()).hexdigest()
    ws.llm.record(
        LLMInteraction(
            at=datetime.now(UTC),
            task=TOOL_TASK,
            command=f"mcp {tool}",
            model=f"mcp:{client}",
            prompt_version="",
            input_hash=digest,
            outcome=outcome,
            validator=[why[:300]] if why else [],
            calls=1,
            latency_ms=latency_ms,
        )
    )
