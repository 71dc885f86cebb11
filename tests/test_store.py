"""The store: atomic snapshots, crash leftovers, SQLite and a real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from migrator.errors import ExitCode, StoreError
from migrator.settings import Settings
from migrator.simulator.launcher import Simulator
from migrator.store.database import open_engine
from migrator.store.inventory import Inventory
from migrator.store.snapshots import SnapshotStore
from tests.conftest import discover_args, sim_env
from tests.helpers import assert_one_line_error, migrator


def _store(tmp_path: Path) -> SnapshotStore:
    return SnapshotStore(open_engine(Settings.resolve(tmp_path, None)))


def _vm(name: str, **extra: object) -> dict[str, object]:
    return {"name": name, "moref": f"vm-{name}", **extra}


def test_failed_write_rolls_back_everything(tmp_path: Path) -> None:
    store = _store(tmp_path)
    first = store.begin("vcenter", "vc1")
    store.commit(first, Inventory(vms=[_vm("a"), _vm("b")]))
    second = store.begin("vcenter", "vc1")
    poisoned = Inventory(vms=[_vm("c"), _vm("d", bad=object())])  # not JSON-serialisable: the insert fails
    with pytest.raises(StoreError, match=f"could not store snapshot {second}"):
        store.commit(second, poisoned)
    snaps = store.list()
    assert [(s.id, s.status, s.vm_count) for s in snaps] == [(first, "complete", 2), (second, "failed", 0)]
    assert [v["name"] for v in store.records(second, "vms")] == []
    assert [v["name"] for v in store.records(first, "vms")] == ["a", "b"]
    assert store.get().id == first


def test_crashed_run_is_marked_interrupted(tmp_path: Path) -> None:
    store = _store(tmp_path)
    crashed = store.begin("vcenter", "vc1")
    with store.engine.begin() as conn:  # as if the writing process had been killed
        conn.execute(
            text("update snapshots set pid = :pid where id = :id"), {"pid": 2**22 + 7, "id": crashed}
        )
    store.begin("vcenter", "vc1")
    status = {s.id: (s.status, s.error) for s in store.list()}
    assert status[crashed] == ("interrupted", "the run ended without finishing (process gone)")


def test_live_run_is_left_alone(tmp_path: Path) -> None:
    store = _store(tmp_path)
    running = store.begin("vcenter", "vc1")  # this process is alive
    store.begin("vcenter", "vc2")
    assert {s.id: s.status for s in store.list()}[running] == "running"


def test_unusable_database_url(tmp_path: Path) -> None:
    url = "postgresql+psycopg2://u:TopSecret@127.0.0.1:1/x"
    result = migrator("snapshots", "list", workspace=tmp_path, env={"MIGRATOR_DB_URL": url})
    assert_one_line_error(
        result, ExitCode.STORE, "cannot open database postgresql+psycopg2://u:***@127.0.0.1:1/x"
    )
    assert "TopSecret" not in result.stderr
    in_argv = migrator("--db", url, "snapshots", "list", workspace=tmp_path)
    assert_one_line_error(in_argv, ExitCode.USAGE, "--db must not carry a password")
    assert "TopSecret" not in in_argv.stderr
    bogus = migrator("--db", "nosuchdb://x", "snapshots", "list", workspace=tmp_path)
    assert_one_line_error(bogus, ExitCode.STORE, "cannot use database")


def test_corrupt_sqlite_file(tmp_path: Path) -> None:
    (tmp_path / "inventory.db").write_bytes(b"this is not a database" * 100)
    result = migrator("snapshots", "list", workspace=tmp_path)
    assert_one_line_error(result, ExitCode.STORE, "inventory.db")


@pytest.mark.postgres
@pytest.mark.vcsim
def test_postgres_holds_the_same_inventory_as_sqlite(
    demo_sim: Simulator, postgres_url: str, tmp_path: Path
) -> None:
    args = discover_args(demo_sim, "--perf-days", "0")
    sqlite_run = migrator(*args, workspace=tmp_path / "sqlite", env=sim_env(demo_sim))
    pg_env = {**sim_env(demo_sim), "MIGRATOR_DB_URL": postgres_url}
    pg_run = migrator(*args, workspace=tmp_path / "pg", env=pg_env)
    assert sqlite_run.code == 0 and pg_run.code == 0, pg_run.stderr
    assert not (tmp_path / "pg" / "inventory.db").exists()
    from_sqlite = migrator("inventory", "export", workspace=tmp_path / "sqlite").json()
    from_pg = migrator(
        "inventory", "export", env={"MIGRATOR_DB_URL": postgres_url}, workspace=tmp_path / "pg"
    ).json()
    for doc in (from_sqlite, from_pg):
        doc.pop("snapshot")
        for vm in doc["vms"]:
            vm.pop("perf")
    assert from_pg == from_sqlite
    assert len(from_pg["vms"]) == 16
