"""Schema migrations (Alembic): new databases, a workspace made by release 0.1.0, PostgreSQL,
and the models agreeing with the migrations (so every schema change has to be a revision)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from migrator.errors import ExitCode
from migrator.settings import Settings
from migrator.store import models
from migrator.store.database import open_engine
from migrator.store.generated import GeneratedStore
from migrator.store.migrations.versions.v0001_baseline import _tables as release_010_tables
from migrator.store.schema import HEAD, current_revision, own_object, revisions, script_head
from tests.conftest import fresh_pg_database
from tests.helpers import assert_one_line_error, migrator

ROOT = Path(__file__).resolve().parents[1]
RELEASE_0_1_0 = ROOT / "fixtures" / "workspaces" / "release-0.1.0.db"


def _schema_diff(engine: Engine) -> list[object]:
    """What `alembic revision --autogenerate` would write: must be nothing."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": own_object})
        return list(compare_metadata(context, SQLModel.metadata))


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return current_revision(conn)


def _old_workspace(tmp_path: Path) -> Path:
    workspace = tmp_path / "old"
    workspace.mkdir()
    shutil.copyfile(RELEASE_0_1_0, workspace / "inventory.db")
    return workspace


def test_head_constant_is_the_scripts_head() -> None:
    assert script_head() == HEAD
    assert revisions()[-1] == "0001_baseline"  # the baseline is the root of the history


def test_the_fixture_predates_alembic() -> None:
    with sqlite3.connect(RELEASE_0_1_0) as conn:
        tables = {row[0] for row in conn.execute("select name from sqlite_master where type='table'")}
    assert "alembic_version" not in tables
    assert {"snapshots", "vms", "flows", "wave_plans", "generated_waves"} <= tables


def test_new_sqlite_database_is_made_by_the_migrations(tmp_path: Path) -> None:
    engine = open_engine(Settings.resolve(tmp_path / "ws", None))
    assert _revision(engine) == HEAD
    assert _schema_diff(engine) == []


def test_models_and_migrations_agree_after_a_change(tmp_path: Path) -> None:
    """The agreement check can fail: a column the migrations do not know is reported."""
    engine = open_engine(Settings.resolve(tmp_path / "ws", None))
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE snapshots ADD COLUMN stray VARCHAR"))
    diff = _schema_diff(engine)
    assert [(op[0], op[2], op[3].name) for op in diff] == [("remove_column", "snapshots", "stray")], diff  # type: ignore[index]


def test_release_0_1_0_workspace_upgrades_in_place_and_reads(tmp_path: Path) -> None:
    workspace = _old_workspace(tmp_path)
    listed = migrator("waves", "list", "--format", "json", workspace=workspace)
    assert listed.code == 0, listed.stderr
    assert [(p["id"], p["snapshot_id"], p["vms"], p["unplaced"]) for p in listed.json()] == [(1, 1, 16, 0)]
    engine = open_engine(Settings.resolve(workspace, None))
    assert _revision(engine) == HEAD
    assert _schema_diff(engine) == []
    snapshots = migrator("snapshots", "list", "--format", "json", workspace=workspace).json()
    assert [(s["id"], s["status"], s["vms"]) for s in snapshots] == [(1, "complete", 16)]
    pins = migrator("waves", "pins", "--format", "json", workspace=workspace).json()
    assert pins == [{"vm": "crm-web-01", "wave": 2}]
    # 0007 made every pin an edit with source pin (docs/edits.md)
    edits = migrator("edits", "list", "--format", "json", workspace=workspace).json()
    assert [
        (e["kind"], e["vm"], e["wave"], e["source"], e["who"], e["status"], e["change"]) for e in edits
    ] == [("wave-pin", "crm-web-01", 2, "pin", "waves pin", "applied", "crm-web-01: pinned to wave 2")]
    shown = migrator("waves", "show", "--format", "json", workspace=workspace)
    assert shown.code == 0, shown.stderr
    assert shown.json()["vms"]["crm-web-01"]["wave"] == 2
    generated = GeneratedStore(engine)
    kubevirt = generated.latest(1, "kubevirt")
    assert [(g["wave"], g["status"]) for g in kubevirt] == [(1, "clean"), (2, "clean"), (3, "clean")]
    assert [g["wave"] for g in generated.latest(1, "terraform-aws")] == [1]
    assert all(g["files"] and g["created_at"].endswith("Z") for g in kubevirt)
    assert [g["options"] for g in kubevirt] == [{}, {}, {}]  # 0013: none recorded before, the defaults
    with engine.connect() as conn:
        flows = conn.execute(text("select count(*) from flows")).scalar()
    assert flows == 37
    flow_sets = migrator("flows", "list", "--format", "json", workspace=workspace).json()
    assert [(s["origin"], s["records"], s["clamped"]) for s in flow_sets] == [("demo-flows.csv", 37, 0)]
    # 0011 added learning: an old workspace has no examples and no corrections yet
    learned = migrator("learn", "status", "--format", "json", workspace=workspace)
    assert learned.code == 0, learned.stderr
    assert learned.json() == {"examples": 0, "prs": [], "corrections": []}
    # 0012 added the people and the audit log, both empty: team mode stays off until someone is added
    assert migrator("identities", "list", "--format", "json", workspace=workspace).json() == []
    assert migrator("audit", "list", "--format", "json", workspace=workspace).json() == []
    # ...and it keeps working as a current workspace: a new plan is stored beside the old one.
    replanned = migrator("waves", "plan", "--format", "json", workspace=workspace)
    assert replanned.code == 0, replanned.stderr
    assert replanned.json()["plan"]["id"] == 2
    # 0010 added wave_schedules: an upgraded workspace stores a schedule of its old plan
    window = ("--start", "2027-01-11", "--window", "Sat 22:00-06:00", "--bandwidth", "1Gbps")
    scheduled = migrator("schedule", "--plan", "1", *window, "--format", "json", workspace=workspace)
    assert scheduled.code == 0, scheduled.stderr
    assert (scheduled.json()["plan_id"], scheduled.json()["schedule"]["id"]) == (1, 1)
    with engine.connect() as conn:
        stored = conn.execute(text("select plan_id from wave_schedules")).scalars().all()
    assert stored == [1]
    # 0014 added the embeddings table: an upgraded workspace has none, and stores one
    from migrator.store.embeddings import EmbeddingStore, pack
    from migrator.store.models import Embedding

    vectors = EmbeddingStore(engine)
    assert vectors.rows("example") == []
    vectors.add(Embedding(kind="example", ref=7, target="kubevirt", text="t", vector=pack([1.0, 0.0])))  # type: ignore[arg-type]
    assert [(r.kind, r.ref, r.target, r.facts_hash, r.answer) for r in vectors.rows("example")] == [
        ("example", 7, "kubevirt", "", {})
    ]


