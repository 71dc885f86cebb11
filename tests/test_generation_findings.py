"""`migrator plan` evaluates the source policies once over every chosen wave's VMs and splits the
findings by wave (migrator/app/generation.py, findings_by_wave): each wave must get exactly what an
evaluation of its own VMs gives, through the real Rego pack."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from migrator.app.generation import findings_by_wave
from policies.engine import source_findings
from transpilers.inputs import wave_inputs
from transpilers.model import WaveInput
from waves.parameters import PlanParameters
from waves.plan import plan_waves
from waves.synthetic import generate


def _waves(vms: int) -> tuple[list[WaveInput], list[dict[str, Any]]]:
    estate = generate(vms, seed=3)
    for i, vm in enumerate(estate.vms):  # findings of several severities on some VMs
        vm["cbt_enabled"] = i % 3 != 0
        if i % 7 == 0:
            vm["disks"] = [{**d, "capacity_gb": 0} for d in vm.get("disks") or []]
        if i % 11 == 0:
            vm["name"] = f"bad name {i} !"
    result = plan_waves(estate.vms, estate.clusters, estate.flows, PlanParameters(max_vms=50, pilot_vms=0))
    document = {**result.document, "plan": {**result.document["plan"], "snapshot_id": 1}}
    return wave_inputs(document, estate.vms, estate.clusters, [], estate.flows), estate.clusters


def test_one_evaluation_gives_every_wave_its_own_findings() -> None:
    waves, clusters = _waves(400)
    assert len(waves) >= 3
    found = findings_by_wave(waves, clusters, "kubevirt")
    assert sorted(found) == [w.number for w in waves]
    assert any(f.severity == "critical" for fs in found.values() for f in fs)
    for w in waves:
        assert found[w.number] == source_findings([vm.record for vm in w.vms], clusters, "kubevirt")


def test_a_name_in_two_waves_leaves_each_wave_to_itself() -> None:
    waves, clusters = _waves(300)
    first, second = waves[0], waves[1]
    twin = replace(second.vms[0], record={**second.vms[0].record, "name": first.vms[0].record["name"]})
    waves[1] = replace(second, vms=[twin, *second.vms[1:]])
    assert findings_by_wave(waves, clusters, "kubevirt") == {}
