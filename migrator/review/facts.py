"""What a landing changed, for the commit message: VMs, shapes, findings, diagnostics.

Facts are computed from the stored plan and the generated wave; the previous landing's facts
are kept on the PR record, so a re-land can say "shop-db-02: r6i.xlarge -> r6i.2xlarge".
"""

from __future__ import annotations

from typing import Any

from transpilers.escape import one_line
from transpilers.model import WaveInput


def wave_facts(
    language: str, wave: WaveInput, findings: list[str], diagnostics: list[dict[str, Any]], status: str
) -> dict[str, Any]:
    shapes = {}
    for vm in wave.vms:
        s = vm.sizing
        if vm.name in wave.blocked:
            shapes[vm.name] = "blocked"
        elif language == "terraform":
            shapes[vm.name] = str(s["aws"]["instance_type"] or "none fits")
        else:
            shapes[vm.name] = f"{s['kubevirt']['cores']} cores, {s['kubevirt']['memory_guest']}"
    return {
        "vms": shapes,
        "findings": sorted(set(findings)),
        "diagnostics": sorted(
            {f"{d['severity']} {d['rule']} {d.get('resource') or ''}".strip() for d in diagnostics}
        ),
        "status": status,
    }


def _names(items: list[str] | set[str], limit: int = 8) -> str:
    shown = [one_line(x, 80) for x in sorted(items)[:limit]]
    return ", ".join(shown) + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


def change_summary(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """Lines for the commit message; empty when nothing of substance changed."""
    if not old:
        return [f"First landing: {len(new['vms'])} VM(s), status {new['status']}."]
    lines = []
    before, after = old.get("vms") or {}, new["vms"]
    if added := set(after) - set(before):
        lines.append(f"VMs added: {_names(added)}")
    if removed := set(before) - set(after):
        lines.append(f"VMs removed: {_names(removed)}")
    shapes = [
        f"{one_line(vm, 80)}: {before[vm]} -> {after[vm]}"
        for vm in sorted(after)
        if vm in before and before[vm] != after[vm]
    ]
    if shapes:
        lines.append("Shapes changed: " + "; ".join(shapes[:8]) + (" ..." if len(shapes) > 8 else ""))
    for key, label in (("findings", "Findings"), ("diagnostics", "Diagnostics")):
        gone = set(old.get(key) or []) - set(new[key])
        came = set(new[key]) - set(old.get(key) or [])
        if came or gone:
            lines.append(
                f"{label} changed: +{len(came)} -{len(gone)}" + (f" (new: {_names(came, 4)})" if came else "")
            )
    if old.get("status") != new["status"]:
        lines.append(f"Status: {old.get('status')} -> {new['status']}")
    return lines
