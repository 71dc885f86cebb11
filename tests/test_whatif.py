"""What-if pinning: a preview re-plans without storing anything; applying stores the pin and a new
plan exactly as `waves pin` + `waves plan` do, and matches the preview."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator.app.planning import plan_waves
from migrator.app.whatif import apply_pin, apply_unpin, preview_pin, preview_unpin
from migrator.errors import NotFound
from tests.drift_helpers import demo_workspace
from waves.parameters import PlanParameters


def _assignment(doc: dict) -> dict[str, int]:
    return {vm: w["number"] for w in doc["waves"] for vm in w["vms"]}


def test_preview_stores_nothing_and_apply_matches_it(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    current = plan_waves(ws, PlanParameters(max_vms=12)).document
    assert current["vms"]["crm-web-01"]["wave"] == 3

    preview = preview_pin(ws, "CRM-WEB-01", 2)  # found case-insensitively, like `waves pin`

    assert ws.plans.ids() == [current["plan"]["id"]] and ws.plans.pins() == {}
    assert (preview.vm, preview.wave, preview.plan_id) == ("crm-web-01", 2, current["plan"]["id"])
    moved = {m["vm"]: (m["from"], m["to"]) for m in preview.moved}
    assert moved["crm-web-01"] == (3, 2)
    # its move group (application crm, strongly coupled) goes with it
    assert moved["crm-db-01"] == (3, 2) and moved["crm-app-01"] == (3, 2)
    assert 2 in preview.waves_changed and 3 in preview.waves_changed
    assert preview.cross_wave_before == {
        "edges": current["cross_wave"]["edges"],
        "bytes": current["cross_wave"]["bytes"],
    }
    assert preview.violations_before == current["violations"] and preview.violations_after == []
    assert preview.cost_before["vms"] == preview.cost_after["vms"] == 16
    assert preview.wave_metrics_after[2]["vms"] == preview.wave_metrics_before[2]["vms"] + len(
        [vm for vm, (a, b) in moved.items() if b == 2]
    ) - len([vm for vm, (a, b) in moved.items() if a == 2])
    assert "document" not in preview.as_dict()

    applied = apply_pin(ws, "crm-web-01", 2)
    assert ws.plans.pins() == {"crm-web-01": 2}
    assert applied.plan_id == current["plan"]["id"] + 1
    assert applied.document["plan"]["parameters"]["max_vms"] == 12  # the current plan's parameters
    assert _assignment(applied.document) == _assignment(preview.document)
    assert applied.document["cross_wave"]["bytes"] == preview.cross_wave_after["bytes"]

    back = preview_unpin(ws, "crm-web-01")
    assert back.wave is None and _assignment(back.document) == _assignment(current)
    assert ws.plans.pins() == {"crm-web-01": 2}
    restored = apply_unpin(ws, "crm-web-01")
    assert ws.plans.pins() == {} and _assignment(restored.document) == _assignment(current)


def test_preview_errors_name_the_problem(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    with pytest.raises(NotFound, match="no wave plan yet"):
        preview_pin(ws, "crm-web-01", 2)
    plan_waves(ws, PlanParameters())
    with pytest.raises(NotFound, match="no VM named 'nope'"):
        preview_pin(ws, "nope", 2)
    with pytest.raises(NotFound, match="is not pinned"):
        preview_unpin(ws, "crm-web-01")
    assert len(ws.plans.ids()) == 1
