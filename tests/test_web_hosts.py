"""DNS rebinding against a real `migrator serve` (a subprocess on loopback): a page that points
its own name at 127.0.0.1 makes the browser send that name as Host, and a foreign site's
requests carry its Origin. The dashboard answers neither, before any handler runs."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
from collections.abc import Iterator

import pytest

from migrator.web.security import Guard, allowed_hosts
from tests.helpers import migrator_command
from tests.web_helpers import planned_workspace


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    folder = tmp_path_factory.mktemp("hosts") / "ws"
    planned_workspace(folder).close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATOR_")}
    argv = migrator_command(
        "serve", "--port", "0", "--allow-host", "migrator.example.internal", workspace=folder
    )
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    assert match, line + (proc.stderr.read() if proc.stderr else "")
    yield "127.0.0.1", int(match[1])
    proc.terminate()
    proc.wait(timeout=30)


def request(
    server: tuple[str, int], method: str, path: str, headers: dict[str, str], body: bytes | None = None
) -> tuple[int, str]:
    conn = http.client.HTTPConnection(*server, timeout=60)
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    return response.status, text


def test_the_rebinding_attack_reads_nothing_and_approves_nothing(server: tuple[str, int]) -> None:
    evil = {"Host": f"evil.example.com:{server[1]}"}
    for path in ("/api/overview", "/api/prs", "/prs/1", "/"):
        status, text = request(server, "GET", path, evil)
        assert (status, json.loads(text)) == (421, {"detail": "this dashboard does not serve that host name"})
    status, page = request(server, "GET", "/prs/1", {"Host": f"127.0.0.1:{server[1]}"})
    assert status == 200
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token, "the page carries its CSRF token"
    approve = {**evil, "X-CSRF-Token": token[1], "Content-Type": "application/json"}
    status, _ = request(server, "POST", "/api/prs/1/approve", approve, b'{"by": "mallory"}')
    assert status == 421
    _, prs = request(server, "GET", "/api/prs", {"Host": f"localhost:{server[1]}"})
    assert json.loads(prs)[0]["approvals"] == []  # nothing was approved


def test_a_foreign_origin_is_refused_even_with_the_right_host_and_csrf_token(server: tuple[str, int]) -> None:
    local = {"Host": f"127.0.0.1:{server[1]}"}
    _, page = request(server, "GET", "/prs/1", local)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token
    for origin in ("http://evil.example.com", "null", f"http://127.0.0.1.evil.example.com:{server[1]}"):
        headers = {**local, "Origin": origin, "X-CSRF-Token": token[1], "Content-Type": "application/json"}
        status, text = request(server, "POST", "/api/prs/1/approve", headers, b"{}")
        assert (status, json.loads(text)["detail"]) == (403, "cross-origin request refused"), origin
    same = {**local, "Origin": f"http://127.0.0.1:{server[1]}"}
    assert request(server, "GET", "/api/overview", same)[0] == 200


def test_loopback_names_and_the_operators_names_are_served(server: tuple[str, int]) -> None:
    for host in ("127.0.0.1", "localhost", "LOCALHOST", "migrator.example.internal"):
        status, _ = request(server, "GET", "/api/overview", {"Host": f"{host}:{server[1]}"})
        assert status == 200, host
    assert request(server, "GET", "/api/overview", {"Host": "migrator.example.internal.evil.com"})[0] == 421


def test_allowed_hosts_by_bind_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIGRATOR_DASHBOARD_HOSTS", "a.example, B.example:443")
    names = allowed_hosts("10.0.0.5", ["plans.internal"])
    assert names == {"127.0.0.1", "localhost", "::1", "10.0.0.5", "plans.internal", "a.example", "b.example"}
    guard = Guard(hosts=names)
    assert guard.host_ok("[::1]:8000") and guard.host_ok("10.0.0.5:8000") and guard.host_ok("localhost")
    assert not guard.host_ok(None) and not guard.host_ok("") and not guard.host_ok("[::2]:80")
    assert not guard.origin_ok("null") and not guard.origin_ok("http://[bad")
    assert guard.origin_ok(None) and guard.origin_ok("https://plans.internal")
