"""Combining per-vCenter inventories (migrator.app.estate_union): names that collide across
vCenters, references to them, and duplicates. Pure functions; the vcsim path is tests/test_estates.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from migrator.app.estate_union import CLONE, MOVED, SEEN_TWICE, MemberInventory, combine, duplicates
from migrator.store.inventory import Inventory


def _vm(name: str, moref: str, bios: str, instance: str, host: str = "esx-01") -> dict[str, Any]:
    return {
        "name": name,
        "moref": moref,
        "bios_uuid": bios,
        "instance_uuid": instance,
        "host": host,
        "cluster": "Prod",
        "disks": [{"datastore": "ds1", "capacity_gb": 10}],
        "nics": [],
    }


def _member(vc: str, vms: list[dict[str, Any]], rule_vms: list[str]) -> MemberInventory:
    rule = {"name": "keep-apart", "kind": "anti-affinity", "vms": rule_vms}
    inv = Inventory(
        vms=vms,
        hosts=[{"name": "esx-01", "moref": "host-1", "cluster": "Prod"}],
        clusters=[{"name": "Prod", "moref": "domain-c1", "drs_rules": [rule]}],
        networks=[{"name": "VM Network", "moref": "network-1"}],
        datastores=[{"name": "ds1", "moref": "datastore-1"}],
        warnings=["a warning"],
    )
    return MemberInventory(vc, f"uuid-{vc}", inv)


def test_only_colliding_names_get_their_vcenter_and_references_follow() -> None:
    a = _member("vc-a", [_vm("web", "vm-1", "b1", "i1"), _vm("app", "vm-2", "b2", "i2")], ["web", "app"])
    b = _member("vc-b", [_vm("web", "vm-1", "b3", "i3"), _vm("web@vc-a", "vm-9", "b4", "i4")], ["web"])
    out = combine([b, a])  # the order members finish in does not matter
    names = [(vm["name"], vm["vcenter"], vm["source_name"]) for vm in out.vms]
    # web@vc-b is unique; vc-a's suffixed name was taken by a real VM, so the moref is added too
    assert names == [
        ("app", "vc-a", "app"),
        ("web@vc-a", "vc-b", "web@vc-a"),
        ("web@vc-a#vm-1", "vc-a", "web"),
        ("web@vc-b", "vc-b", "web"),
    ]
    assert out == combine([a, b])
    app = next(vm for vm in out.vms if vm["name"] == "app")
    assert (app["host"], app["cluster"], app["disks"][0]["datastore"]) == (
        "esx-01@vc-a",
        "Prod@vc-a",
        "ds1@vc-a",
    )
    assert app["vcenter_uuid"] == "uuid-vc-a"
    assert [h["name"] for h in out.hosts] == ["esx-01@vc-a", "esx-01@vc-b"]
    assert [h["cluster"] for h in out.hosts] == ["Prod@vc-a", "Prod@vc-b"]
    rules = {c["name"]: c["drs_rules"][0]["vms"] for c in out.clusters}
    assert rules == {"Prod@vc-a": ["app", "web@vc-a#vm-1"], "Prod@vc-b": ["web@vc-b"]}
    # networks keep their names (matched as one segment by name), stamped with their vCenter
    assert [(n["name"], n["vcenter"]) for n in out.networks] == [
        ("VM Network", "vc-a"),
        ("VM Network", "vc-b"),
    ]
    assert out.warnings == ["vc-a: a warning", "vc-b: a warning"]


def test_a_one_vcenter_estate_keeps_every_name() -> None:
    a = _member("vc-a", [_vm("web", "vm-1", "b1", "i1")], ["web"])
    out = combine([a])
    assert [vm["name"] for vm in out.vms] == ["web"] and out.hosts[0]["name"] == "esx-01"


def test_duplicates_are_reported_never_merged() -> None:
    vms = [
        {**_vm("shared@vc-a", "vm-5", "b9", "i9"), "vcenter": "vc-a"},
        {**_vm("shared@vc-b", "vm-5", "b9", "i9"), "vcenter": "vc-b"},
        {**_vm("gold-1", "vm-6", "b7", "i7"), "vcenter": "vc-a"},
        {**_vm("gold-2", "vm-7", "b7", "i8"), "vcenter": "vc-a"},  # a clone in the same vCenter
        {**_vm("mover", "vm-3", "b5", "i5"), "vcenter": "vc-b"},
        {**_vm("stays", "vm-4", "b6", "i6"), "vcenter": "vc-a"},
    ]
    previous = [
        {**_vm("mover", "vm-40", "b5", "i5"), "vcenter": "vc-a"},
        {**_vm("stays", "vm-4", "b6", "i6"), "vcenter": "vc-a"},
    ]
    found = duplicates(vms, previous)
    assert [(f["kind"], [v["name"] for v in f["vms"]]) for f in found] == [
        (SEEN_TWICE, ["shared@vc-a", "shared@vc-b"]),
        (CLONE, ["gold-1", "gold-2"]),
        (MOVED, ["mover"]),
    ]
    moved = found[-1]
    assert [(p["vcenter"], p["moref"]) for p in moved["previously"]] == [("vc-a", "vm-40")]
    assert found[0]["vms"][0]["vcenter"] == "vc-a" and found[0]["vms"][0]["moref"] == "vm-5"
    assert duplicates(vms[2:3]) == []


def test_a_settle_that_fails_mid_combine_gives_its_claim_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Combining raised after the claim: the estate snapshot goes back to running (not stuck in
    `assembling`), and the next settle combines it."""
    from migrator.app import estates
    from migrator.app.workspace import Workspace
    from tests.helpers import migrator

    ws_path = tmp_path / "ws"
    inventory = Path(__file__).resolve().parents[1] / "fixtures" / "inventories" / "demo.json"
    for name in ("vc-a", "vc-b"):
        assert migrator("import", "inventory", str(inventory), workspace=ws_path).code == 0
        add = [
            "estate",
            "add",
            name,
            "--server",
            f"{name}.example.com",
            "--user",
            "ro",
            "--password-env",
            "P",
        ]
        assert migrator(*add, workspace=ws_path).code == 0
    ws = Workspace.open(ws_path)
    try:
        snapshots = [s.id for s in ws.store.list()]
        estate_id = estates.start_estate_snapshot(ws)
        for member, snapshot in zip(ws.estates.members(estate_id), snapshots, strict=True):
            assert member.id is not None
            ws.estates.mark(member.id, status="complete", snapshot_id=snapshot, instance_uuid=member.vcenter)

        def broken(parts: object) -> object:
            raise RuntimeError("the worker stopped here")

        monkeypatch.setattr(estates, "combine", broken)
        with pytest.raises(RuntimeError):
            estates.settle_estate_snapshot(ws, estate_id)
        assert ws.store.get(estate_id).status == "running"
        monkeypatch.undo()
        settled = estates.settle_estate_snapshot(ws, estate_id)
        assert settled is not None and settled.status == "complete"
        assert estates.settle_estate_snapshot(ws, estate_id) is None  # settled once
    finally:
        ws.close()
