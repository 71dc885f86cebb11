"""What moved between two plans, and why (`migrator waves diff`)."""

from __future__ import annotations

from typing import Any


def diff_plans(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    old_of, new_of = _assignments(old), _assignments(new)
    moved = []
    for vm in sorted(set(old_of) & set(new_of)):
        if old_of[vm] != new_of[vm]:
            why = new["vms"].get(vm, {})
            moved.append(
                {
                    "vm": vm,
                    "from": old_of[vm],
                    "to": new_of[vm],
                    "why": why.get("placement", ""),
                    "pinned": bool(why.get("pinned")),
                }
            )
    old_params, new_params = old["plan"]["parameters"], new["plan"]["parameters"]
    changed_params = {
        key: {"from": old_params.get(key), "to": new_params.get(key)}
        for key in sorted(set(old_params) | set(new_params))
        if old_params.get(key) != new_params.get(key)
    }
    old_pins, new_pins = old["plan"].get("pins", {}), new["plan"].get("pins", {})
    return {
        "from_plan": old["plan"]["id"],
        "to_plan": new["plan"]["id"],
        "moved": moved,
        "added": sorted(set(new_of) - set(old_of)),
        "removed": sorted(set(old_of) - set(new_of)),
        "newly_unplaced": sorted({u["vm"] for u in new["unplaced"]} - {u["vm"] for u in old["unplaced"]}),
        "waves": {"from": len(old["waves"]), "to": len(new["waves"])},
        "cross_wave_bytes": {"from": old["cross_wave"]["bytes"], "to": new["cross_wave"]["bytes"]},
        "parameters": changed_params,
        "pins": {
            "added": {vm: w for vm, w in sorted(new_pins.items()) if old_pins.get(vm) != w},
            "removed": sorted(set(old_pins) - set(new_pins)),
        },
    }


def _assignments(doc: dict[str, Any]) -> dict[str, int]:
    return {vm: wave["number"] for wave in doc["waves"] for vm in wave["vms"]}
