"""`discover --password-file`: a password kept out of argv, the environment and shell history,
read only from a file its owner alone can read (or a pipe), and never printed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from migrator.errors import ExitCode
from migrator.simulator.launcher import Simulator
from tests.helpers import assert_one_line_error, migrator, migrator_command

pytestmark = pytest.mark.vcsim


def discover_with_file(sim: Simulator, path: Path, workspace: Path, *extra: str) -> list[str]:
    return ["discover", "--server", sim.url, "--user", sim.username, "--password-file", str(path), *extra]


def secret_file(tmp_path: Path, content: str, mode: int = 0o600) -> Path:
    path = tmp_path / "vc-pass"
    path.write_text(content, encoding="utf-8")
    path.chmod(mode)
    return path


def test_password_file_logs_in_and_is_never_printed(demo_sim: Simulator, tmp_path: Path) -> None:
    path = secret_file(tmp_path, demo_sim.password + "\n")
    ws = tmp_path / "ws"
    result = migrator(*discover_with_file(demo_sim, path, ws, "--perf-days", "0"), workspace=ws)
    assert result.code == 0, result.stderr
    assert demo_sim.password not in result.stdout + result.stderr
    stored = [p.read_bytes().decode("latin-1") for p in ws.rglob("*") if p.is_file()]
    assert stored and all(demo_sim.password not in text for text in stored)


def test_password_from_a_pipe(demo_sim: Simulator, tmp_path: Path) -> None:
    """`--password-file <(pass show vcenter/ro)`: a secrets manager writes into a pipe."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo, 0o600)
    cmd = migrator_command(
        *discover_with_file(demo_sim, fifo, tmp_path, "--perf-days", "0"), workspace=tmp_path
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATOR_")}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    with fifo.open("w", encoding="utf-8") as writer:  # blocks until migrator opens the pipe
        writer.write(demo_sim.password + "\n")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert demo_sim.password not in out + err


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o660])
def test_group_or_world_access_is_refused(demo_sim: Simulator, tmp_path: Path, mode: int) -> None:
    path = secret_file(tmp_path, demo_sim.password + "\n", mode)
    result = migrator(*discover_with_file(demo_sim, path, tmp_path), workspace=tmp_path)
    assert_one_line_error(result, ExitCode.USAGE, "group or others may access it", "chmod 600")
    assert demo_sim.password not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("content", "fragment"),
    [("", "empty"), ("\nsecond-line\n", "empty"), ("x" * 5000, "longer than 4096 bytes")],
)
def test_unusable_file_contents(demo_sim: Simulator, tmp_path: Path, content: str, fragment: str) -> None:
    result = migrator(
        *discover_with_file(demo_sim, secret_file(tmp_path, content), tmp_path), workspace=tmp_path
    )
    assert_one_line_error(result, ExitCode.USAGE, fragment)
    assert "second-line" not in result.stderr and "xxxx" not in result.stderr


def test_missing_folder_and_conflicting_options(demo_sim: Simulator, tmp_path: Path) -> None:
    missing = migrator(*discover_with_file(demo_sim, tmp_path / "nope", tmp_path), workspace=tmp_path)
    assert_one_line_error(missing, ExitCode.USAGE, "cannot open")
    folder = migrator(*discover_with_file(demo_sim, tmp_path, tmp_path), workspace=tmp_path)
    assert_one_line_error(folder, ExitCode.USAGE, "--password-file")
    both = migrator(
        *discover_with_file(demo_sim, secret_file(tmp_path, "pw\n"), tmp_path, "--password-env", "X"),
        workspace=tmp_path,
    )
    assert_one_line_error(both, ExitCode.USAGE, "exclude each other")


def test_wrong_password_in_file_is_a_login_failure(demo_sim: Simulator, tmp_path: Path) -> None:
    path = secret_file(tmp_path, "Wrong-Pa55word\n")
    result = migrator(*discover_with_file(demo_sim, path, tmp_path), workspace=tmp_path)
    assert_one_line_error(result, ExitCode.VCENTER)
    assert "Wrong-Pa55word" not in result.stderr
