"""The whole-estate evaluation of the source policies gives exactly the findings of the per-batch
evaluation it replaced (tests/policy_reference.py: the old rules, 50 VMs a query), on the demo
estate, a synthetic estate with every policy's facts planted, and hostile text. The 10,000-VM
comparison is in benchmarks/findings.py (too slow for a test through the old path)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from policies import engine
from policies.engine import source_findings
from policies.registry import named_in_pack, policies
from tests.golden import FIXTURES
from tests.policy_reference import planted, reference_findings
from waves.synthetic import generate

TARGETS = (None, "kubevirt", "terraform-aws")


def _same(vms: list[dict[str, Any]], clusters: list[dict[str, Any]], target: str | None) -> list[Any]:
    expected = reference_findings(copy.deepcopy(vms), copy.deepcopy(clusters), target)
    found = source_findings(vms, clusters, target)
    assert found == expected
    return found


@pytest.mark.parametrize("target", TARGETS)
def test_demo_estate(target: str | None) -> None:
    inventory = json.loads((FIXTURES / "inventories" / "demo.json").read_text(encoding="utf-8"))
    assert _same(inventory["vms"], inventory["clusters"], target)


@pytest.fixture(scope="module")
def synthetic() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    estate = generate(400, seed=3)
    planted(estate.vms, estate.clusters, seed=3)
    return estate.vms, estate.clusters


@pytest.mark.parametrize("target", ["kubevirt", "terraform-aws"])
def test_synthetic_estate_with_every_policy_planted(
    synthetic: tuple[list[dict[str, Any]], list[dict[str, Any]]], target: str
) -> None:
    found = _same(*synthetic, target)
    assert {f.policy for f in found} == {p.id for p in policies("source")}, "every policy must fire"


@pytest.mark.parametrize("workers_only", [False, True])
def test_the_estate_split_over_worker_processes(
    synthetic: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
    workers_only: bool,
) -> None:
    """Real worker processes (spawned) and this one each take parts of the VMs; the findings are
    the same. With `workers_only` this process takes no part, so the worker answers every part."""
    in_process = source_findings(*synthetic, "kubevirt")
    monkeypatch.setattr(engine, "PARALLEL_FROM", 10)
    monkeypatch.setattr(engine, "MAX_WORKERS", 2)
    monkeypatch.setattr(engine, "MIN_PART", 1)
    monkeypatch.setattr(engine, "PARTS_PER_PROCESS", 8)
    monkeypatch.setattr(engine.os, "cpu_count", lambda: 2)
    taken: list[int] = []  # this process's parts (spawned workers import the engine afresh)
    evaluate_findings = engine.evaluate_findings

    def here(family: str, policy_input: dict[str, Any]) -> dict[str, list[Any]]:
        taken.append(len(policy_input["vms"]))
        return evaluate_findings(family, policy_input)

    monkeypatch.setattr(engine, "evaluate_findings", here)
    if workers_only:

        def none_left(share: engine._Share) -> None:  # wait as the workers take every part
            with share.lock:
                share.lock.wait_for(lambda: share.first >= share.last)

        monkeypatch.setattr(engine._Share, "_take_last", none_left)
    assert source_findings(*synthetic, "kubevirt") == in_process
    assert sum(taken) < len(synthetic[0]), "the worker took no part"
    assert (not taken) if workers_only else taken
    # parts capped by PART_VMS (the idle workers' memory beside code generation): the same findings
    monkeypatch.setattr(engine, "PART_VMS", max(1, len(synthetic[0]) // 5))
    assert source_findings(*synthetic, "kubevirt") == in_process


def test_hostile_corpus() -> None:
    """Names, host names, guest ids and annotations from the hostile corpus, with the DRS rules
    and clusters named after them; duplicate cluster names; values of the wrong type."""
    corpus = json.loads((FIXTURES / "hostile" / "annotations.json").read_text(encoding="utf-8"))
    texts = [c["annotation"] for c in corpus] + [
        'a"b\\c',
        "line\nbreak",
        "${x} %{y}",
        "\u202eevil",
        "x" * 3000,
    ]
    vms = []
    for i, text in enumerate(texts):
        vms.append(
            {
                "name": text if i % 3 else f"{text} {i}",
                "annotation": text,
                "hostname": text if i % 2 else "localhost",
                "guest_id": text if i % 4 == 0 else "otherGuest",
                "cluster": texts[i % 4],
                "snapshot_count": i % 3,
                "fault_tolerance": text if i % 5 == 0 else "notConfigured",
                "disks": [{"datastore": None, "rdm": text if i % 2 else None, "capacity_gb": i % 2}],
                "custom_fields": {text: text},
            }
        )
    clusters = [
        {"name": name, "drs_enabled": True, "dpm_enabled": bool(j % 2), "drs_rules": []}
        for j, name in enumerate(texts[:4] * 2)  # each name twice: two clusters may share a name
    ]
    clusters[1]["drs_rules"].append(
        {"name": texts[2], "kind": "vm-host", "vms": [v["name"] for v in vms[::2]]}
    )
    for target in TARGETS:
        assert _same(vms, clusters, target)


def test_minimal_and_odd_records() -> None:
    vms: list[dict[str, Any]] = [
        {"name": "bare"},
        {"name": "disks", "disks": [{}]},
        {"name": "numbers", "hostname": 5, "guest_id": 7, "disks": [{"capacity_gb": "big"}], "cluster": 3},
        {"name": "nulls", "hostname": None, "guest_id": None, "fault_tolerance": None, "nics": [{}]},
    ]
    assert _same(vms, [{"name": "c"}, {"name": 3, "drs_enabled": True}], "kubevirt")


def test_only_fields_the_pack_names_reach_the_engine() -> None:
    named = named_in_pack("source")
    assert {"disks", "datastore", "cpu_hot_add", "hostname", "rdm"} <= named
    assert not {"perf", "custom_fields", "annotation", "tags", "moref", "label"} & named
    vm = {"name": "a", "perf": {"cpu_p95_pct": 1}, "disks": [{"label": "Hard disk 1", "rdm": {"lun": "x"}}]}
    assert engine._named_fields(vm, named) == {"name": "a", "disks": [{"rdm": {"lun": "x"}}]}


def _known_from(
    vms: list[dict[str, Any]], clusters: list[dict[str, Any]], target: str
) -> engine.KnownFindings:
    """An earlier evaluation as the findings cache keeps it: findings by VM name."""
    earlier = source_findings(vms, clusters, target)
    return engine.KnownFindings(
        digests=engine.fact_digests(vms),
        clusters=engine.clusters_digest(clusters),
        findings=lambda names: [f for f in earlier if f.vm in set(names)],
    )


def _changed_estate(vms: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], set[str]]:
    """The next discovery of the estate: facts changed, a VM renamed, one gone, one new, and a
    name now shared by two VMs. Returns the VMs and the names whose facts are not as before."""
    after = copy.deepcopy(vms[1:])  # vms[0] is gone
    after[3]["snapshot_count"] = int(after[3].get("snapshot_count") or 0) + 3
    after[5]["usb_controllers"] = int(after[5].get("usb_controllers") or 0) + 1
    after[8]["guest_id"] = "win31Guest" if after[8].get("guest_id") != "win31Guest" else "rhel9_64Guest"
    after[13]["name"] = "renamed-" + after[13]["name"]
    twin = copy.deepcopy(after[21])
    twin["moref"] = "vm-twin"
    newcomer = copy.deepcopy(after[30])
    newcomer.update(name="newcomer", moref="vm-new", usb_controllers=1, snapshot_count=2)
    after += [twin, newcomer]
    changed = {after[i]["name"] for i in (3, 5, 8, 13, 21)} | {"newcomer"}
    return after, changed


def test_a_new_snapshot_reuses_the_findings_of_unchanged_vms_and_evaluates_the_rest(
    synthetic: tuple[list[dict[str, Any]], list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    vms, clusters = synthetic
    known = _known_from(vms, clusters, "kubevirt")
    after, changed = _changed_estate(vms)
    expected = reference_findings(copy.deepcopy(after), copy.deepcopy(clusters), "kubevirt")
    evaluated: list[str] = []
    whole = engine._evaluate_all

    def spy(part: list[dict[str, Any]], *args: Any) -> list[Any]:
        evaluated.extend(vm["name"] for vm in part)
        return whole(part, *args)

    monkeypatch.setattr(engine, "_evaluate_all", spy)
    assert source_findings(after, clusters, "kubevirt", known) == expected
    # the renamed, changed, new and now-duplicated VMs only (the twin's name counts twice)
    assert sorted(evaluated) == sorted([*changed, after[21]["name"]])
    assert {f.policy for f in expected if f.vm in changed} >= {"SRC-SNAPSHOTS", "SRC-USB"}


def test_changed_clusters_mean_every_vm_is_evaluated_again(
    synthetic: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    vms, clusters = synthetic
    known = _known_from(vms, clusters, "kubevirt")
    moved = copy.deepcopy(clusters)
    moved[0]["dpm_enabled"] = not moved[0].get("dpm_enabled")
    expected = reference_findings(copy.deepcopy(vms), copy.deepcopy(moved), "kubevirt")
    assert source_findings(vms, moved, "kubevirt", known) == expected
    assert expected != source_findings(vms, clusters, "kubevirt")
