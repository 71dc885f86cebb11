"""What PLAN.md says about chat models for one wave: usage for the plan, and every injection
attempt in the wave's inventory text or model answer that was refused (docs/agents.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from agents.safety import CATALOGUE, allowed_fields, detect
from migrator.app.interpret import recorded, wave_facts
from migrator.app.workspace import Workspace
from migrator.store.conversations import ConversationStore
from waves.facts import NameIndex, facts_of
from waves.parameters import PlanParameters

SUMMED = ("calls", "prompt_tokens", "completion_tokens", "cost_usd")


@dataclass(frozen=True)
class ModelReport:
    usage: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    facts: list[dict[str, Any]] = field(default_factory=list)  # per VM: its facts with their source


def model_report(
    ws: Workspace, plan_id: int, snapshot: int, wave_vms: list[dict[str, Any]], target: str, wave: int
) -> ModelReport:
    rows = ws.llm.for_plan(plan_id, snapshot)
    findings = _text_findings(ws, snapshot, wave_vms, {_vm_of(r) for r in rows if r["task"] == "interpret"})
    findings += _refused_interpretations(rows, {str(v.get("name")) for v in wave_vms})
    findings += _refused_refinements(ws, plan_id, target, wave)
    facts = [f.as_dict() for f in wave_facts(ws, [str(v.get("name")) for v in wave_vms], snapshot)]
    return ModelReport(usage_by_command(rows), _unique(findings), facts)


def _text_findings(
    ws: Workspace, snapshot: int, wave_vms: list[dict[str, Any]], asked: set[str]
) -> list[dict[str, Any]]:
    """Injection attempts in each VM's text; for a VM a model was asked about, also the facts its
    recorded answer had refused (replayed; the name index is built only then: it costs a pass)."""
    params, names, out = PlanParameters(), None, []
    for record in wave_vms:
        name = str(record.get("name"))
        if name not in asked:
            out += [f.as_dict() for f in detect(name, allowed_fields(record))]
            continue
        if names is None:
            names = NameIndex(facts_of(v, params) for v in ws.store.records(snapshot, "vms"))
        it, _answer = recorded(ws, record, snapshot, params, names)
        out += [f.as_dict() for f in it.findings]
    return out


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


def _refused_refinements(ws: Workspace, plan_id: int, target: str, wave: int) -> list[dict[str, Any]]:
    """Every refused attempt of `plan refine` on this wave: what the guardrails said."""
    out = []
    for conv in ConversationStore(ws.engine).all():
        if (conv.plan_id, conv.target, conv.wave) != (plan_id, target, wave):
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
