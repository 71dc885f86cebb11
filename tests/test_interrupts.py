"""Ctrl-C (SIGINT) and SIGKILL on every command that writes: exit 4 with one line for SIGINT,
and for both signals the previous results are intact, nothing half-stored is visible, and the
next run recovers. The signal is sent once the work is observably under way (a staging folder,
a running snapshot row, the database open, worker processes started), never after a fixed delay.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import create_engine, text

from migrator.atomic import recover, replace_dir, staging_path
from migrator.errors import ExitCode
from migrator.simulator.estate import Estate
from migrator.simulator.launcher import Simulator
from tests import rvtools_factory as factory
from tests.conftest import discover_args, free_port, sim_env
from tests.golden import FIXTURES, workspace_with
from tests.helpers import Result, assert_one_line_error, migrator, migrator_command
from tests.test_flows import ipfix_packets

Condition = Callable[[subprocess.Popen[str]], bool]


def run_and_signal(
    args: list[str],
    workspace: Path,
    ready: Condition,
    sig: signal.Signals,
    env: dict[str, str] | None = None,
    repeat: int = 1,
) -> Result:
    """Start the CLI, wait until `ready` holds while it still runs, then send `sig` to its group."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATOR_")}
    full_env.update(env or {})
    proc = subprocess.Popen(
        migrator_command(*args, workspace=workspace),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=full_env,
        start_new_session=True,  # its own process group: the signal reaches it as Ctrl-C would
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # pytest may run with it ignored
    )
    try:
        deadline = time.monotonic() + 240
        while not ready(proc):
            assert proc.poll() is None, f"the run ended before work was under way: {proc.stderr}"
            assert time.monotonic() < deadline, "work never got under way"
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before the signal"
        for _ in range(repeat):
            os.killpg(proc.pid, sig)
        out, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return Result(proc.returncode, out, err)


def check_signal_outcome(result: Result, sig: signal.Signals) -> None:
    if sig is signal.SIGINT:
        assert_one_line_error(result, ExitCode.INTERRUPTED, "error: interrupted (Ctrl-C)")
    elif sig is signal.SIGTERM:
        assert_one_line_error(result, ExitCode.INTERRUPTED, "error: interrupted (SIGTERM)")
    else:
        assert result.code == -signal.SIGKILL, (result.code, result.stderr)


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def has_open(path: Path) -> Condition:
    """True once the process holds `path` open (for example the database)."""

    def check(proc: subprocess.Popen[str]) -> bool:
        try:
            fds = os.listdir(f"/proc/{proc.pid}/fd")
        except FileNotFoundError:
            return False
        for fd in fds:
            try:
                if os.readlink(f"/proc/{proc.pid}/fd/{fd}") == str(path.resolve()):
                    return True
            except OSError:
                continue
        return False

    return check


def sql(workspace: Path, query: str) -> list[Any]:
    engine = create_engine(f"sqlite:///{workspace / 'inventory.db'}")
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(query)))
    finally:
        engine.dispose()


def running_snapshot(workspace: Path) -> Condition:
    return lambda _proc: bool(sql(workspace, "select id from snapshots where status = 'running'"))


def assert_no_half_snapshot(workspace: Path) -> None:
    """Every snapshot marked complete holds exactly the VMs it claims; no other has any VM."""
    rows = sql(
        workspace,
        "select s.id, s.status, s.vm_count, (select count(*) from vms v where v.snapshot_id = s.id) "
        "from snapshots s",
    )
    for snap_id, status, claimed, stored in rows:
        if status == "complete":
            assert stored == claimed, (snap_id, stored, claimed)
        else:
            assert stored == 0, (snap_id, status, stored)


def export(workspace: Path, snapshot: int) -> str:
    result = migrator("inventory", "export", "--snapshot", str(snapshot), workspace=workspace)
    assert result.code == 0, result.stderr
    return result.stdout


# -- plan ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plan_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = workspace_with(tmp_path_factory.mktemp("ws"), "synthetic-300.json", "synthetic-300.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0
    return ws


