"""Tenants (docs/scale.md#tenants): two teams in one PostgreSQL database, kept apart by row-level
security. Nothing of tenant A reaches tenant B: listings, ids guessed across tenants, the
dashboard API with each tenant's token, job results, learned examples, the dashboard's caches;
a raw SELECT under B's setting returns no row of A (the database enforces it, not only the
queries). Plus: an upgrade of a 0016 workspace keeps its rows under 'default' (PostgreSQL and
SQLite), and the one-line errors of a bad or unusable tenant."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from migrator.app.edits import AddRequest, add_edit
from migrator.app.estates import VCenterDefinition, add_vcenter
from migrator.app.generation import GenerateRequest, generate
from migrator.app.identities import add_identity, cli_actor
from migrator.app.planning import plan_waves
from migrator.app.prs import LandRequest, Reviews
from migrator.app.snapshots import store_inventory
from migrator.app.workspace import Workspace
from migrator.errors import ExitCode
from migrator.inventory_import import read_export
from migrator.store.models import LearningExample
from migrator.store.schema import alembic_config
from migrator.store.tenancy import TABLES
from migrator.web.app import create_app
from tests.conftest import app_role_database, fresh_pg_database
from tests.helpers import Result, assert_one_line_error, migrator, migrator_command
from tests.web_helpers import FIXTURES, hostile_inventory, local_client
from waves.parameters import PlanParameters

SETTING = "SELECT set_config('migrator.tenant', :t, true)"


@dataclass
class Two:
    """Tenants a and b in one database (and one workspace folder, as workers share a disk)."""

    url: str
    folder: Path
    a: Workspace
    b: Workspace
    tokens: dict[str, str]
    ids: dict[str, Any]  # tenant a's ids, to guess from b

    def cli(self, tenant: str, *args: str) -> Result:
        env = {"MIGRATOR_DB_URL": self.url, "MIGRATOR_WORKSPACE": str(self.folder)}
        return migrator("--tenant", tenant, *args, env=env)

    def json(self, tenant: str, *args: str) -> Any:
        result = self.cli(tenant, *args, "--format", "json")
        assert result.code == 0, result.stderr
        return result.json()


def _populate_a(ws: Workspace, folder: Path) -> dict[str, Any]:
    """Snapshot, plan, wave 1 generated and landed as a PR, an edit, an estate vCenter, a learned
    example, the identity ana (approver): every kind of row a team makes."""
    snap = store_inventory(ws, "import", "demo.json", hostile_inventory())
    plan = plan_waves(ws, PlanParameters(target="kubevirt"))
    generate(ws, GenerateRequest(target="kubevirt", wave=1, out=ws.folder / "migration", use_tools=False))
    pr = Reviews(ws).land(LandRequest(target="kubevirt", wave=1))
    edit = add_edit(ws, AddRequest({"kind": "wave-pin", "vm": "shop-web-01", "wave": 2}, "ana"))
    add_vcenter(ws, VCenterDefinition("prod-vc-01", "vc-a.example.com", "ro@a", password_env="VC_A"))
    ws.learning.add_examples([_example(pr.number)])
    return {"snapshot": snap.snapshot_id, "plan": plan.plan_id, "pr": pr.number, "edit": edit["id"]}


def _example(pr: int) -> LearningExample:
    return LearningExample(
        pr=pr,
        commit="0" * 40,
        approver="ana",
        merged_at=datetime.now(UTC),
        target="kubevirt",
        wave=1,
        vm="shop-web-01",
        facts={"os": "linux"},
        answer={"instance_type": "m6i.large"},
        fix={"instance_type": "m6i.xlarge"},
        reviewers=["ana"],
    )


def _populate_b(ws: Workspace) -> None:
    """A smaller estate (its own VM count), a plan, and the same names A chose: the vCenter
    prod-vc-01 and the identity ana (names are unique per tenant)."""
    inventory = read_export(FIXTURES / "inventories" / "demo.json")
    store_inventory(ws, "import", "b.json", replace(inventory, vms=inventory.vms[:5]))
    plan_waves(ws, PlanParameters(target="kubevirt"))
    add_vcenter(ws, VCenterDefinition("prod-vc-01", "vc-b.example.com", "ro@b", password_env="VC_B"))


@pytest.fixture(scope="module")
def two(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Two]:
    url = app_role_database(postgres_url, "tenants_two")
    folder = tmp_path_factory.mktemp("tenants") / "ws"
    a, b = Workspace.open(folder, url, "a"), Workspace.open(folder, url, "b")
    ids = _populate_a(a, folder)
    _populate_b(b)
    tokens = {
        "a": add_identity(a, "ana", "approver", cli_actor("lead")).token,
        "b": add_identity(b, "ana", "viewer", cli_actor("lead")).token,
    }
    yield Two(url, folder, a, b, tokens, ids)
    a.close()


def test_listings_show_only_the_tenants_own_rows(two: Two) -> None:
    a_snaps = [s["id"] for s in two.json("a", "snapshots", "list")]
    b_snaps = [s["id"] for s in two.json("b", "snapshots", "list")]
    assert a_snaps == [two.ids["snapshot"]] and len(b_snaps) == 1 and not set(a_snaps) & set(b_snaps)
    assert [p["number"] for p in two.json("a", "pr", "list")] == [two.ids["pr"]]
    assert two.json("b", "pr", "list") == []
    assert [e["id"] for e in two.json("a", "edits", "list")] == [two.ids["edit"]]
    assert two.json("b", "edits", "list") == []
    estates = {t: two.json(t, "estate", "list") for t in ("a", "b")}
    assert [v["server"] for v in estates["a"]] == ["vc-a.example.com"]
    assert [v["server"] for v in estates["b"]] == ["vc-b.example.com"]  # the same name, per tenant
    a_audit = {(r["action"], r["target"]) for r in two.json("a", "audit", "list")}
    b_audit = {(r["action"], r["target"]) for r in two.json("b", "audit", "list")}
    assert ("edit.add", f"edit:{two.ids['edit']}") in a_audit and ("identity.add", "identity:ana") in a_audit
    assert not any(action == "edit.add" for action, _ in b_audit)
    assert [i["role"] for i in two.json("a", "identities", "list")] == ["approver"]
    assert [i["role"] for i in two.json("b", "identities", "list")] == ["viewer"]
    # the default tenant of the same database holds nothing of either
    assert two.json("default", "snapshots", "list") == []


def test_ids_guessed_across_tenants_are_not_found(two: Two) -> None:
    guessed = [
        ("pr", "show", str(two.ids["pr"])),
        ("edits", "show", str(two.ids["edit"])),
        ("edits", "revert", str(two.ids["edit"])),
        ("inventory", "list", "--snapshot", str(two.ids["snapshot"])),
        ("waves", "show", "--plan", str(two.ids["plan"])),
    ]
    for args in guessed:
        assert_one_line_error(two.cli("b", *args), ExitCode.NOT_FOUND)
    # and nothing changed in a: the edit is still applied
    assert two.json("a", "edits", "show", str(two.ids["edit"]))["status"] == "applied"


def test_learned_examples_stay_in_their_tenant(two: Two) -> None:
    assert two.json("a", "learn", "status")["examples"] == 1
    assert two.json("b", "learn", "status")["examples"] == 0


def test_the_dashboard_serves_each_token_its_own_tenant(two: Two) -> None:
    client = local_client(create_app(two.a))  # started as tenant a; tokens choose per request

    def get(tenant: str, path: str) -> Any:
        return client.get(path, headers={"Authorization": f"Bearer {two.tokens[tenant]}"})

    overview = {t: get(t, "/api/overview").json() for t in ("a", "b")}  # A first, then B: the caches
    assert overview["a"]["estate"]["snapshot_id"] == two.ids["snapshot"]
    assert overview["b"]["estate"]["snapshot_id"] != two.ids["snapshot"]
    assert overview["a"]["estate"]["vms"] > overview["b"]["estate"]["vms"] == 5
    assert overview["a"]["plan"]["id"] == two.ids["plan"] != overview["b"]["plan"]["id"]
    again = get("a", "/api/overview").json()  # the caches answer A as A still
    assert (again["estate"], again["plan"]) == (overview["a"]["estate"], overview["a"]["plan"])
    assert [p["number"] for p in get("a", "/api/prs").json()] == [two.ids["pr"]]
    assert get("b", "/api/prs").json() == []
    assert get("b", f"/api/prs/{two.ids['pr']}").status_code == 404  # a guessed id: like a missing one
    assert get("a", f"/api/prs/{two.ids['pr']}").status_code == 200
    b_snaps = [s["id"] for s in get("b", "/api/snapshots").json()]
    assert two.ids["snapshot"] not in b_snaps and len(b_snaps) == 1
    assert get("b", f"/prs/{two.ids['pr']}").status_code == 404
    # b's viewer changes nothing, and cannot reach a's PR to try
    assert get("b", "/api/overview").status_code == 200
    wrong = client.get("/api/prs", headers={"Authorization": "Bearer mgr_b.not-a-token"})
    assert wrong.status_code == 401
    # a's secret with b's name in front: b holds no such hash
    forged = two.tokens["a"].replace("mgr_a.", "mgr_b.", 1)
    assert client.get("/api/prs", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_a_raw_select_under_bs_setting_returns_no_row_of_a(two: Two) -> None:
    """The database's own check: plain SQL, no migrator query filter involved."""
    engine = create_engine(two.url)
    try:
        with engine.begin() as conn:
            conn.execute(text(SETTING), {"t": "b"})
            for table in TABLES:
                assert conn.execute(text(f"SELECT count(*) FROM {table} WHERE tenant <> 'b'")).scalar() == 0
            assert conn.execute(text("SELECT count(*) FROM snapshots")).scalar() == 1
            found = conn.execute(text("SELECT id FROM snapshots WHERE id = :i"), {"i": two.ids["snapshot"]})
            assert found.all() == []
        with engine.begin() as conn:  # no tenant set: no rows at all
            assert all(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() == 0 for t in TABLES)
        with pytest.raises(DBAPIError, match="row-level security"), engine.begin() as conn:
            conn.execute(text(SETTING), {"t": "b"})
            conn.execute(
                text(
                    "INSERT INTO audit_log (at, who, via, action, target, detail, tenant) "
                    "VALUES (now(), 'x', 'cli', 'x', 'x', '{}', 'a')"
                )
            )
        with engine.begin() as conn:  # an update of a's rows from b touches nothing
            conn.execute(text(SETTING), {"t": "b"})
            assert conn.execute(text("UPDATE pull_requests SET status = 'closed'")).rowcount == 0
    finally:
        engine.dispose()


