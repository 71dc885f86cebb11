"""Read-only, enforced: the guard refuses writes before sending, and the SOAP trace proves it."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from migrator.errors import WriteRefused
from migrator.secrets import Secret
from migrator.simulator.launcher import Simulator, Topology
from migrator.vcenter.address import parse_server
from migrator.vcenter.connection import Connection, ConnectionParams, TLSOptions
from migrator.vcenter.readonly import READ_METHODS
from migrator.vcenter.tags import _Rest, collect_tags
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


class _Recorder(BaseHTTPRequestHandler):
    """A vAPI /rest stand-in on 127.0.0.1 that records every request it receives."""

    seen: ClassVar[list[tuple[str, str]]] = []
    answers: ClassVar[dict[str, Any]] = {
        "/rest/com/vmware/cis/session": "session-1",
        "/rest/com/vmware/cis/tagging/tag": ["urn:tag:1"],
        "/rest/com/vmware/cis/tagging/tag/id:urn:tag:1": {"category_id": "urn:cat:1", "name": "prod"},
        "/rest/com/vmware/cis/tagging/category/id:urn:cat:1": {"name": "env"},
        "/rest/com/vmware/cis/tagging/tag-association?~action=list-attached-objects-on-tags": [
            {"tag_id": "urn:tag:1", "object_ids": [{"id": "vm-1", "type": "VirtualMachine"}]}
        ],
    }

    def _answer(self) -> None:
        self.seen.append((self.command, self.path))
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps({"value": self.answers.get(self.path)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def rest_server() -> Iterator[tuple[ConnectionParams, list[tuple[str, str]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    params = ConnectionParams(parse_server(f"http://{host}:{port}"), "ro", Secret("pw"), TLSOptions())
    try:
        yield params, _Recorder.seen
    finally:
        server.shutdown()
        server.server_close()


def test_rest_tags_send_only_allow_listed_calls(
    rest_server: tuple[ConnectionParams, list[tuple[str, str]]],
) -> None:
    params, seen = rest_server
    assert collect_tags(params) == {"vm-1": ["env:prod"]}
    assert seen == [
        ("POST", "/rest/com/vmware/cis/session"),
        ("GET", "/rest/com/vmware/cis/tagging/tag"),
        ("GET", "/rest/com/vmware/cis/tagging/tag/id:urn:tag:1"),
        ("GET", "/rest/com/vmware/cis/tagging/category/id:urn:cat:1"),
        ("POST", "/rest/com/vmware/cis/tagging/tag-association?~action=list-attached-objects-on-tags"),
        ("DELETE", "/rest/com/vmware/cis/session"),
    ]


def test_rest_tag_ids_stay_one_path_segment(
    rest_server: tuple[ConnectionParams, list[tuple[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rogue server's tag id with '/', '?' or '#' is escaped, so it cannot reach another endpoint."""
    params, seen = rest_server
    hostile = "x/../../session?~action=delete#"
    answers = {**_Recorder.answers, "/rest/com/vmware/cis/tagging/tag": ["urn:tag:1", hostile]}
    monkeypatch.setattr(_Recorder, "answers", answers)
    assert collect_tags(params) == {"vm-1": ["env:prod"]}  # the unreadable tag is skipped
    assert ("GET", "/rest/com/vmware/cis/tagging/tag/id:x%2F..%2F..%2Fsession%3F~action%3Ddelete%23") in seen
    assert [m for m, _ in seen].count("DELETE") == 1  # only the logout


@pytest.mark.parametrize(
    ("method", "path", "action"),
    [
        ("DELETE", "/com/vmware/cis/tagging/tag/id:urn:tag:1", None),  # deleting a tag
        ("DELETE", "/com/vmware/cis/tagging/category/id:urn:cat:1", None),
        ("DELETE", "/com/vmware/vcenter/vm/vm-1", None),
        ("DELETE", "/com/vmware/cis/session/other", None),  # not our logout
        ("POST", "/com/vmware/cis/tagging/tag", None),  # creating a tag
        ("POST", "/com/vmware/cis/tagging/tag-association/id:urn:tag:1", "attach"),
        ("POST", "/com/vmware/cis/tagging/tag-association", "detach-tag-from-multiple-objects"),
        ("POST", "/com/vmware/vcenter/vm/vm-1/power/stop", None),
        ("PUT", "/com/vmware/cis/tagging/tag/id:urn:tag:1", None),
        ("PATCH", "/com/vmware/cis/tagging/category/id:urn:cat:1", None),
        ("GET", "/com/vmware/cis/tagging/tag/id:x/../../session", None),  # no path tricks either
    ],
)
def test_rest_guard_refuses_before_sending(
    rest_server: tuple[ConnectionParams, list[tuple[str, str]]], method: str, path: str, action: str | None
) -> None:
    params, seen = rest_server
    rest = _Rest(params)
    try:
        with pytest.raises(WriteRefused, match="discovery is read-only"):
            rest.call(method, path, {"x": 1}, action)
    finally:
        rest.conn.close()
    assert seen == []  # nothing reached the server