@pytest.fixture(scope="module")
def two_versions(plan_ws: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Complete plan outputs for two option sets (the run before and the interrupted run)."""
    old, new = tmp_path_factory.mktemp("old"), tmp_path_factory.mktemp("new")
    for out, region in ((old, "us-east-1"), (new, "eu-west-3")):
        result = migrator(
            "plan", "--target", "terraform-aws", "--out", str(out), "--region", region, workspace=plan_ws
        )
        assert result.code == 0, result.stderr
    return old / "terraform-aws", new / "terraform-aws"


def staging_of_wave(root: Path, number: int) -> Condition:
    return lambda _proc: any(root.glob(f".wave-{number:02d}.partial-*"))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_plan_interrupted_keeps_every_wave_complete(
    plan_ws: Path, two_versions: tuple[Path, Path], tmp_path: Path, sig: signal.Signals
) -> None:
    old, new = two_versions
    out = tmp_path / "out"
    assert migrator("plan", "--target", "terraform-aws", "--out", str(out), workspace=plan_ws).code == 0
    root = out / "terraform-aws"
    assert tree(root) == tree(old)
    waves = sorted(p.name for p in old.iterdir())
    assert len(waves) >= 4 and tree(old) != tree(new)

    args = ["plan", "--target", "terraform-aws", "--out", str(out), "--region", "eu-west-3"]
    result = run_and_signal(args, plan_ws, staging_of_wave(root, 3), sig)
    check_signal_outcome(result, sig)

    # Every wave folder is exactly the old or exactly the new version: never missing, never mixed.
    assert sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) == waves
    versions = ["old" if tree(root / w) == tree(old / w) else "new" for w in waves]
    for w, version in zip(waves, versions, strict=True):
        assert tree(root / w) == tree((old if version == "old" else new) / w), w
    assert versions[0] == "new" and versions[-1] == "old", versions  # interrupted mid-run
    if sig is signal.SIGINT:
        assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []  # cleaned up at once

    again = migrator(*args, workspace=plan_ws)  # the next run recovers and completes
    assert again.code == 0, again.stderr
    assert tree(root) == tree(new)
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []


def test_recover_restores_a_wave_an_older_release_left_moved_aside(tmp_path: Path) -> None:
    """Releases before the atomic exchange moved the old version aside, then the new one in: a
    SIGKILL between the two renames left the wave missing. Such a workspace is repaired."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    root = tmp_path / "terraform-aws"
    final = root / "wave-01"
    for name, content in ((f".wave-01.old-{dead.pid}", "old\n"), (f".wave-01.partial-{dead.pid}", "new\n")):
        (root / name).mkdir(parents=True)
        (root / name / "main.tf").write_text(content, encoding="utf-8")
    (root / "wave-02").mkdir()
    (root / f".wave-02.trash-{dead.pid}").mkdir()  # killed while deleting the replaced version

    repairs = recover(root)
    assert (final / "main.tf").read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in root.iterdir()) == ["wave-01", "wave-02"]
    assert repairs == [
        "restored wave-01 from an interrupted replacement",
        f"removed .wave-01.partial-{dead.pid} left by an interrupted run",
        f"removed .wave-02.trash-{dead.pid} left by an interrupted run",
    ]

    staging = staging_path(final)  # and a normal replacement afterwards works
    staging.mkdir()
    (staging / "main.tf").write_text("new\n", encoding="utf-8")
    replace_dir(staging, final)
    assert (final / "main.tf").read_text(encoding="utf-8") == "new\n"
    assert sorted(p.name for p in root.iterdir()) == ["wave-01", "wave-02"]


def test_recover_leaves_a_live_runs_staging_alone(tmp_path: Path) -> None:
    live = subprocess.Popen(["sleep", "60"])
    try:
        (tmp_path / f".wave-01.partial-{live.pid}").mkdir()
        (tmp_path / ".wave-02.partial").mkdir()  # an older release's untagged staging folder
        (tmp_path / "wave-03").mkdir()
        (tmp_path / f".wave-03.old-{live.pid}").mkdir()  # beside its final folder: garbage
        recover(tmp_path)
        assert sorted(p.name for p in tmp_path.iterdir()) == [f".wave-01.partial-{live.pid}", "wave-03"]
    finally:
        live.kill()
        live.wait()


# -- imports -------------------------------------------------------------------------------------


