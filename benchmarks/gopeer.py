"""Discovery's compiled peer (issue 24): a govmomi client in Go, built on demand.

benchmarks/gopeer/main.go reads the VM property paths discovery reads over a ContainerView with
the property collector and decodes them into typed mo.VirtualMachine objects. It is built as
the vcsim launcher is (migrator/simulator/build.py): GOPATH mode against Debian's
golang-github-vmware-govmomi-dev, cached outside the clone under ~/.cache/migrator, keyed by
the source's hash, so a second run starts at once.

    python benchmarks/gopeer.py   # build (or find) the binary and print its path
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from migrator.simulator.build import build_go
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
    return build_go(GO_SOURCE, "gopeer", "gopeer-build", "view", "the Go peer")


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
