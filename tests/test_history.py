"""Utilisation history (docs/scale.md#utilisation-history): discoveries that keep history add
every sample, by VM (vCenter instance UUID, moref) and timestamp, and sizing reads all of them:
two discoveries against vcsim (a week at 30 minutes, then a day at 5 minutes) give percentiles
over the week, where the last snapshot alone covers a day. A snapshot without history is sized
exactly as before."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrator.app.discovery import DiscoverRequest, discover
from migrator.app.inventory import size_snapshot
from migrator.app.snapshots import record_snapshot
from migrator.app.workspace import Workspace
from migrator.secrets import Secret
from migrator.simulator.estate import Estate
from migrator.simulator.launcher import Simulator
from migrator.store.inventory import Inventory
from waves.sizing import SizingParameters

UUID = "5a1b2c3d-0000-4000-8000-00000000a7a7"


@pytest.fixture(scope="module")
def sim(vcsim_binary: Path) -> Iterator[Simulator]:
    with Simulator(topology=Estate.generated(8, clusters=1), password="hist-Pa55", instance_uuid=UUID) as s:
        yield s


def run(ws: Workspace, sim: Simulator, days: float, history: bool) -> int:
    request = DiscoverRequest(sim.url, sim.username, perf_days=days, workers=1, history=history)
    return discover(ws, request, Secret(sim.password)).snapshot_id


@pytest.mark.vcsim
def test_two_periodic_discoveries_size_over_the_longer_span(sim: Simulator, tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path)
    plain = run(ws, sim, 1, history=False)
    before = size_snapshot(ws, SizingParameters(), plain).as_dict()
    assert "utilisation" not in before  # no history: the document as it always was
    assert ws.history.samples({UUID}) == {}

    week, day = run(ws, sim, 7, history=True), run(ws, sim, 1, history=True)
    own = {vm["moref"]: vm["perf"] for vm in ws.store.records(day, "vms") if vm.get("perf")}
    assert own and {p["window_days"] for p in own.values()} == {1.0}  # the snapshot itself: a day
    assert all("history" not in p for p in own.values())  # samples live in the history only

    sized = size_snapshot(ws, SizingParameters(), day).as_dict()
    use = sized["utilisation"]
    assert use["source"] == "history" and use["runs"] == 2 and use["vms"] == len(own)
    assert 6.9 < use["days"] <= 7.1, use  # the week the first run read, not the day of the last
    # each VM's basis says its own span: a week, give or take the flooring of the first sample
    spans = [re.fullmatch(r"p95 x 1\.3 over ([\d.]+) day\(s\)", vm["basis"]) for vm in sized["vms"]]
    days = [float(found.group(1)) for found in spans if found]
    assert len(days) == len(own) and all(6.9 < d <= 7.1 for d in days), sized["vms"]

    kept = ws.history.samples({UUID})
    assert set(kept) == {(UUID, moref) for moref in own}
    for series in kept.values():
        stamps = [s[0] for s in series]
        assert stamps == sorted(set(stamps))  # one sample per timestamp
        assert {s[1] for s in series} == {300, 1800}  # the day's 5-minute and the week's 30-minute
    # The snapshot discovered without history is sized as before.
    assert size_snapshot(ws, SizingParameters(), plain).as_dict() == before
    assert ws.history.source(week) == UUID and ws.history.source(plain) is None
    # The same samples again (a later run that read nothing new) add nothing.
    moref, series = next(iter(kept.items()))
    again = {moref[1]: [[int(s[0].timestamp()), s[1], s[2], s[3]] for s in series]}
    empty = record_snapshot(ws, "vcenter", sim.url, lambda: Inventory()).snapshot_id
    assert ws.history.add(empty, UUID, again) == len(series)
    assert ws.history.samples({UUID})[moref] == series


@pytest.mark.vcsim
def test_an_estate_snapshot_takes_each_vms_history_by_its_vcenter(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In an estate snapshot a VM's history is found through its `vcenter_uuid`: the vCenter with
    a kept week sizes over it, the other over its own day, though both have the same morefs."""
    from migrator.app.estates import DiscoverySettings, VCenterDefinition, add_vcenter, discover_estate

    other_uuid = "5a1b2c3d-0000-4000-8000-00000000b0b0"
    with Simulator(
        topology=Estate.generated(8, clusters=1), password="other-Pa55", instance_uuid=other_uuid
    ) as other:
        ws = Workspace.open(tmp_path)
        run(ws, sim, 7, history=True)  # a periodic run of vc-a only
        for name, s in (("vc-a", sim), ("vc-b", other)):
            monkeypatch.setenv(f"PW_{name[-1].upper()}", s.password)
            add_vcenter(ws, VCenterDefinition(name, s.url, s.username, password_env=f"PW_{name[-1].upper()}"))
        _outcomes, state = discover_estate(ws, DiscoverySettings(perf_days=1.0, workers=1))
    assert state.status == "complete"
    sized = size_snapshot(ws, SizingParameters(), state.estate_snapshot_id).as_dict()
    records = list(ws.store.records(state.estate_snapshot_id, "vms"))
    vcenter_of = {vm["name"]: vm["vcenter"] for vm in records}
    spans: dict[str, set[str]] = {"vc-a": set(), "vc-b": set()}
    for vm in sized["vms"]:
        if " over " in vm["basis"]:
            spans[vcenter_of[vm["vm"]]].add(vm["basis"].split(" over ")[1])
    assert spans["vc-b"] == {"1.0 day(s)"}, spans  # its own snapshot's window
    assert spans["vc-a"] and all(6.9 < float(d.split()[0]) <= 7.1 for d in spans["vc-a"]), spans
    with_perf = sum(1 for vm in records if vm["vcenter"] == "vc-a" and vm.get("perf"))
    assert sized["utilisation"]["vms"] == with_perf and sized["utilisation"]["runs"] == 1
