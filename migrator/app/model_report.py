"""What PLAN.md says about chat models for one wave: usage for the plan, and every injection
attempt in the wave's inventory text or model answer that was refused (docs/agents.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from agents.interpreter.safety import CATALOGUE
from migrator.app.interpret import wave_facts
from migrator.app.workspace import Workspace
from migrator.store.conversations import ConversationStore
from migrator.store.models import Conversation

SUMMED = ("calls", "prompt_tokens", "completion_tokens", "cost_usd")


@dataclass(frozen=True)
class ModelReport:
    usage: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    facts: list[dict[str, Any]] = field(default_factory=list)  # per VM: its facts with their source


@dataclass(frozen=True)
class PlanModelRecords:
    """What chat models did for one plan and target, read once for all of its waves."""

    snapshot: int
    rows: list[dict[str, Any]]  # the plan's interactions (ws.llm.for_plan)
    refinements: list[Conversation]  # `plan refine` on this plan and target
    usage: list[dict[str, Any]]  # per command and model, for the whole plan


def plan_model_records(ws: Workspace, plan_id: int, snapshot: int, target: str) -> PlanModelRecords:
    rows = ws.llm.for_plan(plan_id, snapshot)
    refinements = [
        c for c in ConversationStore(ws.engine).all() if (c.plan_id, c.target) == (plan_id, target)
    ]
    return PlanModelRecords(snapshot, rows, refinements, usage_by_command(rows))


def model_report(
    ws: Workspace, models: PlanModelRecords, wave_vms: list[dict[str, Any]], wave: int
) -> ModelReport:
    facts = wave_facts(ws, [str(v.get("name")) for v in wave_vms], models.snapshot)
    # Each VM's injection attempts and refused model facts, exactly as `waves explain` shows them.
    findings = [finding for vm in facts for finding in vm.findings]
    findings += _refused_interpretations(models.rows, {str(v.get("name")) for v in wave_vms})
    findings += _refused_refinements(models.refinements, wave)
    return ModelReport(models.usage, _unique(findings), [f.as_dict() for f in facts])


def _vm_of(row: dict[str, Any]) -> str:
    return str((row.get("provenance") or {}).get("vm"))


def usage_by_command(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (command, model): answers (cache hits included), calls, cache hits, tokens and cost."""
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (str(row["command"]), str(row["model"]))
        total = table.setdefault(key, {"command": key[0], "model": key[1], "interactions": 0,
                                       "cache_hits": 0, **dict.fromkeys(SUMMED, 0)})  # fmt: skip
        total["interactions"] += 1
        total["cache_hits"] += int(bool(row["cache_hit"]))
        for k in SUMMED:
            total[k] += row[k] or 0
    return [table[k] for k in sorted(table)]


def _refused_interpretations(rows: Iterable[dict[str, Any]], vms: set[str]) -> list[dict[str, Any]]:
    """Answers about the wave's VMs the schema refused even after the re-ask."""
    out = []
    for row in rows:
        vm = _vm_of(row)
        if row["task"] == "interpret" and row["outcome"] == "fallback" and vm in vms:
            detail = "; ".join(row.get("validator") or []) or "no valid answer"
            out.append(_finding("LLM-OUT-SCHEMA", vm, "answer", detail))
    return out


def _refused_refinements(refinements: list[Conversation], wave: int) -> list[dict[str, Any]]:
    """Every refused attempt of `plan refine` on this wave: what the guardrails said."""
    out = []
    for conv in refinements:
        if conv.wave != wave:
            continue
        for n, attempt in enumerate(conv.attempts, 1):
            for d in attempt.get("diagnostics") or []:
                where = f"refinement {conv.id} attempt {n}" + (f" {d['file']}" if d.get("file") else "")
                out.append(_finding(str(d["rule"]), f"wave {wave}", where, str(d["message"])))
    return out


def _finding(fid: str, vm: str, where: str, detail: str) -> dict[str, Any]:
    meaning = CATALOGUE.get(fid, "a refused model answer: nothing of it was written")
    return {"id": fid, "vm": vm, "field": where, "detail": detail[:300], "meaning": meaning}


def _unique(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[tuple[str, ...], dict[str, Any]] = {}
    for f in findings:
        seen.setdefault((f["vm"], f["id"], f["field"], f["detail"]), f)
    return list(seen.values())
