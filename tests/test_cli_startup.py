"""The command line starts at once (issue 24): the root help is written from the command table
of migrator/cli/lazy.py without importing a command module, and the listing commands read with
sqlite3 instead of SQLAlchemy (migrator/store/quickread.py). The times are benchmarks
(benchmarks/cli.py); here: what they may not import, that the table's help lines match the
commands, and that the fast listings read exactly what the stores read."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from migrator.app import listings
from migrator.app.workspace import Workspace
from migrator.cli import lazy
from migrator.cli.main import app
from migrator.store import quickread
from migrator.store.inventory import Inventory
from migrator.store.models import PullRequest
from migrator.store.prs import PullRequestStore
from migrator.store.revision import HEAD
from migrator.timefmt import iso_utc
from tests.conftest import fresh_pg_database
from tests.helpers import assert_one_line_error, migrator
from tests.test_migrations import RELEASE_0_1_0

ROOT = Path(__file__).resolve().parents[1]
# what a listing or the root help never needs: the ORM and its tables, Alembic, the planner's graph
# library, pyVmomi, YAML and JSON Schema, the web stack, the model layer, the transpilers
NEVER = {
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "networkx",
    "pyVmomi",
    "yaml",
    "jsonschema",
    "fastapi",
    "langgraph",
    "hcl2",
    "migrator.store.models",
    "migrator.store.database",
    "migrator.app.prs",
    "migrator.app.planning",
    "transpilers.registry",
    "agents.validator",
}


def _imported(argv: list[str], workspace: Path) -> set[str]:
    """Every module the command's process held at its end (sys.modules: -X importtime does not
    see what importlib.import_module loads, as the command table does)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATOR_")}
    env.update(PYTHONPATH=str(ROOT), MIGRATOR_WORKSPACE=str(workspace))
    listing = workspace / "modules.txt"
    probe = (
        "import atexit, sys\n"
        f"atexit.register(lambda: open({str(listing)!r}, 'w').write('\\n'.join(sys.modules)))\n"
        f"sys.argv = ['migrator', *{argv!r}]\n"
        "from migrator.__main__ import main\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return set(listing.read_text().splitlines())


def _seed(ws: Workspace) -> None:
    """Two complete snapshots with warnings, one failed, and two pull requests (one approved)."""
    for n in range(2):
        sid = ws.store.begin("rvtools", f"export-{n}.xlsx")
        ws.store.commit(sid, Inventory(warnings=[f"warning {n}", "ünïcode [b]"]))
    ws.store.fail(ws.store.begin("vcenter", "vc.example"), "failed", "connection refused")
    plan = ws.plans.save(1, {}, {"plan": {}})
    moment = datetime(2026, 12, 7, 12, 30, 15, 123456, tzinfo=UTC)
    for wave, approvals in ((1, []), (2, [{"by": "ana", "at": "2026-12-07T12:31:00Z"}])):
        PullRequestStore(ws.engine).add(
            PullRequest(
                plan_id=plan["plan"]["id"],
                target="terraform-aws",
                wave=wave,
                repo="workspace",
                branch=f"wave-{wave}",
                head_commit="a" * 40,
                status="approved" if approvals else "open",
                title=f"Wave {wave}",
                created_at=moment,
                updated_at=moment,
                approvals=approvals,
                forge_number=wave if approvals else None,
            )
        )


def _plain(value: Any) -> Any:
    return iso_utc(value) if isinstance(value, datetime) else value


def _same_fields(rows: list[Any], models: list[Any]) -> None:
    assert len(rows) == len(models) > 0
    for row, model in zip(rows, models, strict=True):
        for f in fields(row):
            assert _plain(getattr(row, f.name)) == _plain(getattr(model, f.name)), f.name


@pytest.mark.parametrize("argv", [["--help"], ["snapshots", "list"], ["pr", "list", "--format", "json"]])
def test_help_and_listings_import_none_of_the_heavy_modules(argv: list[str], tmp_path: Path) -> None:
    assert migrator("snapshots", "list", workspace=tmp_path).code == 0  # the database, at HEAD
    imported = _imported(argv, tmp_path)
    assert imported & NEVER == set()
    commands = {m for m in imported if m.startswith("migrator.cli.") and m.endswith("_cmd")}
    expected = {"--help": set(), "snapshots": {"snapshots_cmd", "drift_cmd"}, "pr": {"pr_cmd"}}[argv[0]]
    assert commands == {f"migrator.cli.{name}" for name in expected}


def test_the_table_help_lines_are_the_commands_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """`migrator --help` from the table is exactly `migrator --help` from the loaded commands."""
    runner = CliRunner()
    wide = {"COLUMNS": "200", "TERMINAL_WIDTH": "200"}
    from_table = runner.invoke(app, ["--help"], env=wide)
    monkeypatch.setattr(lazy.LazyGroup, "help_from_table", False)
    from_commands = runner.invoke(app, ["--help"], env=wide)
    assert from_table.exit_code == from_commands.exit_code == 0
    assert "snapshots" in from_table.output and "Discovery and import runs." in from_table.output
    assert from_table.output == from_commands.output
    assert [lazy.load(name).name for name in lazy.COMMANDS] == list(lazy.COMMANDS)


def test_the_fast_listings_read_what_the_stores_read_on_sqlite(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path)
    _seed(ws)
    fresh = Workspace.open(tmp_path)  # no engine yet: the sqlite3 road
    connection = quickread.open_current_sqlite(fresh.settings.db_url)
    assert connection is not None
    connection.close()
    _same_fields(listings.snapshots(fresh), ws.store.list())
    _same_fields(listings.pull_requests(fresh), PullRequestStore(ws.engine).all())
    assert not fresh.engine_open
    ws.close()


def test_the_fast_listings_read_what_the_stores_read_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    url = fresh_pg_database(postgres_url, "quickread")
    ws = Workspace.open(tmp_path, url)
    _seed(ws)
    fresh = Workspace.open(tmp_path, url)  # the engine's DB-API connection (psycopg2)
    _same_fields(listings.snapshots(fresh), ws.store.list())
    _same_fields(listings.pull_requests(fresh), PullRequestStore(ws.engine).all())
    assert fresh.engine_open
    ws.close()
    fresh.close()


def test_an_older_or_missing_database_takes_the_engine_road(tmp_path: Path) -> None:
    """Missing: created by the engine; a release 0.1.0 workspace: upgraded first, then read."""
    ws = Workspace.open(tmp_path / "new")
    assert quickread.open_current_sqlite(ws.settings.db_url) is None  # no file yet
    assert listings.snapshots(ws) == [] and ws.engine_open
    ws.close()
    old = tmp_path / "old"
    old.mkdir()
    shutil.copyfile(RELEASE_0_1_0, old / "inventory.db")
    assert quickread.open_current_sqlite(f"sqlite:///{old / 'inventory.db'}") is None
    listed = migrator("snapshots", "list", "--format", "json", workspace=old)
    assert listed.code == 0, listed.stderr
    assert [(s["id"], s["status"], s["vms"]) for s in listed.json()] == [(1, "complete", 16)]
    with closing(sqlite3.connect(old / "inventory.db")) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
    assert quickread.open_current_sqlite(f"sqlite:///{old / 'inventory.db'}") is not None


def test_a_file_that_is_no_database_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "inventory.db").write_text("not a database\n")
    assert quickread.open_current_sqlite(f"sqlite:///{tmp_path / 'inventory.db'}") is None
    assert_one_line_error(migrator("snapshots", "list", workspace=tmp_path), 5, "inventory.db")


def test_only_plain_sqlite_urls_take_the_sqlite3_road() -> None:
    assert quickread.sqlite_path("sqlite:////tmp/ws/inventory.db") == Path("/tmp/ws/inventory.db")
    assert quickread.sqlite_path("sqlite:///rel/inventory.db") == Path("rel/inventory.db")
    for other in ("sqlite://", "sqlite:///:memory:", "sqlite:///x.db?mode=ro", "postgresql://u@h/db"):
        assert quickread.sqlite_path(other) is None
