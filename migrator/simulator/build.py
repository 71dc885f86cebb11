"""Build the project's vcsim launcher (go/main.go) against Debian's govmomi, once per source change."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

GO_SOURCE = Path(__file__).with_name("go") / "main.go"
GOPATH = Path("/usr/share/gocode")  # golang-github-vmware-govmomi-dev installs govmomi 0.24 here
BINARY_ENV = "MIGRATOR_VCSIM"


class SimulatorUnavailable(RuntimeError):
    pass


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "migrator"


def binary_path() -> Path:
    """Path of the launcher for the current main.go, building it if needed."""
    override = os.environ.get(BINARY_ENV)
    if override:
        return Path(override)
    digest = hashlib.sha256(GO_SOURCE.read_bytes()).hexdigest()[:12]
    target = cache_dir() / f"vcsim-{digest}"
    if target.exists():
        return target
    go = shutil.which("go")
    if go is None or not (GOPATH / "src/github.com/vmware/govmomi/simulator").is_dir():
        raise SimulatorUnavailable(
            "building vcsim needs Debian's golang-go and golang-github-vmware-govmomi-dev "
            "(make deps installs them)"
        )
    workdir = cache_dir() / f"build-{digest}"
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(GO_SOURCE, workdir / "main.go")
    env = dict(
        os.environ, GOPATH=str(GOPATH), GO111MODULE="off", GOCACHE=str(cache_dir() / "gocache"), GOFLAGS=""
    )
    partial = target.with_suffix(".partial")
    result = subprocess.run(
        [go, "build", "-o", str(partial), "."],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SimulatorUnavailable(f"go build of vcsim failed: {result.stderr.strip()[-2000:]}")
    partial.replace(target)
    return target