def big_inventory(path: Path, copies: int = 60) -> Path:
    """The synthetic estate repeated: about 18,000 VMs, slow enough to interrupt while storing."""
    doc = json.loads((FIXTURES / "inventories" / "synthetic-300.json").read_text(encoding="utf-8"))
    vms = []
    for i in range(copies):
        for vm in doc["vms"]:
            clone = copy.deepcopy(vm)
            clone["name"], clone["moref"] = f"{vm['name']}-{i}", f"{vm['moref']}-{i}"
            vms.append(clone)
    doc["vms"] = vms
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def big_workbook(path: Path, rows: int = 12000) -> Path:
    """An RVTools workbook (display dialect) with `rows` VMs."""
    book = Workbook()
    book.remove(book.active)
    vms = [
        dict(
            factory.VMS[0],
            vm=f"web-{i:05d}",
            vmid=f"vm-{100000 + i}",
            uuid=f"5001aaaa-0000-0000-0000-{i:012d}",
        )
        for i in range(rows)
    ]
    data = {"vInfo": vms, "vDisk": [], "vNetwork": [], "vPartition": [], "vMemory": []}
    for sheet, columns in factory.DIALECTS["display"].items():
        factory._sheet(book, sheet, columns, data[sheet], custom=sheet == "vInfo")
    book.save(path)
    return path


@pytest.mark.parametrize(
    ("kind", "sig"),
    [
        ("inventory", signal.SIGINT),
        ("inventory", signal.SIGKILL),
        ("inventory", signal.SIGTERM),
        ("rvtools", signal.SIGINT),
        ("rvtools", signal.SIGKILL),
    ],
)
def test_import_interrupted_while_storing(tmp_path: Path, sig: signal.Signals, kind: str) -> None:
    ws = tmp_path / "ws"
    assert (
        migrator("import", "inventory", str(FIXTURES / "inventories" / "demo.json"), workspace=ws).code == 0
    )
    before = export(ws, 1)
    source = (
        big_inventory(tmp_path / "big.json") if kind == "inventory" else big_workbook(tmp_path / "big.xlsx")
    )

    result = run_and_signal(["import", kind, str(source)], ws, running_snapshot(ws), sig)
    check_signal_outcome(result, sig)
    assert_no_half_snapshot(ws)
    statuses = [row[0] for row in sql(ws, "select status from snapshots order by id")]
    assert statuses[0] == "complete" and statuses[1] == (
        "running" if sig is signal.SIGKILL else "interrupted"
    )
    assert export(ws, 1) == before  # byte for byte
    latest = migrator("inventory", "export", workspace=ws)
    assert latest.stdout == before  # the half run is not "the latest snapshot"

    again = migrator("import", kind, str(source), workspace=ws)  # the next run recovers
    assert again.code == 0, again.stderr
    assert_no_half_snapshot(ws)
    statuses = [row[0] for row in sql(ws, "select status from snapshots order by id")]
    assert statuses == ["complete", "interrupted", "complete"]


def big_flows(path: Path, rows: int = 200_000) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("src_ip,dst_ip,dst_port,protocol,bytes,packets,connections,first_seen,last_seen\n")
        for i in range(rows):
            fh.write(
                f"10.{i // 65536}.{(i // 256) % 256}.{i % 256},10.200.0.1,443,tcp,1000,10,1,"
                "2026-11-01T00:00:00+00:00,2026-11-08T00:00:00+00:00\n"
            )
    return path


def wal_grew(workspace: Path, size: int) -> Condition:
    wal = workspace / "inventory.db-wal"
    return lambda _proc: wal.exists() and wal.stat().st_size > size + 1_000_000


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_flow_import_interrupted_while_storing(tmp_path: Path, sig: signal.Signals) -> None:
    ws = workspace_with(tmp_path / "ws", "demo.json", "demo-flows.csv")
    before = migrator("flows", "list", "--format", "json", workspace=ws).json()
    count = sql(ws, "select count(*) from flows")[0][0]
    wal = ws / "inventory.db-wal"
    source = big_flows(tmp_path / "big.csv")

    wal_size = wal.stat().st_size if wal.exists() else 0
    result = run_and_signal(["import", "flows", str(source)], ws, wal_grew(ws, wal_size), sig)
    check_signal_outcome(result, sig)
    assert migrator("flows", "list", "--format", "json", workspace=ws).json() == before
    assert sql(ws, "select count(*) from flows")[0][0] == count

    again = migrator("import", "flows", str(source), workspace=ws)
    assert again.code == 0, again.stderr
    sets = migrator("flows", "list", "--format", "json", workspace=ws).json()
    assert len(sets) == len(before) + 1 and sets[-1]["records"] == 200_000


