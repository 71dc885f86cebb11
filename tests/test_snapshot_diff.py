"""`snapshots diff`: configuration drift between two real snapshots and the waves it affects."""

from __future__ import annotations

from pathlib import Path

from migrator.app.planning import plan_waves
from migrator.app.snapshot_diff import diff_snapshots
from migrator.app.snapshots import store_inventory
from migrator.inventory_import import read_export
from tests.drift_helpers import DEMO, changed_export, demo_workspace
from tests.helpers import assert_one_line_error, migrator
from waves.parameters import PlanParameters


def test_added_removed_changed_field_by_field_and_the_waves_affected(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    first = plan_waves(ws, PlanParameters())
    wave = first.document["vms"]["crm-web-01"]["wave"]
    disks = first.document["waves"][wave - 1]["metrics"]["disks"]
    # the current plan: crm-web-01's wave holds exactly as many disks as the limit allows
    current = plan_waves(ws, PlanParameters(max_disks=disks))
    assert current.document["vms"]["crm-web-01"]["wave"] == 3
    assert current.document["waves"][2]["metrics"]["disks"] == 17 == disks
    assert (
        current.document["vms"]["dns-01"]["wave"] == 2 and current.document["vms"]["shop-db-01"]["wave"] == 3
    )
    store_inventory(ws, "import", "week-later.json", read_export(changed_export(tmp_path)))

    result = diff_snapshots(ws, 1, 2)

    assert (result.a, result.b, result.plan_id) == (1, 2, current.plan_id)
    assert result.added == ["new-01"] and result.removed == ["nfs-01"]
    changes = {c.vm: [(f.field, f.before, f.after) for f in c.changes] for c in result.changed}
    assert set(changes) == {"crm-web-01", "dns-01", "shop-web-01"}
    web = changes["crm-web-01"]
    assert web[0] == ("num_cpu", 2, 8)
    assert web[1][0] == "disks[disk-202-1]" and web[1][1] is None and web[1][2]["capacity_gb"] == 500.0
    assert web[2:] == [
        ("nics[ethernet-0].network", "web-vlan110", "web-vlan111"),
        ("networks", ["web-vlan110"], ["web-vlan111"]),
    ]
    assert changes["dns-01"] == [("annotation", "", "Depends on shop-db-01 for zone data")]
    assert changes["shop-web-01"] == [("tags", ["Application:shop"], ["Application:shop", "Backup:gold"])]
    impacts = [(i.vm, i.wave, i.kind, i.detail) for i in result.impacts]
    assert impacts == [
        ("new-01", None, "new-vm", "new in the snapshot; in no wave until re-planned"),
        ("nfs-01", 2, "removed-vm", "gone from snapshot 2; wave 2 still holds it"),
        (
            "dns-01",
            2,
            "new-dependency-on-later-wave",
            "now depends on shop-db-01 (wave 3; evidence: annotation)",
        ),
        ("crm-web-01", 3, "wave-over-limit", "wave 3 no longer fits after resize/move: 18 disks > limit 17"),
    ]
    assert result.waves_affected == [2, 3]


def test_identical_snapshots_without_a_plan(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    store_inventory(ws, "import", "again.json", read_export(DEMO))
    result = diff_snapshots(ws, 1, 2)
    assert result.as_dict() == {
        "a": 1,
        "b": 2,
        "plan_id": None,
        "added": [],
        "removed": [],
        "changed": [],
        "impacts": [],
        "waves_affected": [],
    }


def test_cli_json_table_and_a_missing_snapshot(tmp_path: Path) -> None:
    ws_dir = tmp_path / "ws"
    assert migrator("import", "inventory", str(DEMO), workspace=ws_dir).code == 0
    later = changed_export(tmp_path)
    assert migrator("import", "inventory", str(later), workspace=ws_dir).code == 0
    result = migrator("snapshots", "diff", "1", "2", "--format", "json", workspace=ws_dir)
    assert result.code == 0, result.stderr
    data = result.json()
    assert data["added"] == ["new-01"] and data["removed"] == ["nfs-01"] and data["plan_id"] is None
    table = migrator("snapshots", "diff", "1", "2", workspace=ws_dir)
    assert table.code == 0 and "web-vlan111" in table.stdout and "no wave plan yet" in table.stdout
    assert_one_line_error(
        migrator("snapshots", "diff", "1", "9", workspace=ws_dir), 6, "no snapshot with id 9"
    )
