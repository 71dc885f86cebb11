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
    return build_go(GO_SOURCE, "vcsim", "build", "simulator", "vcsim", " (make deps installs them)")


def build_go(source: Path, binary: str, workdir: str, package: str, what: str, hint: str = "") -> Path:
    """Build one main.go against Debian's govmomi in GOPATH mode, cached under cache_dir() as
    `<binary>-<hash of the source>` (built in `<workdir>-<hash>`), so a second run starts at once.
    `package` is the govmomi package whose presence says Debian's govmomi is installed."""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    target = cache_dir() / f"{binary}-{digest}"
    if target.exists():
        return target
    go = shutil.which("go")
    if go is None or not (GOPATH / "src/github.com/vmware/govmomi" / package).is_dir():
        raise SimulatorUnavailable(
            f"building {what} needs Debian's golang-go and golang-github-vmware-govmomi-dev{hint}"
        )
    folder = cache_dir() / f"{workdir}-{digest}"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, folder / "main.go")
    env = dict(
        os.environ, GOPATH=str(GOPATH), GO111MODULE="off", GOCACHE=str(cache_dir() / "gocache"), GOFLAGS=""
    )
    partial = target.with_suffix(".partial")
    result = subprocess.run(
        [go, "build", "-o", str(partial), "."],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SimulatorUnavailable(f"go build of {what} failed: {result.stderr.strip()[-2000:]}")
    partial.replace(target)
    return target
