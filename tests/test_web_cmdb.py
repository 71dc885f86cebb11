"""The dashboard's CMDB drift page, the VM page's provenance and pin form, through FastAPI's
TestClient on a real planned workspace with a hostile CMDB export imported (SQLite)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from migrator.app import interpret
from migrator.app.workspace import Workspace
from migrator.web.app import create_app
from migrator.web.security import CSP, Guard
from tests.web_cmdb_helpers import CMDB_SCRIPT, ORPHAN_CI, cmdb_workspace
from tests.web_helpers import BREAKER, HOSTILE_APP, HOSTILE_VM, SCRIPT, local_client, planned_workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    workspace = cmdb_workspace(tmp_path_factory.mktemp("web-cmdb") / "ws")
    yield workspace
    workspace.close()


@pytest.fixture(scope="module")
def client(ws: Workspace) -> TestClient:
    return local_client(create_app(ws, Guard()))


def no_raw_markup(text: str) -> None:
    for raw in (SCRIPT, CMDB_SCRIPT, BREAKER, ORPHAN_CI, f'href="{HOSTILE_APP}'):
        assert raw not in text


def test_cmdb_drift_page_lists_every_kind_of_conflict_escaped(client: TestClient) -> None:
    page = client.get("/cmdb")
    assert page.status_code == 200 and page.headers["content-security-policy"] == CSP
    api = client.get("/api/drift").json()
    counts = api["counts"]
    summary = re.search(r'<p id="cmdb-summary">(.*?)</p>', page.text, re.S)
    assert summary is not None
    assert f"{counts['mismatch']} mismatches, {counts['ci-without-vm']} CIs with no VM" in summary.group(1)
    assert counts["mismatch"] >= 2 and counts["ci-without-vm"] >= 1 and counts["vm-without-ci"] >= 1
    mismatches = page.text.split('id="cmdb-mismatches"')[1].split("</table>")[0]
    assert "<td>cpu</td><td>99</td><td>4</td>" in mismatches  # CMDB says 99 vCPU, vCenter 4
    assert "&lt;script&gt;alert(&#39;cmdb&#39;)&lt;/script&gt;" in mismatches  # its application
    assert '<a href="/waves/' in mismatches  # each VM's wave, linked
    orphans = page.text.split('id="cmdb-orphans"')[1].split("</ul>")[0]
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;ci" in orphans
    unlisted = page.text.split('id="cmdb-unlisted"')[1].split("</ul>")[0]
    assert unlisted.count("<li>") == counts["vm-without-ci"]
    no_raw_markup(page.text)
    assert '<a href="/cmdb">CMDB drift</a>' in client.get("/").text  # in the nav


def test_cmdb_page_without_a_cmdb_says_how_to_import_one(tmp_path: Path) -> None:
    ws = planned_workspace(tmp_path / "ws", land=False)
    page = local_client(create_app(ws, Guard())).get("/cmdb")
    assert page.status_code == 200 and "migrator import cmdb FILE.csv" in page.text
    ws.close()


def test_vm_page_shows_business_facts_with_their_source(client: TestClient) -> None:
    page = client.get(f"/vms/{quote(HOSTILE_VM, safe='')}")
    assert page.status_code == 200
    table = page.text.split('id="business-facts"')[1].split("</table>")[0]
    env = re.search(r"<th>environment</th><td>(.*?)</td><td>(.*?)</td>", table)
    assert env is not None
    assert env.group(1) == HOSTILE_APP  # a javascript: value, as text, never as a link
    assert 'source-cmdb">CMDB</span> CMDB Environment (cmdb.csv)' in env.group(2)
    owner = re.search(r"<th>owner</th><td>(.*?)</td>", table)
    assert owner is not None and owner.group(1) == "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;"
    app = client.get("/vms/crm-app-01").text.split('id="business-facts"')[1].split("</table>")[0]
    assert 'source-inventory">inventory</span> custom attribute app' in app
    no_raw_markup(page.text)


def test_vm_page_renders_interpreted_facts_escaped(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rendering and escaping of every kind of fact, with a stand-in answer carrying hostile spans
    (the real answer for this estate is checked below)."""

    class Answer:
        def as_dict(self) -> dict[str, Any]:
            return {
                "facts": [
                    {
                        "kind": "role",
                        "value": "database",
                        "confidence": 0.7,
                        "source": "model",
                        "field": "annotation",
                        "span": CMDB_SCRIPT,
                        "model": "local#m",
                        "prompt_version": "v1",
                    },
                    {
                        "kind": "owner",
                        "value": BREAKER,
                        "confidence": 0.9,
                        "source": "cmdb",
                        "field": "CMDB owner",
                        "span": BREAKER,
                        "model": None,
                        "prompt_version": None,
                    },
                ],
                "findings": [{"id": "LLM01", "field": "annotation", "detail": SCRIPT}],
                "conflicts": [f"role: the model says {SCRIPT}"],
            }

    seen: list[tuple[str, int]] = []

    def vm_facts(ws: Workspace, vm: str, snapshot: int | None = None) -> Answer:
        seen.append((vm, snapshot or 0))
        return Answer()

    monkeypatch.setattr(interpret, "vm_facts", vm_facts)
    page = client.get("/vms/crm-db-01").text
    table = page.split('id="interpreted-facts"')[1].split("</table>")[0]
    assert 'source-model">model</span> local#m (v1)' in table
    assert "&lt;script&gt;alert(&#39;cmdb&#39;)&lt;/script&gt;" in table
    assert seen == [("crm-db-01", client.get("/api/overview").json()["plan"]["snapshot_id"])]
    no_raw_markup(page)


def test_vm_page_shows_what_waves_explain_shows(client: TestClient, ws: Workspace) -> None:
    """The real application-layer answer: the page lists the same facts as `vm_facts`."""
    page = client.get("/vms/crm-db-01").text
    table = page.split('id="interpreted-facts"')[1].split("</table>")[0]
    facts = interpret.vm_facts(ws, "crm-db-01").as_dict()["facts"]
    assert facts, "the fixture estate gives crm-db-01 interpreted facts"
    for fact in facts:
        assert f'source-{fact["source"]}">{fact["source"]}</span>' in table
        assert f"<td>{html.escape(str(fact['value']))}</td>" in table


def test_vm_page_pin_form_leads_to_the_whatif_preview(client: TestClient) -> None:
    page = client.get(f"/vms/{quote(HOSTILE_VM, safe='')}").text
    form = page.split('<form id="pin"')[1].split("</form>")[0]
    assert 'action="/whatif" method="get"' in form  # a preview stores nothing: saving is a CSRF POST
    hidden = re.search(r'<input type="hidden" name="vm" value="([^"]*)">', form)
    assert hidden is not None and hidden.group(1) == "&#34;&gt;&lt;img src=x onerror=alert(1)&gt; " + (
        "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;"
    )
    waves = client.get("/api/waves").json()
    assert form.count("<option value=") == len(waves)  # not pinned: no unpin choice
    placed = client.get(f"/api/vms/{quote(HOSTILE_VM, safe='')}").json()["placement"]["wave"]
    assert f'<option value="{placed}" selected>' in form
    whatif = client.get("/whatif", params={"vm": HOSTILE_VM, "wave": waves[-1]["number"]})
    assert whatif.status_code == 200 and '<script src="/static/whatif.js">' in whatif.text