def test_a_job_runs_as_the_tenant_that_queued_it(two: Two, tmp_path: Path) -> None:
    before = two.json("a", "waves", "list")
    queued = two.cli("a", "waves", "plan", "--max-vms", "4", "--queue")
    assert queued.code == 0, queued.stderr
    job = int(queued.stdout.split("job(s) ")[1].split()[0])
    assert [j["id"] for j in two.json("a", "jobs", "list")] == [job]
    assert two.json("b", "jobs", "list") == []
    assert_one_line_error(two.cli("b", "jobs", "show", str(job)), ExitCode.NOT_FOUND)
    assert_one_line_error(two.cli("b", "jobs", "cancel", str(job)), ExitCode.NOT_FOUND)
    b_plans = two.json("b", "waves", "list")
    _run_worker_until(two, job, tmp_path)
    after = two.json("a", "waves", "list")
    assert len(after) == len(before) + 1  # the plan is a's
    assert two.json("b", "waves", "list") == b_plans  # and not b's
    assert two.json("a", "waves", "show")["plan"]["parameters"]["max_vms"] == 4
    assert two.json("a", "jobs", "show", str(job))["status"] == "succeeded"


def _run_worker_until(two: Two, job: int, tmp_path: Path) -> None:
    """One `migrator worker` (started as the default tenant: the job says whose it is) until the job ends."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATOR_")}
    env.update(MIGRATOR_DB_URL=two.url, MIGRATOR_WORKSPACE=str(two.folder))
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen(
        migrator_command("worker"), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            status = _job_status(two.url, job)
            if status in ("succeeded", "failed"):
                assert status == "succeeded", (tmp_path / "worker.log").read_text()
                return
            time.sleep(0.2)
        raise AssertionError("the job did not finish: " + (tmp_path / "worker.log").read_text())
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _job_status(url: str, job: int) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(
                conn.execute(text("SELECT status FROM procrastinate_jobs WHERE id = :i"), {"i": job}).scalar()
            )
    finally:
        engine.dispose()


# -- upgrades of a 0016 workspace ------------------------------------------------------------------


def _at_0016(url: str) -> None:
    """A database at revision 0016_jobs with a snapshot and an identity in it (made before tenants)."""
    from alembic import command

    engine = create_engine(url)
    with engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, "0016_jobs")
        conn.execute(
            text(
                "INSERT INTO snapshots (source, server, started_at, status, vm_count, host_count, "
                "cluster_count, network_count, datastore_count, warnings) VALUES ('rvtools', 'old.xlsx', "
                "'2026-01-01 00:00:00+00:00', 'complete', 0, 0, 0, 0, 0, '[]')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO identities (name, role, token_sha256, created_at) "
                "VALUES ('old', 'viewer', 'ab', '2026-01-01 00:00:00+00:00')"
            )
        )
    engine.dispose()


def _upgraded_rows(url: str, tmp_path: Path) -> None:
    env = {"MIGRATOR_DB_URL": url, "MIGRATOR_WORKSPACE": str(tmp_path / "ws")}
    listed = migrator("snapshots", "list", "--format", "json", env=env)  # opening upgrades it
    assert listed.code == 0, listed.stderr
    assert [s["server"] for s in listed.json()] == ["old.xlsx"]
    people = migrator("identities", "list", "--format", "json", env=env)
    assert [i["name"] for i in people.json()] == ["old"]
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(SETTING), {"t": "default"})
        assert conn.execute(text("SELECT tenant FROM snapshots")).scalars().all() == ["default"]
        assert conn.execute(text("SELECT tenant FROM identities")).scalars().all() == ["default"]
    engine.dispose()


def test_a_0016_postgres_workspace_upgrades_with_its_rows_under_default(
    postgres_url: str, tmp_path: Path
) -> None:
    url = app_role_database(postgres_url, "tenants_upgrade")
    _at_0016(url)
    _upgraded_rows(url, tmp_path)
    env = {"MIGRATOR_DB_URL": url, "MIGRATOR_WORKSPACE": str(tmp_path / "ws")}
    assert migrator("--tenant", "other", "snapshots", "list", "--format", "json", env=env).json() == []


def test_a_0016_sqlite_workspace_upgrades_with_its_rows_under_default(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _at_0016(url)
    _upgraded_rows(url, tmp_path)
    # and back: 0017's downgrade keeps the rows (referenced tables are not copied), then up again
    from alembic import command

    engine = create_engine(url)
    with engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "0016_jobs")
    engine.dispose()
    _upgraded_rows(url, tmp_path)


# -- one-line errors ------------------------------------------------------------------------------


def test_sqlite_holds_only_the_default_tenant(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert migrator("--tenant", "default", "snapshots", "list", workspace=ws).code == 0
    assert_one_line_error(
        migrator("--tenant", "team-a", "snapshots", "list", workspace=ws),
        ExitCode.USAGE,
        "--tenant",
        "SQLite",
    )
    named = migrator("snapshots", "list", workspace=ws, env={"MIGRATOR_TENANT": "team-a"})
    assert_one_line_error(named, ExitCode.USAGE, "only the tenant 'default'")
    for bad in ("Team_A", "-a", "a" * 64, "a.b"):
        assert_one_line_error(
            migrator("--tenant", bad, "snapshots", "list", workspace=ws), ExitCode.USAGE, "--tenant"
        )


def test_a_role_that_bypasses_row_level_security_is_refused_a_tenant(
    postgres_url: str, tmp_path: Path
) -> None:
    """The suite's superuser: RLS would not bind it, so naming a tenant is refused (exit 5)."""
    url = fresh_pg_database(postgres_url, "tenants_superuser")
    env = {"MIGRATOR_DB_URL": url, "MIGRATOR_WORKSPACE": str(tmp_path / "ws")}
    refused = migrator("--tenant", "a", "snapshots", "list", env=env)
    assert_one_line_error(refused, ExitCode.STORE, "superuser or has BYPASSRLS")
    assert migrator("snapshots", "list", env=env).code == 0  # the default tenant: as before


