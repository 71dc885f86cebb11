"""Multi-vCenter estates (docs/scale.md#multi-vcenter-estates) against three real vcsim
instances: the estate definition, `discover --estate` with a failing vCenter, names that
collide across vCenters, duplicates, and planning across vCenters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

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
            uuid = f"00000000-0000-4000-8000-{NAMES.index(name) + 1:012d}"  # each vCenter its own
            sims[name] = Simulator(estate.topology(), password=f"{name}-S3cret!", instance_uuid=uuid).start()
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
            "estate",
            "add",
            name,
            "--server",
            sim.url,
            "--user",
            sim.username,
            "--password-env",
            env_name,
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
    first = migrator(
        "discover", "--estate", "--perf-days", "0", workspace=ws, env=passwords(estate_sims, "vc-c")
    )
    assert first.code == 7, first.stderr
    assert "vc-c" in first.stderr and "is incomplete" in first.stderr
    assert "no complete estate snapshot yet" in first.stderr
    snaps = migrator("snapshots", "list", "--format", "json", workspace=ws).json()
    estate = [s for s in snaps if s["source"] == "estate"]
    assert [s["status"] for s in estate] == ["incomplete"]
    assert "vc-c" in estate[0]["error"] and "vc-a" not in estate[0]["error"]
    # the complete per-vCenter snapshots of vc-a and vc-b are parts, never the planning default
    assert sorted(s["status"] for s in snaps if s["source"] == "vcenter") == [
        "complete",
        "complete",
        "failed",
    ]
    assert_one_line_error(migrator("inventory", "list", workspace=ws), 6, "no complete snapshot")

    second = migrator("discover", "--estate", "--perf-days", "0", workspace=ws, env=passwords(estate_sims))
    assert second.code == 0, second.stderr
    complete_id = max(
        s["id"]
        for s in migrator("snapshots", "list", "--format", "json", workspace=ws).json()
        if s["source"] == "estate"
    )

    # vc-b unreachable this time: incomplete again, and the complete one stays the default
    third = migrator(
        "discover", "--estate", "--perf-days", "0", workspace=ws, env=passwords(estate_sims, "vc-b")
    )
    assert third.code == 7, third.stderr
    assert f"estate snapshot {complete_id} stays the planning default" in third.stderr
    listed = migrator("inventory", "list", "--format", "json", workspace=ws)
    assert listed.code == 0, listed.stderr
    vms = listed.json()
    assert {vm["name"] for vm in vms} == {
        "web-01@vc-a",
        "web-01@vc-b",
        "app-01",
        "db-01",
        "shared-01@vc-a",
        "shared-01@vc-b",
        "golden-a",
        "golden-b",
        "cache-01",
    }
    assert {vm["name"]: vm["vcenter"] for vm in vms}["db-01"] == "vc-b"
    ambiguous = migrator("inventory", "show", "web-01", workspace=ws)
    assert_one_line_error(ambiguous, 6, "no VM named 'web-01'", "'web-01@vc-a', 'web-01@vc-b'")


@pytest.mark.vcsim
def test_planning_reads_an_estate_snapshot_across_vcenters(
    estate_sims: dict[str, Simulator], tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    add_estate(estate_sims, ws)
    found = migrator("discover", "--estate", "--perf-days", "0", workspace=ws, env=passwords(estate_sims))
    assert found.code == 0, found.stderr
    assert "2 possible duplicate(s)" in found.stderr

    # duplicates: shared-01 registered in vc-a and vc-b, golden-a/golden-b sharing a BIOS UUID
    dups = migrator("estate", "duplicates", "--format", "json", workspace=ws).json()
    seen = {(d["kind"], tuple(f"{v['name']}/{v['vcenter']}" for v in d["vms"])) for d in dups}
    assert seen == {
        ("same-vm-in-several-vcenters", ("shared-01@vc-a/vc-a", "shared-01@vc-b/vc-b")),
        ("same-bios-uuid", ("golden-a/vc-a", "golden-b/vc-b")),
    }
    # identified by (vCenter instance UUID, moref): vcsim numbers morefs alike, the UUIDs differ
    shared = next(d for d in dups if d["kind"] == "same-vm-in-several-vcenters")["vms"]
    assert shared[0]["vcenter_uuid"] != shared[1]["vcenter_uuid"] and all(v["moref"] for v in shared)

    # flows from vc-a's app-01 to vc-b's db-01: an edge like any other, and the waves respect it
    assert migrator("import", "flows", str(FLOWS), workspace=ws).code == 0
    graph = migrator("graph", "export", "--format", "json", workspace=ws)
    assert graph.code == 0, graph.stderr
    edges = {(e["source"], e["target"]) for e in graph.json()["edges"]}
    assert {("app-01", "db-01"), ("web-01@vc-a", "app-01"), ("web-01@vc-b", "db-01")} <= edges
    planned = migrator("waves", "plan", "--format", "json", workspace=ws)
    assert planned.code == 0, planned.stderr
    doc = planned.json()
    wave_of = {vm: w["number"] for w in doc["waves"] for vm in w["vms"]}
    assert len(wave_of) == 9 and doc["unplaced"] == []
    assert wave_of["db-01"] <= wave_of["app-01"] <= wave_of["web-01@vc-a"]
    explained = migrator("waves", "explain", "app-01", "--format", "json", workspace=ws).json()
    assert [d["vm"] for d in explained["depends_on"]] == ["db-01"]

    # generated code: the two web-01 VMs keep distinct names in Terraform and in KubeVirt
    out = tmp_path / "migration"
    tf = migrator("plan", "--target", "terraform-aws", "--out", str(out), workspace=ws)
    assert tf.code == 0, tf.stdout + tf.stderr
    hcl = "".join(p.read_text() for p in (out / "terraform-aws").rglob("*.tf"))
    assert 'resource "aws_instance" "web_01_vc_a"' in hcl and 'resource "aws_instance" "web_01_vc_b"' in hcl
    kv = migrator(
        "plan", "--target", "kubevirt", "--executor", "cdi", "--out", str(out), "--land", workspace=ws
    )
    assert kv.code == 0, kv.stdout + kv.stderr
    manifests = "".join(p.read_text() for p in (out / "kubevirt").rglob("*.yaml"))
    assert "name: web-01-vc-a\n" in manifests and "name: web-01-vc-b\n" in manifests
    # the Forklift executor has one source Provider: a wave across vCenters needs a human
    fk = migrator("plan", "--target", "kubevirt", "--out", str(tmp_path / "fk"), workspace=ws)
    assert fk.code == 7, fk.stdout + fk.stderr
    report = (tmp_path / "fk" / "kubevirt" / f"wave-{wave_of['web-01@vc-b']:02d}" / "REPORT.md").read_text()
    assert "FORKLIFT-SEVERAL-VCENTERS" in report
    # PRs: one per wave, titles distinct; PLAN.md names each VM's vCenter
    prs = migrator("pr", "list", "--format", "json", workspace=ws).json()
    assert len({pr["title"] for pr in prs}) == len(prs) == len(doc["waves"])
    wave_of_web_b = next(pr["number"] for pr in prs if pr["wave"] == wave_of["web-01@vc-b"])
    plan_md = migrator("pr", "show", str(wave_of_web_b), workspace=ws).stdout
    # the rollback powers each source VM on in its own vCenter, by its name there
    assert 'govc vm.power -u "$GOVC_URL_VC_B" -on -- web-01' in plan_md
    assert "| VM | vCenter | guest OS |" in plan_md and "| `web-01@vc-b` | `vc-b` |" in plan_md

    # the dashboard: each colliding VM has its own page (URL) saying where it lives
    from migrator.app.workspace import Workspace
    from migrator.web.app import create_app
    from migrator.web.security import Guard
    from tests.web_helpers import local_client

    client = local_client(create_app(Workspace.open(ws), Guard()))
    for name, vc in (("web-01@vc-a", "vc-a"), ("web-01@vc-b", "vc-b")):
        page = client.get(f"/vms/{quote(name)}")
        assert page.status_code == 200, page.text[:300]
        assert f"In vCenter <strong>{vc}</strong> as web-01" in page.text
        assert client.get(f"/api/vms/{quote(name)}").json()["facts"]["vcenter"] == vc
    # the agent's inventory search (MCP search_inventory) filters by vCenter
    from migrator.app.agent import VMFilter, search_vms

    _, in_b = search_vms(Workspace.open(ws), VMFilter(vcenter="VC-B"))
    _, every = search_vms(Workspace.open(ws), VMFilter())
    assert {v["vcenter"] for v in in_b} == {"vc-b"} and "web-01@vc-b" in {v["name"] for v in in_b}
    assert len(in_b) < len(every) == 9 and {v["vcenter"] for v in every} == {"vc-a", "vc-b", "vc-c"}


def test_estate_add_list_remove_never_stores_a_password(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    secret_file = tmp_path / "vc2-pass"
    secret_file.write_text("file-S3cret-pw\n")
    secret_file.chmod(0o600)
    env = {"VC1_PASS": "env-S3cret-pw"}
    one = migrator(
        "estate",
        "add",
        "prod-vc-01",
        "--server",
        "vc1.example.com",
        "--user",
        "ro@vsphere.local",
        "--password-env",
        "VC1_PASS",
        "--who",
        "ana",
        workspace=ws,
        env=env,
    )
    assert one.code == 0, one.stderr
    two = migrator(
        "estate",
        "add",
        "dr-vc-02",
        "--server",
        "https://vc2.example.com/sdk",
        "--user",
        "ro@vsphere.local",
        "--password-file",
        str(secret_file),
        workspace=ws,
    )
    assert two.code == 0, two.stderr
    listed = migrator("estate", "list", "--format", "json", workspace=ws).json()
    assert [(v["name"], v["password_env"], v["password_file"]) for v in listed] == [
        ("dr-vc-02", None, str(secret_file)),
        ("prod-vc-01", "VC1_PASS", None),
    ]
    database = (ws / "inventory.db").read_bytes()
    assert b"S3cret" not in database  # only where the password is read
    audit = migrator("audit", "list", "--format", "json", workspace=ws).json()
    assert [(a["who"], a["action"], a["target"]) for a in audit][:1] == [
        ("ana", "estate.add", "vcenter:prod-vc-01")
    ]

    # bad input: one line, exit 2; a duplicate name: exit 10; an unknown name: exit 6
    for args, code, fragment in (
        (("--password-env", "VC1_PASS", "--password-file", str(secret_file)), 2, "exactly one of"),
        ((), 2, "exactly one of"),
        (("--password-env", "hunter2 with spaces"), 2, "NAME of an environment variable"),
    ):
        bad = migrator("estate", "add", "x", "--server", "vc.example.com", "--user", "u", *args, workspace=ws)
        assert_one_line_error(bad, code, fragment)
    bad_name = migrator(
        "estate", "add", "../evil", "--server", "vc", "--user", "u", "--password-env", "P", workspace=ws
    )
    assert_one_line_error(bad_name, 2, "vCenter name")
    again = migrator(
        "estate", "add", "dr-vc-02", "--server", "vc", "--user", "u", "--password-env", "P", workspace=ws
    )
    assert_one_line_error(again, 10, "already has a vCenter named 'dr-vc-02'")
    assert_one_line_error(migrator("estate", "remove", "nope", workspace=ws), 6, "no vCenter named 'nope'")
    assert migrator("estate", "remove", "dr-vc-02", workspace=ws).code == 0
    assert [v["name"] for v in migrator("estate", "list", "--format", "json", workspace=ws).json()] == [
        "prod-vc-01"
    ]
    actions = [a["action"] for a in migrator("audit", "list", "--format", "json", workspace=ws).json()]
    assert sorted(actions) == ["estate.add", "estate.add", "estate.remove"]
    # discover --estate takes everything from the estate; an empty estate is a clear error
    mixed = migrator("discover", "--estate", "--server", "vc", workspace=ws)
    assert_one_line_error(mixed, 2, "--estate reads each vCenter's server")
    assert_one_line_error(migrator("discover", workspace=ws), 2, "give --server and --user")
    empty = migrator("discover", "--estate", workspace=tmp_path / "empty")
    assert_one_line_error(empty, 2, "the estate has no vCenters")
    assert_one_line_error(migrator("estate", "duplicates", workspace=ws), 6, "no complete estate snapshot")


@pytest.mark.vcsim
def test_vcenters_discovered_concurrently_into_postgresql_settle_once(
    estate_sims: dict[str, Simulator], postgres_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The job runner's unit, `discover_estate_vcenter`, three at once on PostgreSQL: each vCenter
    commits its own snapshot, exactly one call combines the estate snapshot, a retry is a no-op."""
    from concurrent.futures import ThreadPoolExecutor

    from migrator.app.estates import (
        DiscoverySettings,
        VCenterDefinition,
        add_vcenter,
        discover_estate_vcenter,
        estate_duplicates,
        start_estate_snapshot,
    )
    from migrator.app.workspace import Workspace
    from tests.conftest import fresh_pg_database

    for name, value in passwords(estate_sims).items():
        monkeypatch.setenv(name, value)
    ws = Workspace.open(tmp_path / "ws", fresh_pg_database(postgres_url, "estates"))
    for name, sim in estate_sims.items():
        env_name = f"PW_{name.replace('-', '_').upper()}"
        add_vcenter(ws, VCenterDefinition(name, sim.url, sim.username, password_env=env_name))
    sid = start_estate_snapshot(ws)
    settings = DiscoverySettings(perf_days=0)
    with ThreadPoolExecutor(3) as pool:
        outcomes = list(pool.map(lambda vc: discover_estate_vcenter(ws, sid, vc, settings), NAMES))
    assert [o.status for o in outcomes] == ["complete"] * 3
    settled = [o.settled for o in outcomes if o.settled is not None]
    assert len(settled) == 1 and settled[0].status == "complete" and settled[0].vm_count == 9
    assert {m["vcenter"]: m["instance_uuid"][-1] for m in settled[0].members} == {
        "vc-a": "1",
        "vc-b": "2",
        "vc-c": "3",
    }
    assert ws.store.get().id == sid  # the planning default
    again = discover_estate_vcenter(ws, sid, "vc-b", settings)
    assert (again.status, again.snapshot_id, again.settled) == ("complete", outcomes[1].snapshot_id, None)
    assert len(ws.store.list()) == 4  # the estate snapshot and one per vCenter: nothing twice
    assert {d["kind"] for d in estate_duplicates(ws, sid)} == {
        "same-vm-in-several-vcenters",
        "same-bios-uuid",
    }
    ws.close()
