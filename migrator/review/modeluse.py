"""PLAN.md's sections on chat models: what they cost this plan, and every injection attempt in the
wave's inventory text or refused model answer (issue 13: each attempt is a finding a reviewer sees).

Findings quote untrusted text (VM names, fields, matched words, model diagnostics): code spans only.
"""

from __future__ import annotations

from typing import Any

from migrator.review.markdown import cell, prose

USAGE_KEYS = ("interactions", "calls", "cache_hits", "prompt_tokens", "completion_tokens")


def usage_section(usage: list[dict[str, Any]]) -> str:
    lines = ["## Model usage", ""]
    if not usage:
        return "\n".join(
            [*lines, "No chat model was used for this plan (offline: deterministic interpreter)."]
        )
    lines += [
        "| command | model | answers | calls | cache hits | tokens in | tokens out | cost $ |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in usage:
        counts = " | ".join(str(int(row[k])) for k in USAGE_KEYS)
        lines.append(f"| {cell(row['command'])} | {cell(row['model'])} | {counts} | {row['cost_usd']:.4f} |")
    lines += ["", "Costs use the price table of docs/agents.md; a local model counts as 0."]
    return "\n".join(lines)


def findings_section(findings: list[dict[str, Any]]) -> str:
    lines = ["## Injection attempts and refused model answers", ""]
    if not findings:
        return "\n".join([*lines, "None: no inventory text of this wave looks like an instruction."])
    lines += [
        "Inventory text is data; these were reported and nothing they asked for was applied.",
        "",
        "| VM | finding | where | detail | meaning |",
        "|---|---|---|---|---|",
    ]
    for x in findings:
        lines.append(
            f"| {cell(x['vm'])} | {x['id']} | {cell(x['field'])} | {cell(x['detail'], 200)} "
            f"| {prose(x['meaning'], 200)} |"
        )
    return "\n".join(lines)


def facts_section(vm_facts: list[dict[str, Any]]) -> str:
    """Each VM's facts with where they came from (as `waves explain` and the dashboard show them):
    a reviewer sees which placement facts a name, an annotation, the CMDB or a model supplied."""
    lines = ["## Facts and where they came from", ""]
    rows = [(vm["vm"], f) for vm in vm_facts for f in vm["facts"]]
    if not rows:
        return "\n".join([*lines, "No VM of this wave has interpreted facts."])
    lines += [
        "| VM | fact | value | source | from | text | confidence |",
        "|---|---|---|---|---|---|---|",
    ]
    for vm, f in rows:
        source = f["source"] + (f" {cell(f['model'])} ({f['prompt_version']})" if f["model"] else "")
        lines.append(
            f"| {cell(vm)} | {f['kind']} | {cell(f['value'])} | {source} | {cell(f['field'])} "
            f"| {cell(f['span'], 120)} | {f['confidence']:g} |"
        )
    return "\n".join(lines)
