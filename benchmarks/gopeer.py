"""Discovery's compiled peer (issue 24): a govmomi client in Go, built on demand.

benchmarks/gopeer/main.go reads the VM property paths discovery reads over a ContainerView with
the property collector and decodes them into typed mo.VirtualMachine objects. It is built as
the vcsim launcher is (migrator/simulator/build.py): GOPATH mode against Debian's
golang-github-vmware-govmomi-dev, cached outside the clone under ~/.cache/migrator, keyed by
the source's hash, so a second run starts at once.

    python benchmarks/gopeer.py   # build (or find) the binary and print its path
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from migrator.simulator.build import GOPATH, SimulatorUnavailable, cache_dir
from migrator.simulator.launcher import Simulator

GO_SOURCE = Path(__file__).resolve().parent / "gopeer" / "main.go"


@dataclass(frozen=True)
class PeerRun:
    vms: int
    decoded: int  # VMs whose name and config.hardware.numCPU arrived in the typed objects
    elapsed_s: float  # view + retrieval + decoding, as timed inside the peer (login excluded)
    login_s: float
    cpu_s: float  # user + sys of the peer process up to the end of the decoding


def binary_path() -> Path:
    """Path of the peer for the current main.go, building it if needed."""
    digest = hashlib.sha256(GO_SOURCE.read_bytes()).hexdigest()[:12]
    target = cache_dir() / f"gopeer-{digest}"
    if target.exists():
        return target
    go = shutil.which("go")
    if go is None or not (GOPATH / "src/github.com/vmware/govmomi/view").is_dir():
        raise SimulatorUnavailable(
            "building the Go peer needs Debian's golang-go and golang-github-vmware-govmomi-dev"
        )
    workdir = cache_dir() / f"gopeer-build-{digest}"
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
        raise SimulatorUnavailable(f"go build of the peer failed: {result.stderr.strip()[-2000:]}")
    partial.replace(target)
    return target


def run_peer(sim: Simulator, paths: list[str]) -> PeerRun:
    """Run the peer once against the simulator; the password travels in its environment."""
    env = dict(os.environ, GOPEER_USERNAME=sim.username, GOPEER_PASSWORD=sim.password)
    cmd = [str(binary_path()), f"-url={sim.url}", f"-props={','.join(sorted(set(paths)))}"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"Go peer failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return PeerRun(
        int(out["vms"]),
        int(out["decoded"]),
        float(out["elapsed_s"]),
        float(out["login_s"]),
        float(out["cpu_s"]),
    )


if __name__ == "__main__":
    print(binary_path())
