"""Durable jobs on PostgreSQL (docs/scale.md): real `migrator worker` processes, a real vcsim,
the suite's PostgreSQL. A worker SIGKILLed in the middle of a discovery: the other worker retries
the job and the snapshot completes once, nothing duplicated; two discoveries of one vCenter never
overlap; one planning job per workspace; `--queue` on SQLite is refused with one line."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from migrator.app.workspace import Workspace
from migrator.errors import ExitCode
from migrator.simulator.estate import Estate
from migrator.simulator.launcher import Simulator
from migrator.web.app import create_app
from tests.conftest import PASSWORD_ENV, discover_args, fresh_pg_database, sim_env
from tests.helpers import assert_one_line_error, migrator, migrator_command
from tests.web_helpers import local_client

VMS = 120  # small: discovery takes about a second; the kill lands once it has begun


@pytest.fixture(scope="module")
def small_sim(vcsim_binary: Path) -> Iterator[Simulator]:
    with Simulator(topology=Estate.generated(VMS, clusters=2), password="jobs-Pa55") as sim:
        yield sim


class Workers:
    """`migrator worker` processes on one database, each in its own process group."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *extra: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"worker-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(
            migrator_command("worker", "--stalled-after", "3", *extra),
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def pg_env(
    postgres_url: str, small_sim: Simulator, request: pytest.FixtureRequest, tmp_path: Path
) -> dict[str, str]:
    url = fresh_pg_database(postgres_url, f"jobs_{request.node.name[:40].lower()}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATOR_")}
    # The workspace folder (the plans repository) of every process: the same one, as on a shared disk.
    return {**env, **sim_env(small_sim), "MIGRATOR_DB_URL": url, "MIGRATOR_WORKSPACE": str(tmp_path / "ws")}


@pytest.fixture
def workers(pg_env: dict[str, str], tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(pg_env, tmp_path)
    try:
        yield pool
    finally:
        pool.stop()


def sql(env: dict[str, str], query: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = create_engine(env["MIGRATOR_DB_URL"])
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(query), params)]
    finally:
        engine.dispose()


