"""The Go peer of the discovery benchmark (benchmarks/gopeer.py, issue 24) builds against
Debian's govmomi and reads every VM of a real vcsim into typed objects. Its speed is a
benchmark (benchmarks/discovery.py), never a timed test."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim

from migrator.simulator.launcher import Simulator, Topology
from migrator.vcenter.properties import VM_PROPERTIES
from migrator.vcenter.retrieval import list_morefs

pytestmark = pytest.mark.vcsim

PEER = Path(__file__).resolve().parents[1] / "benchmarks" / "gopeer.py"


def load_peer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_gopeer", PEER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def pyvmomi_count(sim: Simulator) -> int:
    host, port = sim.address
    si = SmartConnect(host=host, port=port, user=sim.username, pwd=sim.password, protocol="http")
    try:
        return len(list_morefs(si.RetrieveContent(), vim.VirtualMachine))
    finally:
        Disconnect(si)


def test_go_peer_builds_and_reads_every_vm(vcsim_binary: Path) -> None:
    peer = load_peer()
    binary = peer.binary_path()
    assert binary.is_file() and binary.name.startswith("gopeer-")
    assert peer.binary_path() == binary  # cached by source hash: the second call does not rebuild
    with Simulator(topology=Topology(clusters=2, vms_per_pool=3), password="peer-S3cret") as sim:
        run = peer.run_peer(sim, list(VM_PROPERTIES.values()))
        expected = pyvmomi_count(sim)
    assert expected == 6  # 2 clusters x 1 root pool x 3 VMs
    assert run.vms == expected
    assert run.decoded == expected  # every VM decoded into mo.VirtualMachine with its config
    assert run.elapsed_s > 0 and run.cpu_s > 0


def test_go_peer_rejects_wrong_password(vcsim_binary: Path) -> None:
    peer = load_peer()
    with Simulator(topology=Topology(vms_per_pool=1), password="right-pw") as sim:
        sim.password = "wrong-pw"
        with pytest.raises(RuntimeError, match="login"):
            peer.run_peer(sim, ["name"])
