"""The whole planning path from a real vCenter API: discover the demo estate from vcsim, import
its flows, plan, and find the tiers of each application together."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator.simulator.launcher import Simulator
from tests.conftest import discover_args, sim_env
from tests.helpers import migrator

FLOWS = Path(__file__).resolve().parents[1] / "fixtures" / "flows"


@pytest.mark.vcsim
def test_discovery_flows_and_waves_round_trip(demo_sim: Simulator, tmp_path: Path) -> None:
    discovered = migrator(
        *discover_args(demo_sim, "--perf-days", "1"), workspace=tmp_path, env=sim_env(demo_sim)
    )
    assert discovered.code == 0, discovered.stderr
    assert migrator("import", "flows", str(FLOWS / "demo-flows.csv"), workspace=tmp_path).code == 0
    planned = migrator("waves", "plan", "--format", "json", workspace=tmp_path)
    assert planned.code == 0, planned.stderr
    doc = planned.json()
    wave_of = {vm: w["number"] for w in doc["waves"] for vm in w["vms"]}
    assert len(wave_of) == 16 and doc["unplaced"] == [] and doc["violations"] == []
    for app in ("shop", "crm"):
        tiers = {vm: wave for vm, wave in wave_of.items() if vm.startswith(f"{app}-")}
        assert len(set(tiers.values())) == 1, tiers
        assert {vm.split("-")[1] for vm in tiers} == {"web", "app", "db"}
    assert wave_of["payroll-app-dev"] == wave_of["payroll-db-dev"] == 1
    # every flow endpoint inside the estate was matched through the discovered guest IPs
    assert doc["graph"]["external_endpoints"] == 3 and doc["graph"]["ambiguous_ips"] == 0
    # utilisation came from vcsim's performance manager, so sizing is not as-is for powered-on VMs
    sized = migrator("size", "--format", "json", workspace=tmp_path).json()
    assert sized["totals"]["sized_as_is"] == 2  # the two powered-off VMs have no samples