# -- waves plan ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_waves_plan_interrupted(tmp_path: Path, sig: signal.Signals) -> None:
    ws = tmp_path / "ws"
    assert (
        migrator("import", "inventory", str(big_inventory(tmp_path / "big.json", 10)), workspace=ws).code == 0
    )
    first = migrator("waves", "plan", workspace=ws)
    assert first.code in (ExitCode.OK, ExitCode.INCOMPLETE), first.stderr  # stored either way
    plans = migrator("waves", "list", "--format", "json", workspace=ws).json()
    shown = migrator("waves", "show", "--format", "json", workspace=ws).stdout

    result = run_and_signal(["waves", "plan"], ws, has_open(ws / "inventory.db"), sig)
    check_signal_outcome(result, sig)
    after = migrator("waves", "list", "--format", "json", workspace=ws).json()
    # Either nothing new was stored, or (signal after the commit) one whole plan.
    assert after == plans or (after[: len(plans)] == plans and len(after) == len(plans) + 1)
    if after == plans:
        assert migrator("waves", "show", "--format", "json", workspace=ws).stdout == shown
    again = migrator("waves", "plan", workspace=ws)
    assert again.code in (ExitCode.OK, ExitCode.INCOMPLETE), again.stderr
    assert len(migrator("waves", "list", "--format", "json", workspace=ws).json()) == len(after) + 1


# -- discover (real vcsim) -----------------------------------------------------------------------


def workers_started(proc: subprocess.Popen[str]) -> bool:
    """True once discovery runs its worker processes (the VM retrieval, the longest phase)."""
    try:
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text(encoding="ascii").split()
    except FileNotFoundError:
        return False
    return len(children) >= 2


@pytest.fixture(scope="module")
def big_sim(vcsim_binary: Path) -> Iterator[Simulator]:
    with Simulator(topology=Estate.generated(1600, clusters=4), password="big-Pa55") as sim:
        yield sim


@pytest.mark.vcsim
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_discover_interrupted(
    demo_sim: Simulator, big_sim: Simulator, tmp_path: Path, sig: signal.Signals
) -> None:
    ws = tmp_path / "ws"
    first = migrator(*discover_args(demo_sim, "--perf-days", "0"), workspace=ws, env=sim_env(demo_sim))
    assert first.code == 0, first.stderr
    before = export(ws, 1)

    args = discover_args(big_sim, "--perf-days", "0", "--workers", "2")
    result = run_and_signal(args, ws, workers_started, sig, env=sim_env(big_sim))
    check_signal_outcome(result, sig)
    assert_no_half_snapshot(ws)
    snaps = sql(ws, "select status, error from snapshots order by id")
    assert snaps[0][0] == "complete"
    if sig is signal.SIGINT:
        assert snaps[1] == ("interrupted", "interrupted by the user")
        assert "Traceback" not in result.stderr  # nor from a worker process
    else:
        assert snaps[1][0] == "running"  # the next run marks it interrupted
    assert export(ws, 1) == before

    again = migrator(*discover_args(demo_sim, "--perf-days", "0"), workspace=ws, env=sim_env(demo_sim))
    assert again.code == 0, again.stderr
    assert [row[0] for row in sql(ws, "select status from snapshots order by id")] == [
        "complete",
        "interrupted",
        "complete",
    ]
    assert_no_half_snapshot(ws)


# -- flows collect: Ctrl-C is how a collection ends ----------------------------------------------