def wait_for(condition: Any, what: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def store_env(env: dict[str, str]) -> dict[str, str]:
    """The workspace's variables (database, folder) and nothing else."""
    return {k: v for k, v in env.items() if k.startswith("MIGRATOR_")}


def cli(env: dict[str, str], *args: str) -> Any:
    result = migrator(*args, env={**store_env(env), PASSWORD_ENV: env[PASSWORD_ENV]})
    assert result.code == 0, (result.code, result.stderr)
    return result


def job_status(env: dict[str, str], job_id: int) -> str:
    """Polled in a loop: straight from the table (`jobs show` is checked once per test)."""
    return str(sql(env, "select status from procrastinate_jobs where id = :i", i=job_id)[0][0])


def queue_discovery(env: dict[str, str], sim: Simulator) -> int:
    out = cli(env, *discover_args(sim, "--perf-days", "0", "--workers", "1", "--queue")).stdout
    assert out.startswith("queued discovery of "), out
    return int(out.split("job(s) ")[1].split()[0])


@pytest.mark.vcsim
def test_sigkilled_worker_job_is_retried_by_the_other(
    small_sim: Simulator, pg_env: dict[str, str], workers: Workers
) -> None:
    job_id = queue_discovery(pg_env, small_sim)
    stored = str(sql(pg_env, "select args from procrastinate_jobs"))
    assert PASSWORD_ENV in stored and small_sim.password not in stored  # the variable's name only
    first, second = workers.start(), workers.start()
    # The discovery is under way once its snapshot row says running: kill that worker outright.
    running = "select id, pid from snapshots where status = 'running'"
    row = wait_for(lambda: sql(pg_env, running), "a discovery under way")
    victim = next(p for p in (first, second) if p.pid == row[0][1])
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    wait_for(lambda: job_status(pg_env, job_id) == "succeeded", "the retried job", timeout=180)

    snaps = sql(pg_env, "select id, status, vm_count from snapshots order by id")
    assert [s[1] for s in snaps] == ["interrupted", "complete"], snaps
    killed, done = snaps[0][0], snaps[1][0]
    assert snaps[1][2] == VMS
    assert sql(pg_env, "select count(*) from vms where snapshot_id = :s", s=killed) == [(0,)]
    counts = sql(pg_env, "select count(*), count(distinct moref) from vms where snapshot_id = :s", s=done)
    assert counts == [(VMS, VMS)]
    survivor = second if victim is first else first
    assert sql(pg_env, "select pid from snapshots where id = :s", s=done) == [(survivor.pid,)]
    job = cli(pg_env, "jobs", "show", str(job_id), "--format", "json").json()
    assert job["attempts"] >= 1 and job["task"] == "discover" and job["what"] == small_sim.url


@pytest.mark.vcsim
def test_two_discoveries_of_one_vcenter_never_overlap(
    small_sim: Simulator, pg_env: dict[str, str], workers: Workers
) -> None:
    ids = [queue_discovery(pg_env, small_sim) for _ in range(3)]
    workers.start("--concurrency", "2")
    workers.start("--concurrency", "2")
    wait_for(lambda: all(job_status(pg_env, i) == "succeeded" for i in ids), "three discoveries")
    assert cli(pg_env, "jobs", "show", str(ids[0]), "--format", "json").json()["status"] == "succeeded"
    spans = sql(pg_env, "select started_at, finished_at from snapshots where status = 'complete' order by id")
    assert len(spans) == 3
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start, spans  # the lock: one after the other, even with four free slots
    # each discovery then queued the findings of its snapshot: 6 jobs, all done
    wait_for(lambda: cli(pg_env, "jobs", "list").stderr == "progress: 6 succeeded\n", "the findings jobs")
    rows = cli(pg_env, "jobs", "list", "--format", "json").json()
    assert sorted(r["task"] for r in rows) == ["discover"] * 3 + ["findings"] * 3
    locks = {r["lock"] for r in rows if r["task"] == "discover"}
    assert len(locks) == 1 and locks.pop().startswith("vcenter:"), rows


@pytest.mark.vcsim
def test_schedule_discovery_queues_its_next_run(
    small_sim: Simulator, pg_env: dict[str, str], workers: Workers
) -> None:
    args = ["schedule-discovery", *discover_args(small_sim, "--workers", "1")[1:]]
    too_often = migrator(*args, "--every", "1m", env=store_env(pg_env))
    assert_one_line_error(too_often, ExitCode.USAGE, "--every", "at least 5 minutes")
    first = int(cli(pg_env, *args, "--every", "1d").stdout.split("job(s) ")[1].split()[0])
    twice = migrator(*args, "--every", "1d", env=store_env(pg_env))
    assert_one_line_error(twice, ExitCode.CONFLICT, "already queued")
    workers.start()
    wait_for(lambda: job_status(pg_env, first) == "succeeded", "the first run")
    later = sql(
        pg_env,
        "select id, status, scheduled_at - now() from procrastinate_jobs "
        "where task_name = 'discover' and id <> :i",
        i=first,
    )
    assert len(later) == 1 and later[0][1] == "todo", later
    assert 86300 < later[0][2].total_seconds() <= 86400  # the next run, a day later
    # every run keeps its samples in the utilisation history (docs/scale.md#utilisation-history)
    [(samples,)] = sql(pg_env, "select samples from utilisation_runs")
    assert samples > 0 and sql(pg_env, "select count(*) from utilisation_samples") == [(samples,)]
    wait_for(
        lambda: (
            sql(pg_env, "select status from procrastinate_jobs where task_name = 'findings'")
            == [("succeeded",)]
        ),
        "findings",
    )
    cancelled = cli(pg_env, "jobs", "cancel", str(later[0][0]), "--format", "json").json()
    assert cancelled["status"] == "cancelled"  # the schedule ends
    finished = migrator("jobs", "cancel", str(first), env=store_env(pg_env))
    assert_one_line_error(finished, ExitCode.CONFLICT, "only a queued job")
    missing = migrator("jobs", "show", "999", env=store_env(pg_env))
    assert_one_line_error(missing, ExitCode.NOT_FOUND, "no job with id 999")


def test_one_planning_job_per_workspace_then_a_worker_plans(
    demo_sim: Simulator, pg_env: dict[str, str], workers: Workers
) -> None:
    env = {**pg_env, **sim_env(demo_sim)}
    cli(env, *discover_args(demo_sim, "--perf-days", "0"))  # here, not queued
    queued = cli(env, "waves", "plan", "--max-vms", "6", "--queue").stdout
    job_id = int(queued.split("job(s) ")[1].split()[0])
    again = migrator("waves", "plan", "--queue", env=store_env(env))
    assert_one_line_error(again, ExitCode.CONFLICT, "already queued")
    workers.start()
    wait_for(lambda: job_status(env, job_id) == "succeeded", "the planning job")
    plans = cli(env, "waves", "show", "--format", "json").json()
    assert plans["plan"]["parameters"]["max_vms"] == 6
    # The dashboard shows the same queue: /api/jobs and the /jobs page.
    ws = Workspace.open(Path(pg_env.get("TMPDIR", "/tmp")) / "unused", env["MIGRATOR_DB_URL"])
    client = local_client(create_app(ws))
    doc = client.get("/api/jobs").json()
    assert doc["queue"] is True and doc["progress"]["by_status"] == {"succeeded": 1}
    assert [(j["id"], j["task"], j["status"]) for j in doc["jobs"]] == [(job_id, "plan-waves", "succeeded")]
    shown = client.get("/jobs")
    assert shown.status_code == 200 and "plan-waves" in shown.text and "1 succeeded" in shown.text
    ws.close()
    # A finished job cannot be retried (exit 10); a failed one can. A password variable the worker
    # does not have fails the job at once (bad input is not retried by itself).
    refused = migrator("jobs", "retry", str(job_id), env=store_env(env))
    assert_one_line_error(refused, ExitCode.CONFLICT, "only a failed job")
    args = [
        "discover",
        "--server",
        demo_sim.url,
        "--user",
        "ro",
        "--password-env",
        "NOT_ON_THE_WORKER",
        "--queue",
    ]
    failing = int(cli(env, *args).stdout.split("job(s) ")[1].split()[0])
    wait_for(lambda: job_status(env, failing) == "failed", "the failed job")
    attempts = "select attempts, status from procrastinate_jobs where id = :i"
    [(before, _)] = sql(env, attempts, i=failing)
    retried = cli(env, "jobs", "retry", str(failing), "--format", "json").json()
    assert retried["status"] in ("todo", "doing", "failed") and retried["attempts"] > before
    # the worker ran it again: more attempts, failed again for the same reason
    wait_for(
        lambda: (row := sql(env, attempts, i=failing)[0])[1] == "failed" and row[0] > before + 1, "the rerun"
    )
    # Why it failed: the task's one line, in `jobs show`, `jobs list --format json` and on /jobs.
    why = (
        "UsageError: environment variable NOT_ON_THE_WORKER (the vCenter password) is not set on this worker"
    )
    shown_job = cli(env, "jobs", "show", str(failing), "--format", "json").json()
    assert shown_job["status"] == "failed" and shown_job["error"] == why, shown_job
    assert why in cli(env, "jobs", "show", str(failing)).stdout
    listed = {j["id"]: j for j in cli(env, "jobs", "list", "--format", "json").json()}
    assert listed[failing]["error"] == why and listed[job_id]["error"] is None
    stored = sql(env, "select job_id, attempt, error from job_errors order by id")
    assert [r[0] for r in stored] == [failing] * len(stored) and len(stored) >= 2  # one per attempt
    assert {r[2] for r in stored} == {why}
    ws = Workspace.open(Path(pg_env.get("TMPDIR", "/tmp")) / "unused", env["MIGRATOR_DB_URL"])
    page = local_client(create_app(ws)).get("/jobs").text
    ws.close()
    assert "is not set on this worker" in page and "Traceback" not in page


def test_two_planning_jobs_never_run_at_once(
    demo_sim: Simulator, pg_env: dict[str, str], workers: Workers
) -> None:
    """The planning lock: a second planning job waits while the first runs, even with a free
    worker. No timing: the first job is held inside the store (the plans table locked by this
    test), and a job queued after the second one shows that the free worker looked past it."""
    env = {**pg_env, **sim_env(demo_sim)}
    cli(env, *discover_args(demo_sim, "--perf-days", "0"))
    engine = create_engine(env["MIGRATOR_DB_URL"])
    holder = engine.connect()
    try:
        holding = holder.begin()
        holder.execute(text("LOCK TABLE wave_plans IN EXCLUSIVE MODE"))  # reads pass, the insert waits
        first = int(
            cli(env, "waves", "plan", "--max-vms", "6", "--queue").stdout.split("job(s) ")[1].split()[0]
        )
        workers.start()
        wait_for(lambda: job_status(env, first) == "doing", "the first planning job running")
        # The queueing lock is free again (the first is no longer queued): a second one is queued.
        second = int(
            cli(env, "waves", "plan", "--max-vms", "5", "--queue").stdout.split("job(s) ")[1].split()[0]
        )
        workers.start()
        probe_args = ["discover", "--server", demo_sim.url, "--user", "ro", "--password-env", "UNSET_HERE"]
        probe = int(cli(env, *probe_args, "--queue").stdout.split("job(s) ")[1].split()[0])
        # The free worker fetches the oldest job it may run: it ran the probe, so it passed over
        # the second planning job because of the lock.
        wait_for(lambda: job_status(env, probe) == "failed", "the probe job")
        assert job_status(env, second) == "todo" and job_status(env, first) == "doing"
        holding.rollback()
    finally:
        holder.close()
        engine.dispose()
    wait_for(lambda: job_status(env, second) == "succeeded", "the second planning job")
    runs = [cli(env, "jobs", "show", str(i), "--format", "json").json() for i in (first, second)]
    assert [r["status"] for r in runs] == ["succeeded", "succeeded"]
    assert runs[0]["lock"] == runs[1]["lock"] == "planning:default"  # one planning job per tenant
    assert runs[0]["finished_at"] <= runs[1]["started_at"], runs
    plans = sql(env, "select id from wave_plans order by id")
    assert len(plans) == 2


def test_plan_fans_out_one_job_per_wave(
    demo_sim: Simulator, pg_env: dict[str, str], workers: Workers, tmp_path: Path
) -> None:
    env = {**pg_env, **sim_env(demo_sim)}
    cli(env, *discover_args(demo_sim, "--perf-days", "0"))
    planned = migrator("waves", "plan", "--max-vms", "6", env=store_env(env))
    assert planned.code in (ExitCode.OK, ExitCode.INCOMPLETE), planned.stderr
    waves = [w["number"] for w in cli(env, "waves", "show", "--format", "json").json()["waves"]]
    out = tmp_path / "migration"
    queued = cli(env, "plan", "--target", "kubevirt", "--out", str(out), "--land", "--queue").stdout
    assert f"{len(waves)} wave(s)" in queued, queued
    workers.start("--concurrency", "2", "--queue", "generation")
    done = "select count(*) from procrastinate_jobs where status = 'succeeded'"
    # one generate-wave job per wave, then one land-pr job per clean wave
    wait_for(lambda: sql(env, done)[0][0] == 2 * len(waves), "every wave's jobs", timeout=300)
    assert sorted(p.name for p in (out / "kubevirt").iterdir() if p.name.startswith("wave-")) == [
        f"wave-{n:02d}" for n in waves
    ]
    listed = cli(env, "jobs", "list")
    assert f"plan 1 kubevirt: {2 * len(waves)}/{2 * len(waves)} done, 0 failed" in listed.stderr, (
        listed.stderr
    )
    rows = cli(env, "jobs", "list", "--format", "json").json()
    generated = sorted(r["what"] for r in rows if r["task"] == "generate-wave")
    assert generated == sorted(f"wave {n} kubevirt" for n in waves)
    assert {r["batch"] for r in rows} == {"plan 1 kubevirt"}
    prs = cli(env, "pr", "list", "--format", "json").json()
    assert sorted(p["wave"] for p in prs) == waves and {p["target"] for p in prs} == {"kubevirt"}


def test_queue_needs_postgresql(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    for args in (
        ["discover", "--server", "vc.example.com", "--user", "ro", "--password-env", "P", "--queue"],
        ["waves", "plan", "--queue"],
        ["plan", "--target", "kubevirt", "--queue"],
        ["jobs", "list"],
        ["worker"],
    ):
        result = migrator(*args, workspace=ws)
        assert_one_line_error(
            result,
            ExitCode.USAGE,
            "need a PostgreSQL workspace"
            if args[0] in ("jobs", "worker")
            else "--queue needs a PostgreSQL workspace",
        )
    # Which vCenter comes first: a schedule without one is a usage error, not a crash.
    for missing in (["--user", "ro"], ["--server", "vc.example.com"]):
        result = migrator(
            "schedule-discovery", "--every", "1d", "--password-env", "P", *missing, workspace=ws
        )
        assert_one_line_error(result, ExitCode.USAGE, "give --server and --user")


def test_dashboard_jobs_on_sqlite_say_there_is_no_queue(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "ws")
    client = local_client(create_app(ws))
    assert client.get("/api/jobs").json() == {
        "queue": False,
        "progress": {"by_status": {}, "batches": {}},
        "jobs": [],
    }
    page = client.get("/jobs")
    assert page.status_code == 200 and "uses SQLite" in page.text
    assert '<a href="/jobs">Jobs</a>' in page.text  # in the nav of every page
    ws.close()


def test_schema_is_procrastinates_own(pg_env: dict[str, str]) -> None:
    """Revision 0016 applied procrastinate 3.10.0's schema as it is (its % signs too), and the
    installed procrastinate has that schema: a newer one needs a revision of its migrations."""
    from importlib import resources

    cli(pg_env, "snapshots", "list")  # opens (and upgrades) the store
    body = sql(pg_env, "select prosrc from pg_proc where proname = 'procrastinate_retry_job_v2'")[0][0]
    assert "(job id: %)" in body
    shipped = Path(__file__).resolve().parents[1] / "migrator/store/migrations/procrastinate-3.10.0.sql"
    installed = (resources.files("procrastinate.sql") / "schema.sql").read_text(encoding="utf-8")
    assert shipped.read_text(encoding="utf-8") == installed


def test_revision_0016_downgrades_and_upgrades_again(pg_env: dict[str, str], tmp_path: Path) -> None:
    """Downgrade removes every procrastinate object; opening the workspace applies them again."""
    from alembic import command

    from migrator.settings import Settings
    from migrator.store.database import open_engine
    from migrator.store.schema import alembic_config

    url = pg_env["MIGRATOR_DB_URL"]
    open_engine(Settings.resolve(tmp_path / "ws", url)).dispose()
    objects = (
        "select count(*) from pg_class where relname like 'procrastinate%' union all "
        "select count(*) from pg_proc where proname like 'procrastinate%' union all "
        "select count(*) from pg_type where typname like 'procrastinate%'"
    )
    created = [n for (n,) in sql(pg_env, objects)]
    assert all(created), created
    engine = create_engine(url)
    with engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "0015_estates")
    engine.dispose()
    assert [n for (n,) in sql(pg_env, objects)] == [0, 0, 0]
    open_engine(Settings.resolve(tmp_path / "ws", url)).dispose()
    assert [n for (n,) in sql(pg_env, objects)] == created


@pytest.mark.vcsim
def test_estate_discovery_fans_out_one_job_per_vcenter(
    small_sim: Simulator, demo_sim: Simulator, pg_env: dict[str, str], workers: Workers
) -> None:
    # Two vCenters with their own passwords: the jobs name the variables, the worker reads them.
    env = {**pg_env, "VC_SMALL_PASS": small_sim.password, "VC_DEMO_PASS": demo_sim.password}
    for name, sim, var in (("vc-small", small_sim, "VC_SMALL_PASS"), ("vc-demo", demo_sim, "VC_DEMO_PASS")):
        add = ["estate", "add", name, "--server", sim.url, "--user", sim.username, "--password-env", var]
        assert migrator(*add, env=store_env(env)).code == 0
    queued = migrator("discover", "--estate", "--queue", "--perf-days", "0", env=store_env(env))
    assert queued.code == 0, queued.stderr
    assert queued.stdout.startswith("queued estate snapshot "), queued.stdout
    rows = cli(env, "jobs", "list", "--format", "json").json()
    discoveries = [r for r in rows if r["task"] == "discover-estate-vcenter"]
    assert len(discoveries) == 2 and len({r["lock"] for r in discoveries}) == 2, rows
    ids = [r["id"] for r in discoveries]
    stored = str(sql(env, "select args from procrastinate_jobs"))
    assert small_sim.password not in stored and demo_sim.password not in stored
    workers.env = env
    workers.start("--concurrency", "2")
    estate = "select id from snapshots where source = 'estate' and status = 'complete'"
    [(estate_id,)] = wait_for(lambda: sql(env, estate), "the estate snapshot", timeout=180)
    members = sql(env, "select vcenter, status, snapshot_id from estate_members order by vcenter")
    assert [m[:2] for m in members] == [("vc-demo", "complete"), ("vc-small", "complete")], members
    count = "select count(*) from vms where snapshot_id = :s"
    parts = [sql(env, count, s=m[2])[0][0] for m in members]
    assert parts[1] == VMS and parts[0] > 0, parts
    assert sql(env, count, s=estate_id)[0][0] == sum(parts)  # both vCenters, each VM once
    assert all(job_status(env, i) == "succeeded" for i in ids), ids
    # The job that settled the estate snapshot queued its findings.
    wait_for(
        lambda: sql(env, "select count(*) from procrastinate_jobs where task_name = 'findings'") == [(1,)],
        "the estate's findings job",
    )


def test_failure_reason_is_one_line_without_a_bugs_text() -> None:
    """migrator's errors are shown as the CLI shows them; any other exception (a bug) keeps only
    its type: its text might quote a connection string or a value."""
    from migrator.app.jobs import failure_reason
    from migrator.errors import VCenterError

    assert failure_reason(VCenterError("vc1: login refused\nmore")) == "VCenterError: vc1: login refused"
    leaked = RuntimeError("postgresql://u:s3cret@db/x unreachable")
    assert failure_reason(leaked) == "internal error (RuntimeError): see the worker's log"


@pytest.mark.vcsim
def test_a_worker_sigkilled_in_an_estate_discovery_the_other_completes_the_estate(
    small_sim: Simulator, demo_sim: Simulator, pg_env: dict[str, str], workers: Workers
) -> None:
    """Issue 23's test: one vCenter's job dies with its worker (SIGKILL) mid-discovery; the other
    worker retries it and the estate snapshot completes, each VM once."""
    env = {**pg_env, "VC_SMALL_PASS": small_sim.password, "VC_DEMO_PASS": demo_sim.password}
    for name, sim, var in (("vc-small", small_sim, "VC_SMALL_PASS"), ("vc-demo", demo_sim, "VC_DEMO_PASS")):
        add = ["estate", "add", name, "--server", sim.url, "--user", sim.username, "--password-env", var]
        assert migrator(*add, env=store_env(env)).code == 0
    assert migrator("discover", "--estate", "--queue", "--perf-days", "0", env=store_env(env)).code == 0
    workers.env = env
    first, second = workers.start(), workers.start()
    running = "select id, pid from snapshots where status = 'running' and source = 'vcenter'"
    row = wait_for(lambda: sql(env, running), "a vCenter's discovery under way")
    victim = next(p for p in (first, second) if p.pid == row[0][1])
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()

    estate = "select id from snapshots where source = 'estate' and status = 'complete'"
    [(estate_id,)] = wait_for(lambda: sql(env, estate), "the estate snapshot", timeout=300)
    assert sql(env, "select status from snapshots where id = :s", s=row[0][0]) == [("interrupted",)]
    members = sql(env, "select vcenter, status, snapshot_id from estate_members order by vcenter")
    assert [m[:2] for m in members] == [("vc-demo", "complete"), ("vc-small", "complete")], members
    assert row[0][0] not in {m[2] for m in members}  # the member is the retried run's snapshot
    count = "select count(*), count(distinct moref) from vms where snapshot_id = :s"
    parts = [sql(env, count, s=m[2])[0] for m in members]
    assert all(total == distinct > 0 for total, distinct in parts), parts
    assert sql(env, count, s=estate_id)[0][0] == sum(p[0] for p in parts)  # each VM once