def test_mcp_over_http_serves_each_token_its_own_tenant(two: Two) -> None:
    import anyio
    import httpx2 as httpx
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.types import Implementation

    from tests.test_mcp import _wait, free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATOR_")}
    env.update(MIGRATOR_DB_URL=two.url, MIGRATOR_WORKSPACE=str(two.folder), TOK=two.tokens["a"])
    argv = migrator_command("--tenant", "a", "mcp", "--http", f"127.0.0.1:{port}", "--token-env", "TOK")
    server = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    async def tool(token: str, name: str, arguments: dict[str, Any] | None = None) -> Any:
        async with (
            httpx.AsyncClient(headers={"authorization": f"Bearer {token}"}, timeout=120) as client,
            streamable_http_client(url, http_client=client) as (read, write),
            ClientSession(read, write, client_info=Implementation(name="t", version="1")) as s,
        ):
            await s.initialize()
            result = await s.call_tool(name, arguments or {})
            text = " ".join(getattr(c, "text", "") for c in result.content)
            return result.structured_content, text if result.is_error else None

    try:
        _wait(url)
        a_snaps, _ = anyio.run(tool, two.tokens["a"], "list_snapshots")
        b_snaps, _ = anyio.run(tool, two.tokens["b"], "list_snapshots")
        assert [s["id"] for s in a_snaps["snapshots"]] == [two.ids["snapshot"]]
        assert two.ids["snapshot"] not in [s["id"] for s in b_snaps["snapshots"]]
        b_prs, _ = anyio.run(tool, two.tokens["b"], "list_pull_requests")
        assert b_prs["pull_requests"] == []
        guess = {"number": two.ids["pr"]}
        _, failed = anyio.run(tool, two.tokens["b"], "pull_request_diff", guess)
        assert failed is not None and "no pull request" in failed.lower(), failed  # a's, guessed from b
        _, ok = anyio.run(tool, two.tokens["a"], "pull_request_diff", guess)
        assert ok is None
    finally:
        server.terminate()
        server.wait(timeout=30)
