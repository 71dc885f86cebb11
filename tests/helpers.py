"""Running the real CLI as a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def migrator_command(*args: str, workspace: Path | None = None) -> list[str]:
    """argv for the CLI in this interpreter (also for tests that drive a long-running Popen)."""
    cmd = [sys.executable, "-m", "migrator"]
    if workspace is not None:
        cmd += ["--workspace", str(workspace)]
    return [*cmd, *args]


def migrator(
    *args: str, workspace: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> Result:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATOR_")}
    full_env.update(env or {})
    proc = subprocess.run(
        migrator_command(*args, workspace=workspace),
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def assert_one_line_error(result: Result, code: int, *fragments: str) -> None:
    assert result.code == code, (result.code, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
