"""Multi-vCenter estates (docs/scale.md#multi-vcenter-estates) against three real vcsim
instances: the estate definition, `discover --estate` with a failing vCenter, names that
collide across vCenters, duplicates, and planning across vCenters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrator.simulator.estate import Estate
from migrator.simulator.launcher import Simulator
from migrator.simulator.seed import seed
from tests.helpers import assert_one_line_error, migrator

ROOT = Path(__file__).resolve().parents[1]
MULTI = ROOT / "fixtures" / "estates" / "multi"
FLOWS = ROOT / "fixtures" / "flows" / "multi-vcenter.csv"
NAMES = ("vc-a", "vc-b", "vc-c")


@pytest.fixture(scope="module")
def estate_sims(vcsim_binary: Path) -> Iterator[dict[str, Simulator]]:
    """Three simulated vCenters, each with its own password."""
    sims: dict[str, Simulator] = {}
    try:
        for name in NAMES:
            estate = Estate.load(MULTI / f"{name}.yaml")
            sims[name] = Simulator(topology=estate.topology(), password=f"{name}-S3cret!").start()
            seed(sims[name], estate)
        yield sims
    finally:
        for sim in sims.values():
            sim.stop()


def passwords(sims: dict[str, Simulator], wrong: str | None = None) -> dict[str, str]:
    """The environment `discover --estate` reads; `wrong`: that vCenter gets a wrong password."""
    return {
        f"PW_{name.replace('-', '_').upper()}": "not-the-password" if name == wrong else sim.password
        for name, sim in sims.items()
    }


def add_estate(sims: dict[str, Simulator], workspace: Path) -> None:
    for name, sim in sims.items():
        env_name = f"PW_{name.replace('-', '_').upper()}"
        added = migrator(
            "estate", "add", name, "--server", sim.url, "--user", sim.username, "--password-env", env_name,
            workspace=workspace,
        )
        assert added.code == 0, added.stderr


@pytest.mark.vcsim
def test_a_failing_vcenter_leaves_the_estate_snapshot_incomplete(
    estate_sims: dict[str, Simulator], tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    add_estate(estate_sims, ws)
    # vc-c refuses the login: the estate snapshot is stored but incomplete (exit 7), naming vc-c
    first = migrator("discover", "--estate", "--perf-days", "0", workspace=ws, env=passwords(estate_sims, "vc-c"))
    assert first.code == 7, first.stderr
    assert "vc-c" in first.stderr and "is incomplete" in first.stderr
    assert "no complete estate snapshot yet" in first.stderr
    snaps = migrator("snapshots", "list", "--format", "json", workspace=ws).json()
    estate = [s for s in snaps if s["source"] == "estate"]
    assert [s["status"] for s in estate] == ["incomplete"]
    assert "vc-c" in estate[0]["error"] and "vc-a" not in estate[0]["error"]
    # the complete per-vCenter snapshots of vc-a and vc-b are parts, never the planning default
    assert sorted(s["status"] for s in snaps if s["source"] == "vcenter") == ["complete", "complete", "failed"]
    assert_one_line_error(migrator("inventory", "list", workspace=ws), 6, "no complete snapshot")

    second = migrator("discover", "--estate", "--perf-days", "0", workspace=ws, env=passwords(estate_sims))
    assert second.code == 0, second.stderr
    complete_id = max(s["id"] for s in migrator("snapshots", "list", "--format", "json", workspace=ws).json() if s["source"] == "estate")

    # vc-b unreachable this time: incomplete again, and the complete one stays the default
    third = migrator("discover", "--estate", "--perf-days", "0", workspace=ws, env=passwords(estate_sims, "vc-b"))
    assert third.code == 7, third.stderr
    assert f"estate snapshot {complete_id} stays the planning default" in third.stderr
    listed = migrator("inventory", "list", "--format", "json", workspace=ws)
    assert listed.code == 0, listed.stderr
    vms = listed.json()
    assert {vm["name"] for vm in vms} == {
        "web-01@vc-a", "web-01@vc-b", "app-01", "db-01", "shared-01@vc-a", "shared-01@vc-b",
        "golden-a", "golden-b", "cache-01",
    }
    assert {vm["name"]: vm["vcenter"] for vm in vms}["db-01"] == "vc-b"
