"""Bad credentials, unreachable servers, TLS, interrupted runs: one line, a documented code, no damage."""

from __future__ import annotations

import hashlib
import pickle
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from migrator.errors import ExitCode, InterruptedRun
from migrator.secrets import Secret
from migrator.simulator.estate import Estate
from migrator.simulator.launcher import Simulator, Topology
from migrator.vcenter import discovery
from migrator.vcenter.address import parse_server
from migrator.vcenter.connection import ConnectionParams, TLSOptions
from tests.conftest import PASSWORD_ENV, discover_args, free_port, sim_env
from tests.helpers import Result, assert_one_line_error, migrator, migrator_command

pytestmark = pytest.mark.vcsim


@pytest.fixture(scope="module")
def tls_sim(vcsim_binary: Path) -> Iterator[Simulator]:
    with Simulator(topology=Topology(vms_per_pool=2), tls=True, password="tls-Pa55word") as sim:
        yield sim


def _thumbprint(sim: Simulator) -> str:
    host, port = sim.address
    pem = ssl.get_server_certificate((host, port))
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def test_wrong_password(demo_sim: Simulator, tmp_path: Path) -> None:
    result = migrator(*discover_args(demo_sim), workspace=tmp_path, env={PASSWORD_ENV: "not-the-password"})
    assert_one_line_error(result, ExitCode.VCENTER, "login refused", demo_sim.username)
    assert "not-the-password" not in result.stderr + result.stdout
    snaps = migrator("snapshots", "list", "--format", "json", workspace=tmp_path).json()
    assert [(s["status"], s["error"]) for s in snaps] == [
        ("failed", f"login refused at {demo_sim.url} for user '{demo_sim.username}'")
    ]


def _discover_at(server: str, workspace: Path) -> Result:
    """Discovery against an address where no simulator answers."""
    return migrator(
        "discover",
        "--server",
        server,
        "--user",
        "u",
        "--password-env",
        PASSWORD_ENV,
        workspace=workspace,
        env={PASSWORD_ENV: "x"},
    )


def test_unreachable_server(tmp_path: Path) -> None:
    url = f"https://127.0.0.1:{free_port()}/sdk"
    result = _discover_at(url, tmp_path)
    assert_one_line_error(result, ExitCode.VCENTER, "cannot reach vCenter", "Connection refused")


def test_unknown_host_name(tmp_path: Path) -> None:
    result = _discover_at("vc.invalid", tmp_path)
    assert_one_line_error(result, ExitCode.VCENTER, "cannot reach vCenter at https://vc.invalid/sdk")


def test_missing_password_variable(demo_sim: Simulator, tmp_path: Path) -> None:
    result = migrator(*discover_args(demo_sim), workspace=tmp_path, env={})
    assert_one_line_error(result, ExitCode.USAGE, PASSWORD_ENV, "is not set")


def test_password_is_never_an_argument(demo_sim: Simulator, tmp_path: Path) -> None:
    result = migrator(
        "discover", "--server", demo_sim.url, "--user", "u", "--password", "pw", workspace=tmp_path
    )
    assert result.code == ExitCode.USAGE
    assert "No such option" in result.stderr and "Traceback" not in result.stderr


def test_tls_is_verified_by_default(tls_sim: Simulator, tmp_path: Path) -> None:
    result = migrator(*discover_args(tls_sim), workspace=tmp_path, env=sim_env(tls_sim))
    assert_one_line_error(result, ExitCode.VCENTER, "TLS: cannot verify the certificate", "--thumbprint")


def test_tls_thumbprint_mismatch(tls_sim: Simulator, tmp_path: Path) -> None:
    wrong = "ab" * 32
    result = migrator(
        *discover_args(tls_sim, "--thumbprint", wrong), workspace=tmp_path, env=sim_env(tls_sim)
    )
    assert_one_line_error(result, ExitCode.VCENTER, "not the pinned --thumbprint", _thumbprint(tls_sim))