def test_ctrl_c_ends_a_flow_collection_and_keeps_what_arrived(tmp_path: Path) -> None:
    port = free_port()
    packets = ipfix_packets()
    args = ["flows", "collect", "--listen", f"127.0.0.1:{port}", "--duration", "600"]
    sent: list[bool] = []

    def after_packets(proc: subprocess.Popen[str]) -> bool:
        if not sent:  # wait until it listens, then send every packet once
            if not has_open_socket(proc):
                return False
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                for packet in packets:
                    sock.sendto(packet, ("127.0.0.1", port))
            sent.append(True)
        return bool(packets_received(proc))

    def packets_received(proc: subprocess.Popen[str]) -> bool:
        # the kernel's receive queue of the process's UDP socket is empty once it read them all
        udp = Path("/proc/net/udp").read_text(encoding="ascii").splitlines()[1:]
        mine = [line.split() for line in udp if line.split()[1].endswith(f":{port:04X}")]
        return bool(mine) and all(int(row[4].split(":")[1], 16) == 0 for row in mine)

    def has_open_socket(proc: subprocess.Popen[str]) -> bool:
        udp = Path("/proc/net/udp").read_text(encoding="ascii")
        return f":{port:04X} " in udp

    result = run_and_signal(args, tmp_path, after_packets, signal.SIGINT)
    assert result.code == 0, result.stderr
    assert "error" not in result.stderr and "stopped by the user" in result.stderr
    # Usually all 3 flows; a packet read but not yet decoded when Ctrl-C came is dropped whole.
    stored = sql(tmp_path, "select count(*) from flows")[0][0]
    assert 1 <= stored <= 3 and f"flow set 1: {stored} aggregated flow(s)" in result.stdout


def test_a_second_ctrl_c_stops_at_once_and_loses_nothing(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert (
        migrator("import", "inventory", str(FIXTURES / "inventories" / "demo.json"), workspace=ws).code == 0
    )
    before = export(ws, 1)
    source = big_inventory(tmp_path / "big.json")
    result = run_and_signal(
        ["import", "inventory", str(source)], ws, running_snapshot(ws), signal.SIGINT, repeat=2
    )
    assert_one_line_error(
        result, ExitCode.INTERRUPTED, "error: interrupted"
    )  # "... again" or the first's line
    assert_no_half_snapshot(ws)
    assert export(ws, 1) == before
    again = migrator("import", "inventory", str(source), workspace=ws)
    assert again.code == 0, again.stderr
    assert_no_half_snapshot(ws)


# -- pull-request landing ------------------------------------------------------------------------


def landed_one(workspace: Path) -> Condition:
    return lambda _proc: bool(sql(workspace, "select id from pull_requests"))


def assert_prs_match_branches(workspace: Path) -> None:
    """Every PR record names its branch's current head, and the repository is sound."""
    git_dir = workspace / "plans.git"
    fsck = subprocess.run(
        ["git", "--git-dir", str(git_dir), "fsck", "--strict"], capture_output=True, text=True
    )
    assert fsck.returncode == 0, fsck.stderr
    for branch, head in sql(workspace, "select branch, head_commit from pull_requests"):
        ref = subprocess.run(
            ["git", "--git-dir", str(git_dir), "rev-parse", f"refs/heads/{branch}"],
            capture_output=True,
            text=True,
        )
        assert ref.stdout.strip() == head, (branch, ref.stdout, ref.stderr)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_landing_interrupted_keeps_the_plans_repository_and_records_consistent(
    tmp_path: Path, sig: signal.Signals
) -> None:
    ws = workspace_with(tmp_path / "ws", "synthetic-300.json", "synthetic-300.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0
    args = ["plan", "--target", "terraform-aws", "--out", str(tmp_path / "out"), "--land"]
    result = run_and_signal(args, ws, landed_one(ws), sig)
    check_signal_outcome(result, sig)
    assert_prs_match_branches(ws)

    again = migrator(*args, workspace=ws)  # landing again completes what was cut short
    assert again.code == 0, again.stderr
    assert_prs_match_branches(ws)
    waves = sorted(
        p.name for p in (tmp_path / "out" / "terraform-aws").iterdir() if not p.name.startswith(".")
    )
    prs = sql(ws, "select wave, count(*) from pull_requests group by wave order by wave")
    assert [f"wave-{w:02d}" for w, _n in prs] == waves
    assert all(n == 1 for _w, n in prs), prs  # never a second PR for the same wave
