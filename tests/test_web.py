"""The dashboard's API and pages through FastAPI's TestClient, on a real planned workspace (SQLite, git)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from migrator.app.findings import FindingsQuery, list_findings
from migrator.app.workspace import Workspace
from migrator.errors import UsageError
from migrator.web.app import create_app, markdown
from migrator.web.security import CSP, Guard, is_loopback, token_for
from tests.web_helpers import (
    BREAKER,
    HOSTILE_APP,
    HOSTILE_VM,
    INVISIBLE,
    SCRIPT,
    local_client,
    planned_workspace,
)
from transpilers.registry import TARGETS


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    workspace = planned_workspace(tmp_path_factory.mktemp("web") / "ws")
    yield workspace
    workspace.close()


@pytest.fixture(scope="module")
def guard() -> Guard:
    return Guard()


@pytest.fixture(scope="module")
def client(ws: Workspace, guard: Guard) -> TestClient:
    return local_client(create_app(ws, guard))


def csrf(guard: Guard) -> dict[str, str]:
    return {"X-CSRF-Token": guard.csrf}


def test_overview_api_has_estate_totals_waves_findings_and_pr_status(client: TestClient) -> None:
    o = client.get("/api/overview").json()
    assert o["estate"]["vms"] == 16
    assert o["estate"]["vcpu"] > 0 and o["estate"]["memory_gb"] > 0 and o["estate"]["storage_gb"] > 0
    assert sum(o["estate"]["power_states"].values()) == 16
    assert sum(o["estate"]["os_families"].values()) == 16
    assert o["waves"] and {"vm_count", "storage_gb", "replication_hours", "aws_monthly_usd", "risk"} <= set(
        o["waves"][0]
    )
    assert o["pr_status"]["1"]["kubevirt"] == "#1 open"
    assert o["findings"]["pending"] is True and o["findings"]["counts"] is None  # a new snapshot


def test_overview_never_waits_for_findings_it_fills_them_once_in_the_background(
    client: TestClient, ws: Workspace
) -> None:
    first = client.get("/api/overview").json()["findings"]
    if first["pending"]:  # the first look at this snapshot (the test above may have started it)
        assert first["counts"] is None
        page = client.get("/").text  # the fill may finish between the two requests: then the counts show
        assert "being evaluated" in page or not client.get("/api/overview").json()["findings"]["pending"]
    deadline = time.monotonic() + 300
    findings = first
    while findings["pending"]:
        assert time.monotonic() < deadline, "the background fill never finished"
        time.sleep(0.2)
        findings = client.get("/api/overview").json()["findings"]
    assert findings["error"] is None
    snapshot = client.get("/api/overview").json()["plan"]["snapshot_id"]
    expected = list_findings(ws, FindingsQuery(snapshot=snapshot)).findings
    assert findings["counts"] == {
        s: sum(1 for f in expected if f.severity == s) for s in ("critical", "warning", "info")
    }
    assert sum(findings["counts"].values()) > 0
    assert 'id="findings-counts"' in client.get("/").text and "being evaluated" not in client.get("/").text


def test_wave_and_vm_apis(client: TestClient) -> None:
    waves = client.get("/api/waves").json()
    wave = client.get("/api/waves/1").json()
    assert wave["number"] == 1 and len(wave["vms"]) == waves[0]["vm_count"]
    assert wave["prs"][0]["number"] == 1
    name = wave["vms"][0]["name"]
    vm = client.get(f"/api/vms/{quote(name, safe='')}").json()
    assert vm["name"] == name and vm["placement"]["wave"] == 1
    assert set(vm["findings"]) == set(TARGETS) and vm["disks"]  # every registered target
    assert client.get("/api/waves/999").status_code == 404
    assert client.get("/api/vms/no-such-vm").status_code == 404


def test_a_vm_discovered_since_the_plan_has_a_page_from_the_latest_snapshot(client: TestClient) -> None:
    """The drift page links crm-db-02 (new in snapshot 2); the plan was made from snapshot 1."""
    api = client.get("/api/vms/crm-db-02").json()
    assert (api["snapshot_id"], api["plan_snapshot_id"], api["placement"], api["pinnable"]) == (
        2,
        1,
        None,
        True,
    )
    page = client.get("/vms/crm-db-02").text
    assert "Not in snapshot 1, which plan" in page and 'id="pin"' in page
    assert client.get("/api/whatif", params={"vm": "crm-db-02", "wave": 1}).status_code == 200


def test_a_vm_gone_from_the_latest_snapshot_offers_no_pin_form(client: TestClient) -> None:
    """nfs-01 is in the plan but not in snapshot 2: the preview could only answer 404."""
    api = client.get("/api/vms/nfs-01").json()
    assert (api["snapshot_id"], api["latest_snapshot_id"], api["pinnable"]) == (1, 2, False)
    assert api["placement"]["wave"] >= 1
    page = client.get("/vms/nfs-01").text
    assert 'id="pin"' not in page and "Not in the latest snapshot 2: it cannot be pinned" in page
    assert client.get("/api/whatif", params={"vm": "nfs-01", "wave": 1}).status_code == 404
    assert client.get("/api/vms/crm-app-01").json()["pinnable"] is True


def test_graph_api_filters_and_groups(client: TestClient) -> None:
    full = client.get("/api/graph").json()
    ids = {n["id"] for n in full["nodes"]}
    assert len({n["id"] for n in full["nodes"] if n["kind"] == "vm"}) == 16
    assert ids - {n["id"] for n in full["nodes"] if n["kind"] == "vm"} == {
        "ext:192.0.2.10",
        "ext:198.51.100.7",
        "ext:203.0.113.50",
    }
    assert full["edges"] and not full["aggregated"]
    assert all(e["source"] in ids and e["target"] in ids for e in full["edges"])
    wave1 = client.get("/api/graph", params={"wave": 1}).json()
    inside = {n["id"] for n in wave1["nodes"] if n["wave"] == 1}
    assert inside and all(n["wave"] == 1 or n["id"] in ids for n in wave1["nodes"])
    linked = {e["source"] for e in wave1["edges"]} | {e["target"] for e in wave1["edges"]}
    assert all(n["id"] in inside or n["id"] in linked for n in wave1["nodes"])  # only neighbours join
    crossing = [e for e in full["edges"] if e["cross_wave"]]
    wave_of = {n["id"]: n["wave"] for n in full["nodes"]}
    assert crossing and all(wave_of[e["source"]] != wave_of[e["target"]] for e in crossing)
    assert all(not e["cross_wave"] for e in full["edges"] if "ext:" in e["source"] + e["target"])
    shop = client.get("/api/graph", params={"application": "shop"}).json()
    assert shop["nodes"] and all(n["app"] == "shop" for n in shop["nodes"] if n["kind"] == "vm")
    grouped = client.get("/api/graph", params={"aggregate": "app"}).json()
    assert grouped["aggregated"] and len(grouped["nodes"]) < 16
    assert client.get("/api/graph", params={"aggregate": "bogus"}).status_code == 422


def test_pages_render(client: TestClient) -> None:
    for path in ("/", "/graph", "/waves/1", "/prs", "/prs/1"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-security-policy"] == CSP
        assert "<script>" not in page.text  # only <script src=...> from /static
        for src in re.findall(r'<script src="([^"]+)"', page.text):
            assert src.startswith("/static/") and client.get(src).status_code == 200
    assert "PLAN.md" in client.get("/prs/1").text


def test_hostile_text_is_escaped_everywhere(client: TestClient) -> None:
    vm_page = client.get(f"/vms/{quote(HOSTILE_VM, safe='')}")
    assert vm_page.status_code == 200
    for text in (vm_page.text, client.get("/").text, *(client.get(f"/waves/{n}").text for n in range(1, 6))):
        assert (
            SCRIPT not in text
            and BREAKER not in text
            and "onerror=alert" not in text.replace("onerror=alert(1)&gt;", "")
        )
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in vm_page.text
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in vm_page.text
    assert f'href="{HOSTILE_APP}' not in vm_page.text and f"href='{HOSTILE_APP}" not in vm_page.text
    assert INVISIBLE in vm_page.text  # shown as text (escaped context), not dropped or executed
    api = client.get(f"/api/vms/{quote(HOSTILE_VM, safe='')}").json()
    assert api["name"] == HOSTILE_VM  # JSON carries the raw text; the pages escape it


def test_markdown_refuses_raw_html_and_javascript_links() -> None:
    html = markdown(f"# t\n\n{SCRIPT}\n\n[click](javascript:alert(1)) ![i](javascript:x)\n")
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "href=" not in html and "src=" not in html  # javascript: links stay text


def test_state_changes_need_post_and_csrf(client: TestClient, guard: Guard) -> None:
    assert client.post("/api/prs/1/approve", json={"by": "eve"}).status_code == 403
    assert (
        client.post("/api/prs/1/approve", json={"by": "eve"}, headers={"X-CSRF-Token": "wrong"}).status_code
        == 403
    )
    assert client.get("/api/prs/1/approve").status_code == 405
    assert client.get("/api/prs/1").json()["status"] == "open"


def test_approve_and_merge_with_the_cli_guards(client: TestClient, guard: Guard) -> None:
    merge = client.post("/api/prs/1/merge", json={"use_tools": False}, headers=csrf(guard))
    assert merge.status_code == 409 and "no approval" in merge.json()["detail"]
    approved = client.post("/api/prs/1/approve", json={"by": f"{SCRIPT} architect"}, headers=csrf(guard))
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    merged = client.post("/api/prs/1/merge", json={"use_tools": False}, headers=csrf(guard))
    assert merged.status_code == 200, merged.text
    assert re.fullmatch(r"[0-9a-f]{40}", merged.json()["merge_commit"])
    assert client.get("/api/prs/1").json()["status"] == "merged"
    again = client.post("/api/prs/1/merge", json={"use_tools": False}, headers=csrf(guard))
    assert again.status_code == 409
    page = client.get("/prs/1").text
    assert SCRIPT not in page and "&lt;script&gt;" in page
    assert client.post("/api/prs/99/approve", json={}, headers=csrf(guard)).status_code == 404


def test_token_is_required_on_every_request_when_set(ws: Workspace) -> None:
    guard = Guard(token="s3cret-token")
    client = local_client(create_app(ws, guard))
    assert client.get("/api/overview").status_code == 401
    assert client.get("/api/overview", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/api/overview", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    assert client.post("/login", data={"token": "nope"}).status_code == 401
    login = client.post("/login", data={"token": "s3cret-token"}, follow_redirects=False)
    assert login.status_code == 303 and "httponly" in login.headers["set-cookie"].lower()
    assert client.get("/").status_code == 200  # the cookie now authenticates
    assert client.post("/api/prs/1/approve", json={}).status_code == 403  # a cookie alone is no CSRF token


def test_token_policy_by_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIGRATOR_DASHBOARD_TOKEN", raising=False)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3")
    assert token_for("127.0.0.1") is None
    with pytest.raises(UsageError, match="MIGRATOR_DASHBOARD_TOKEN"):
        token_for("0.0.0.0")
    monkeypatch.setenv("MIGRATOR_DASHBOARD_TOKEN", "t")
    assert token_for("0.0.0.0") == "t"


def test_openapi_describes_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {
        "/api/overview",
        "/api/graph",
        "/api/waves/{number}",
        "/api/vms/{name}",
        "/api/endpoints/{address}",
        "/api/prs/{number}/merge",
    } <= paths
    assert not any(p.startswith(("/waves", "/vms", "/endpoints", "/login")) for p in paths)


def test_empty_workspace_gives_one_line_errors(tmp_path: Path) -> None:
    client = local_client(create_app(Workspace.open(tmp_path / "empty")))
    response = client.get("/api/overview")
    assert response.status_code in (404, 422) and "\n" not in response.json()["detail"]


def test_snapshot_diff_api_and_page(client: TestClient) -> None:
    snaps = client.get("/api/snapshots").json()
    assert [s["id"] for s in snaps] == [1, 2]
    diff = client.get("/api/snapshots/diff", params={"a": 1, "b": 2}).json()
    assert diff["added"] == ["crm-db-02"] and diff["removed"] == ["nfs-01"]
    fields = {c["field"] for ch in diff["changed"] if ch["vm"] == "crm-db-01" for c in ch["changes"]}
    assert {"num_cpu", "memory_mb"} <= fields
    page = client.get("/drift", params={"a": 1, "b": 2})
    assert page.status_code == 200 and "crm-db-02" in page.text and "num_cpu" in page.text
    assert diff["impacts"] and diff["waves_affected"]  # nfs-01 removed while a wave holds it
    for impact in diff["impacts"]:
        row = page.text.split(f'<tr class="impact-{impact["kind"]}">')[1].split("</tr>")[0]
        assert impact["vm"] in row
        if impact["wave"] is not None:
            assert f'<a href="/waves/{impact["wave"]}">{impact["wave"]}</a>' in row
    assert client.get("/api/snapshots/diff", params={"a": 1, "b": 99}).status_code == 404
    assert client.get("/api/drift").status_code == 404  # no CMDB imported: one-line NotFound


def test_whatif_preview_stores_nothing_then_save_and_unpin(client: TestClient, guard: Guard) -> None:
    before = client.get("/api/overview").json()["plan"]["id"]
    preview = client.get("/api/whatif", params={"vm": "crm-web-01", "wave": 2})
    assert preview.status_code == 200
    moved = {m["vm"]: (m["from"], m["to"]) for m in preview.json()["moved"]}
    assert moved["crm-web-01"][1] == 2 and preview.json()["waves_changed"]
    assert client.get("/api/overview").json()["plan"]["id"] == before  # nothing stored
    assert client.post("/api/pins", json={"vm": "crm-web-01", "wave": 2}).status_code == 403  # CSRF
    saved = client.post("/api/pins", json={"vm": "crm-web-01", "wave": 2}, headers=csrf(guard))
    assert saved.status_code == 200 and saved.json()["plan_id"] > before
    assert client.get("/api/vms/crm-web-01").json()["placement"]["pinned"] is True
    unpinned = client.post("/api/pins", json={"vm": "crm-web-01", "wave": None}, headers=csrf(guard))
    assert unpinned.status_code == 200 and unpinned.json()["plan_id"] > saved.json()["plan_id"]
    assert client.get("/api/whatif", params={"vm": "no-such-vm", "wave": 1}).status_code == 404
    assert client.get("/whatif").status_code == 200