def test_database_newer_than_migrator_is_refused(tmp_path: Path) -> None:
    workspace = _old_workspace(tmp_path)
    engine = open_engine(Settings.resolve(workspace, None))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    result = migrator("snapshots", "list", workspace=workspace)
    assert_one_line_error(result, ExitCode.STORE, "schema revision 9999_future", "upgrade migrator")


@pytest.mark.postgres
def test_postgres_new_and_pre_alembic_databases(postgres_url: str, tmp_path: Path) -> None:
    new_url = fresh_pg_database(postgres_url, "migrator_alembic_new")
    engine = open_engine(Settings.resolve(tmp_path / "a", new_url))
    assert _revision(engine) == HEAD
    assert _schema_diff(engine) == []
    engine.dispose()
    # A PostgreSQL workspace made by 0.1.0: its create_all, and data in it.
    old_url = fresh_pg_database(postgres_url, "migrator_alembic_old")
    legacy = create_engine(old_url)
    release_010_tables().create_all(legacy)  # what 0.1.0's create_all made: not today's models
    with legacy.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO snapshots (source, server, started_at, status, vm_count, host_count, "
                "cluster_count, network_count, datastore_count, warnings) "
                "VALUES ('import', 'demo.json', now(), 'complete', 1, 0, 0, 0, 0, '[]')"
            )
        )
        conn.execute(text("INSERT INTO vms (snapshot_id, moref, name, data) VALUES (1, 'vm-1', 'a', '{}')"))
    legacy.dispose()
    assert models.Snapshot.__tablename__ == "snapshots"
    env = {"MIGRATOR_DB_URL": old_url}
    listed = migrator("snapshots", "list", "--format", "json", env=env, workspace=tmp_path / "b")
    assert listed.code == 0, listed.stderr
    assert [(s["id"], s["vms"]) for s in listed.json()] == [(1, 1)]
    upgraded = create_engine(old_url)
    assert _revision(upgraded) == HEAD
    assert _schema_diff(upgraded) == []
    upgraded.dispose()


def test_migration_scripts_are_packaged() -> None:
    """An installed migrator (not a checkout) must find every revision and the script template."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    migrations = ROOT / "migrator" / "store" / "migrations"
    for folder in (migrations, migrations / "versions"):
        assert (folder / "__init__.py").is_file()
        package = ".".join(folder.relative_to(ROOT).parts)
        assert package in config["packages"], package
    assert config["package-data"]["migrator.store.migrations"] == ["script.py.mako", "procrastinate-*.sql"]
    assert (migrations / "script.py.mako").is_file()
    assert "alembic" in " ".join(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    )


def test_concurrent_first_opens_of_a_new_workspace(tmp_path: Path) -> None:
    """Several commands started at once on a new workspace all find (or make) the same schema."""
    import subprocess

    from tests.helpers import migrator_command

    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATOR_")}
    procs = [
        subprocess.Popen(
            migrator_command("snapshots", "list", "--format", "json", workspace=tmp_path / "ws"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert out.strip() == "[]"
    engine = open_engine(Settings.resolve(tmp_path / "ws", None))
    assert _revision(engine) == HEAD
    assert _schema_diff(engine) == []