def test_tls_pinned_thumbprint_and_insecure_work(tls_sim: Simulator, tmp_path: Path) -> None:
    pinned = ":".join(_thumbprint(tls_sim)[i : i + 2] for i in range(0, 64, 2)).upper()
    ok = migrator(
        *discover_args(tls_sim, "--thumbprint", pinned, "--perf-days", "0"),
        workspace=tmp_path,
        env=sim_env(tls_sim),
    )
    assert ok.code == 0, ok.stderr
    insecure = migrator(
        *discover_args(tls_sim, "--insecure", "--perf-days", "0"), workspace=tmp_path, env=sim_env(tls_sim)
    )
    assert insecure.code == 0, insecure.stderr
    snaps = migrator("snapshots", "list", "--format", "json", workspace=tmp_path).json()
    assert [(s["status"], s["vms"]) for s in snaps] == [("complete", 2), ("complete", 2)]


def test_secrets_never_leak(demo_sim: Simulator, tmp_path: Path) -> None:
    result = migrator(*discover_args(demo_sim, "--perf-days", "0"), workspace=tmp_path, env=sim_env(demo_sim))
    assert result.code == 0
    exported = migrator("inventory", "export", "--format", "json", workspace=tmp_path)
    haystacks = [result.stdout, result.stderr, exported.stdout]
    haystacks += [p.read_bytes().decode("latin-1") for p in tmp_path.rglob("*") if p.is_file()]
    for hay in haystacks:
        assert demo_sim.password not in hay


def test_killed_vcenter_mid_discovery_keeps_earlier_snapshots(
    demo_sim: Simulator, vcsim_binary: Path, tmp_path: Path
) -> None:
    first = migrator(*discover_args(demo_sim, "--perf-days", "0"), workspace=tmp_path, env=sim_env(demo_sim))
    assert first.code == 0
    before = migrator("inventory", "export", "--format", "json", workspace=tmp_path).json()

    big = Simulator(topology=Estate.generated(6000, clusters=4), password="big-pw").start()
    try:
        cmd = migrator_command(*discover_args(big, "--perf-days", "7"), workspace=tmp_path)
        proc = subprocess.Popen(
            cmd,
            env={**sim_env(big), "PATH": "/usr/bin:/bin"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        engine = create_engine(f"sqlite:///{tmp_path / 'inventory.db'}")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # wait until the run is under way
            with engine.connect() as conn:
                if conn.execute(text("select count(*) from snapshots where status='running'")).scalar():
                    break
            time.sleep(0.2)
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        while proc.poll() is None and time.monotonic() < deadline:  # logged in: VM workers started
            if len(children.read_text(encoding="ascii").split()) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "discovery finished before the simulator could be killed"
        big.kill()
        _stdout, stderr = proc.communicate(timeout=300)
    finally:
        big.stop()
    assert proc.returncode == ExitCode.INTERRUPTED, stderr
    assert "Traceback" not in stderr
    assert "connection to vCenter lost during discovery" in stderr
    snaps = migrator("snapshots", "list", "--format", "json", workspace=tmp_path).json()
    assert [s["status"] for s in snaps] == ["complete", "interrupted"]
    assert snaps[1]["vms"] == 0 and "connection to vCenter lost" in snaps[1]["error"]
    after = migrator("inventory", "export", "--format", "json", workspace=tmp_path).json()
    assert after == before  # the latest complete snapshot is untouched
    with engine.connect() as conn:
        assert (
            conn.execute(text(f"select count(*) from vms where snapshot_id={snaps[1]['id']}")).scalar() == 0
        )


def test_worker_that_cannot_join_the_session_means_an_interrupted_run() -> None:
    """The parent logged in; a worker finding vCenter gone is a lost connection (exit 4), not an
    unreachable server (exit 3). A closed loopback port stands in for the vanished vCenter."""
    params = ConnectionParams(
        parse_server(f"http://127.0.0.1:{free_port()}/sdk"), "u", Secret("p"), TLSOptions(), timeout=5
    )
    discovery._worker_init(params, "vim.version.version11", "cookie")
    try:
        discovery._worker_attach()  # the early join fails quietly: the chunk meets it again
        with pytest.raises(InterruptedRun, match="connection to vCenter lost during discovery"):
            discovery._worker_chunk(["vm-1"], pickle.dumps((discovery.Lookups(), None)))
    finally:
        discovery._worker_state.clear()
