"""What-if pinning: a preview re-plans without storing anything; applying stores the pin and a new
plan exactly as `waves pin` + `waves plan` do, and matches the preview."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from migrator.app.flows import import_flow_file
from migrator.app.planning import plan_waves
from migrator.app.whatif import WhatIf, apply_pin, apply_unpin, preview_pin, preview_unpin
from migrator.errors import NotFound, UsageError
from tests.drift_helpers import FIXTURES, demo_workspace
from waves.parameters import PlanParameters
from waves.plan import PlanResult


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


def _pin_cases(names: list[str]) -> list[dict[str, int]]:
    """No pin, one pin early and late, pairs of pins (some conflict), a wave beyond the plan's end."""
    return [
        {},
        {names[5]: 1},
        {names[40]: 3},
        {names[7]: 2, names[90]: 1},
        {names[0]: 2, names[130]: 1},
        {names[11]: 40},
    ]


def _outcome(plan: Callable[[], PlanResult | WhatIf]) -> dict | str:
    """The document, or the one line a refused plan gives (conflicting pins)."""
    try:
        return plan().document
    except (UsageError, NotFound) as exc:
        return str(exc)


def test_planning_on_a_kept_basis_is_planning_from_scratch() -> None:
    """What a preview runs (waves.plan.plan_prepared on one Prepared) gives the same document as
    waves.plan.plan_waves, for several pin sets, twice over: placement leaves the basis as it was."""
    from waves.plan import plan_prepared, prepare
    from waves.plan import plan_waves as from_scratch
    from waves.synthetic import generate

    estate = generate(400, seed=3)
    params = PlanParameters(max_vms=20)
    prepared = prepare(estate.vms, estate.clusters, estate.flows, params)
    names = sorted(vm["name"] for vm in estate.vms)
    outcomes = []
    for _round in range(2):
        for pins in _pin_cases(names):
            kept = _outcome(lambda: plan_prepared(prepared, params, pins))  # noqa: B023
            fresh = _outcome(lambda: from_scratch(estate.vms, estate.clusters, estate.flows, params, pins))  # noqa: B023
            assert kept == fresh, pins
            outcomes.append(isinstance(kept, dict))
    assert any(outcomes) and not all(outcomes)  # both plans and refusals were compared
    with pytest.raises(Exception, match=r"[Ff]rozen"):
        prepared.graph.g.add_edge(names[0], names[1])


def test_a_preview_follows_a_new_plan_new_flows_and_new_pins(tmp_path: Path) -> None:
    """The kept basis is keyed by the plan, snapshot, flow sets and CMDB import, and pins are read
    each time: after each change a preview equals one made with nothing kept."""
    from migrator.app import whatif
    from migrator.app.planning import load_inputs
    from waves.plan import plan_waves as from_scratch

    ws = demo_workspace(tmp_path)
    plan_waves(ws, PlanParameters(max_vms=12))

    def check(vm: str, wave: int) -> bool:
        """The preview on the kept basis, on a new one, and a plan from scratch agree (document, or
        the line that refuses the pins); True when it was a plan."""
        kept = _outcome(lambda: preview_pin(ws, vm, wave))
        whatif._bases.clear()
        again = _outcome(lambda: preview_pin(ws, vm, wave))
        inputs = load_inputs(ws, None)
        pins = {**inputs.pins, vm: wave}
        params = whatif.current_parameters(ws)[1]
        fresh = _outcome(lambda: from_scratch(inputs.vms, inputs.clusters, inputs.flows, params, pins))
        assert kept == again == fresh
        return isinstance(kept, dict)

    assert check("crm-web-01", 2)
    preview_pin(ws, "crm-web-01", 2)  # a basis kept for the plan of max_vms 12
    plan_waves(ws, PlanParameters(max_vms=6))
    assert preview_pin(ws, "crm-web-01", 2).document["plan"]["parameters"]["max_vms"] == 6
    assert check("crm-web-01", 2)
    ws.plans.pin("shop-db-01", 1)
    outcomes = [check("crm-web-01", 3), check("crm-web-01", 1)]
    import_flow_file(ws, FIXTURES / "flows" / "demo-azure-migrate.csv", "azure-migrate")
    outcomes += [check("crm-web-01", 3), check("crm-web-01", 1)]
    assert outcomes == [True, False, True, False]  # wave 1 is full with shop-db-01's group in it
