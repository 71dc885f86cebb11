"""Read-only, enforced: the guard refuses writes before sending, and the SOAP trace proves it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from migrator.errors import WriteRefused
from migrator.secrets import Secret
from migrator.simulator.launcher import Simulator, Topology
from migrator.vcenter.address import parse_server
from migrator.vcenter.connection import Connection, ConnectionParams, TLSOptions
from migrator.vcenter.readonly import READ_METHODS
from tests.conftest import discover_args, sim_env
from tests.helpers import migrator

pytestmark = pytest.mark.vcsim

_REQUEST_METHOD = re.compile(r"^Request: .*?<(?:\w+:)?Body[^>]*>\s*<(\w+)", re.DOTALL | re.MULTILINE)


def _methods(trace: Path) -> list[str]:
    """The SOAP method of every request vcsim logged (each request must be recognised)."""
    text = trace.read_text(encoding="utf-8", errors="replace")
    methods = [m.group(1) for m in _REQUEST_METHOD.finditer(text)]
    assert len(methods) == len(re.findall(r"^Request: ", text, re.MULTILINE)) > 0
    return methods


def test_discovery_sends_only_read_methods(vcsim_binary: Path, tmp_path: Path) -> None:
    trace = tmp_path / "soap.trace"
    with Simulator(topology=Topology(clusters=2, vms_per_pool=3), trace_file=trace, password="ro-pw") as sim:
        result = migrator(
            *discover_args(sim, "--perf-days", "1"), workspace=tmp_path / "ws", env=sim_env(sim)
        )
        assert result.code == 0, result.stderr
    methods = _methods(trace)
    assert {"RetrieveServiceContent", "Login", "RetrievePropertiesEx", "QueryPerf", "Logout"} <= set(methods)
    assert set(methods) <= READ_METHODS, sorted(set(methods) - READ_METHODS)


def test_guard_refuses_writes_before_sending(vcsim_binary: Path, tmp_path: Path) -> None:
    trace = tmp_path / "soap.trace"
    with Simulator(topology=Topology(vms_per_pool=1), trace_file=trace, password="ro-pw") as sim:
        conn = Connection.open(
            ConnectionParams(parse_server(sim.url), sim.username, Secret(sim.password), TLSOptions())
        )
        with pytest.raises(WriteRefused, match="CreateFolder"):
            conn.content.rootFolder.CreateFolder("should-not-exist")
        with pytest.raises(WriteRefused, match="Fetch"):  # lazy per-object reads are refused too
            _ = conn.content.rootFolder.childEntity
        conn.close()
    methods = _methods(trace)
    assert "CreateFolder" not in methods and "Fetch" not in methods
    assert methods[-1] == "Logout"


def test_write_privileges_are_reported(demo_sim: Simulator, tmp_path: Path) -> None:
    result = migrator(*discover_args(demo_sim, "--perf-days", "0"), workspace=tmp_path, env=sim_env(demo_sim))
    assert result.code == 0
    assert "holds write privileges (Datastore.DeleteFile, Host.Config.Maintenance" in " ".join(
        result.stderr.split()
    )
    snaps = migrator("snapshots", "list", "--format", "json", workspace=tmp_path).json()
    assert any("write privileges" in w for w in snaps[0]["warnings"])
