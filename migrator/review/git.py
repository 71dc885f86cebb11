"""The real `git` binary, run without a shell and without secrets in argv.

A token for an https remote reaches git through GIT_ASKPASS: a small script that prints the
value of an environment variable, so the token is in the child's environment only (never in
argv, the remote URL, the repository's config or a log line).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from migrator.errors import ForgeError

ZERO = "0" * 40
TOKEN_ENV = "MIGRATOR_GIT_ASKPASS_TOKEN"  # set only in git's own environment
_ASKPASS = f"""#!/bin/sh
case "$1" in
  Username*) echo "x-access-token" ;;
  *) printf '%s\\n' "${TOKEN_ENV}" ;;
esac
"""


class GitError(ForgeError):
    """git failed on the plans repository or its remote (nothing local was lost)."""


@dataclass
class Git:
    """git commands on one repository (a bare one: `git_dir`)."""

    git_dir: Path
    env: dict[str, str] = field(default_factory=dict)  # author, committer, askpass

    def __post_init__(self) -> None:
        if shutil.which("git") is None:
            raise GitError("git is not installed (apt-get install git)")

    def with_token(self, token: str | None) -> Git:
        if not token:
            return self
        script = Path(tempfile.gettempdir()) / f"migrator-askpass-{os.getuid()}.sh"
        if not script.exists() or script.read_text(encoding="utf-8") != _ASKPASS:
            script.write_text(_ASKPASS, encoding="utf-8")
            script.chmod(stat.S_IRWXU)
        return Git(self.git_dir, {**self.env, "GIT_ASKPASS": str(script), TOKEN_ENV: token})

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        extra_env: dict[str, str] | None = None,
        cwd: Path | None = None,
        check: bool = True,
    ) -> str:
        env = {
            **os.environ,
            "GIT_DIR": str(self.git_dir),
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
            **self.env,
            **(extra_env or {}),
        }
        if cwd is not None:
            env["GIT_WORK_TREE"] = str(cwd)
        proc = subprocess.run(["git", *args], input=input, capture_output=True, env=env, cwd=cwd, check=False)
        if check and proc.returncode != 0:
            raise GitError(f"git {args[0]} failed: {_first_line(proc.stderr, self.env.get(TOKEN_ENV))}")
        return proc.stdout.decode("utf-8", errors="replace").strip()

    def _status(self, *args: str) -> int:
        env = {**os.environ, "GIT_DIR": str(self.git_dir), "LC_ALL": "C", **self.env}
        return subprocess.run(["git", *args], capture_output=True, env=env, check=False).returncode

    def rev(self, ref: str) -> str | None:
        """The commit a ref points at, or None."""
        if self._status("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}") != 0:
            return None
        return self.run("rev-parse", "--verify", f"{ref}^{{commit}}")


def _first_line(stderr: bytes, secret: str | None) -> str:
    lines = [
        line.strip()
        for line in stderr.decode("utf-8", errors="replace").splitlines()
        if line.strip() and not line.startswith("hint:")
    ]
    text = lines[-1] if lines else "no output"
    return (text.replace(secret, "***") if secret else text)[:300]
