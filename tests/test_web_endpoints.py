"""External endpoints on the dashboard: `/endpoints/{address}` and `/api/endpoints/{address}` over
migrator.app.endpoints, the graph's external nodes and every link to them (a real uvicorn server
on the demo workspace with an IPv6 and a hostile named endpoint added to its flows)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from migrator.app.endpoints import external_endpoints
from migrator.app.flows import import_flow_file
from migrator.app.inventory import dependency_graph
from migrator.app.workspace import Workspace
from migrator.web.app import create_app
from migrator.web.security import Guard
from tests.test_web_browser import Server
from tests.web_helpers import EXT_IPV6, EXT_NAME, local_client, planned_workspace
from waves.graph import EXTERNAL_PREFIX

DEMO_EXTERNALS = ["192.0.2.10", "198.51.100.7", "203.0.113.50"]  # fixtures/flows/demo-flows.csv
WEEK = ("2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z")


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    workspace = planned_workspace(tmp_path_factory.mktemp("endpoints") / "ws", hostile_endpoints=True)
    yield workspace
    workspace.close()


@pytest.fixture(scope="module")
def client(ws: Workspace) -> Iterator[httpx.Client]:
    """A real server: TestClient decodes a path twice ("%252F" would arrive as "/")."""
    with Server(ws) as server, httpx.Client(base_url=server.url, timeout=120) as http:
        yield http


@pytest.fixture(scope="module")
def wave_of(ws: Workspace) -> dict[str, int]:
    return {vm: info["wave"] for vm, info in ws.plans.get(None)["vms"].items()}


def url(address: str) -> str:
    return "/endpoints/" + quote(address, safe="")


def test_an_endpoint_the_estate_calls_its_vm_port_bytes_times_and_wave(
    client: httpx.Client, wave_of: dict[str, int], ws: Workspace
) -> None:
    e = client.get("/api/endpoints/192.0.2.10").json()
    wave = wave_of["payroll-app-dev"]
    name = next(w["name"] for w in ws.plans.get(None)["waves"] if w["number"] == wave)
    assert e["address"] == "192.0.2.10" and e["node"] == "ext:192.0.2.10"
    assert e["peers"] == [
        {
            "peer": "payroll-app-dev",
            "external": False,
            "address": None,
            "wave": wave,
            "direction": "to",
            "ports": ["tcp/443"],
            "bytes": 50_000_000,
            "packets": 41_666,
            "connections": 300,
            "first_seen": WEEK[0],
            "last_seen": WEEK[1],
        }
    ]
    assert (e["ports"], e["protocols"], e["bytes"], e["connections"]) == (
        ["tcp/443"],
        ["tcp"],
        50_000_000,
        300,
    )
    assert (e["first_seen"], e["last_seen"]) == WEEK
    assert e["waves"] == [
        {"number": wave, "name": name, "relation": "depends on it", "vms": ["payroll-app-dev"]}
    ]


def test_an_endpoint_that_calls_the_estate_lists_the_vms_it_calls(
    client: httpx.Client, wave_of: dict[str, int]
) -> None:
    e = client.get("/api/endpoints/203.0.113.50").json()
    assert [(p["peer"], p["direction"], p["ports"], p["bytes"]) for p in e["peers"]] == [
        ("shop-web-01", "from", ["tcp/443"], 9_000_000_000),
        ("shop-web-02", "from", ["tcp/443"], 9_000_000_000),
    ]
    assert e["bytes"] == 18_000_000_000 and e["connections"] == 240_000
    waves = sorted({wave_of["shop-web-01"], wave_of["shop-web-02"]})
    assert [(w["number"], w["relation"]) for w in e["waves"]] == [(n, "serves it") for n in waves]
    assert sorted(vm for w in e["waves"] for vm in w["vms"]) == ["shop-web-01", "shop-web-02"]
    assert "<b>2</b><span>peers</span>" in client.get(url("203.0.113.50")).text


def test_ipv6_and_hostile_named_endpoints_have_pages(client: httpx.Client, wave_of: dict[str, int]) -> None:
    v6 = client.get(url(EXT_IPV6))
    assert v6.status_code == 200 and f'<h1 class="endpoint-address">{EXT_IPV6} <small>' in v6.text
    api = client.get("/api/endpoints/" + quote(EXT_IPV6, safe="")).json()
    assert [(p["peer"], p["ports"], p["bytes"]) for p in api["peers"]] == [
        ("payroll-app-dev", ["tcp/8443"], 7_000_000)
    ]
    assert (api["first_seen"], api["last_seen"]) == ("2026-11-02T08:00:00Z", "2026-11-06T17:30:00Z")
    named = client.get("/api/endpoints/" + quote(EXT_NAME, safe="")).json()
    assert named["address"] == EXT_NAME  # the JSON carries the raw text; the page escapes it
    assert [(p["peer"], p["direction"], p["ports"]) for p in named["peers"]] == [
        ("payroll-db-dev", "to", ["tcp/9443"])
    ]
    assert (named["first_seen"], named["last_seen"]) == (None, None)  # an Azure export has no times
    page = client.get(url(EXT_NAME))
    assert page.status_code == 200
    assert EXT_NAME not in page.text and "<b>partner" not in page.text
    escaped = "&lt;b&gt;partner&lt;/b&gt; &#34;api&#34; &#39;gw&#39;/v1?x=1#top %2F"
    assert f'<h1 class="endpoint-address">{escaped} <small>' in page.text
    assert '<td><a href="/vms/payroll-db-dev">payroll-db-dev</a></td><td>calls it</td>' in page.text
    assert f'<a href="/waves/{wave_of["payroll-db-dev"]}">' in page.text
    assert "<b>unknown</b><span>first seen</span>" in page.text


def test_unknown_endpoints_vms_and_vm_addresses_are_404(client: httpx.Client) -> None:
    for address in ("192.0.2.99", "payroll-app-dev", "10.0.200.11", "ext:192.0.2.10", "unknown"):
        assert client.get(url(address)).status_code == 404, address
        response = client.get("/api/endpoints/" + quote(address, safe=""))
        assert response.status_code == 404 and "\n" not in response.json()["detail"]


def test_every_vm_page_links_its_external_peers_to_their_endpoint_pages(client: httpx.Client) -> None:
    for vm, addresses in (
        ("payroll-app-dev", ["192.0.2.10", EXT_IPV6]),
        ("payroll-db-dev", [EXT_NAME]),
        ("shop-web-01", ["198.51.100.7", "203.0.113.50"]),
    ):
        page = client.get(f"/vms/{vm}").text
        hrefs = re.findall(r'<td><a href="(/endpoints/[^"]+)">', page)
        assert sorted(hrefs) == sorted(url(a) for a in addresses), vm
        assert "/vms/ext%3A" not in page and "/vms/ext:" not in page
        assert all(client.get(h).status_code == 200 for h in hrefs)


def test_wave_pages_list_the_external_endpoints_of_their_vms(
    client: httpx.Client, wave_of: dict[str, int]
) -> None:
    page = client.get(f"/waves/{wave_of['payroll-app-dev']}").text
    table = page.split('id="wave-endpoints"')[1].split("</table>")[0]
    for address in ("192.0.2.10", EXT_IPV6):
        assert f'<a href="{url(address)}">' in table
    wave = wave_of["shop-web-01"]
    api = client.get(f"/api/waves/{wave}").json()["external_endpoints"]
    shop = sorted(vm for vm in ("shop-web-01", "shop-web-02") if wave_of[vm] == wave)
    assert api == [
        {"address": "198.51.100.7", "relation": "serves it", "vms": shop},
        {"address": "203.0.113.50", "relation": "serves it", "vms": shop},
    ]


def test_the_graph_draws_external_endpoints_linked_to_their_pages(
    client: httpx.Client, wave_of: dict[str, int]
) -> None:
    full = client.get("/api/graph", params={"aggregate": "none"}).json()
    externals = {n["id"]: n for n in full["nodes"] if n["kind"] == "external"}
    expected = sorted([*DEMO_EXTERNALS, EXT_IPV6, EXT_NAME])
    assert sorted(externals) == sorted(EXTERNAL_PREFIX + a for a in expected)
    for address in expected:
        node = externals[EXTERNAL_PREFIX + address]
        assert (node["label"], node["wave"], node["url"]) == (address, None, url(address))
        assert client.get(node["url"]).status_code == 200
    assert {n["id"] for n in full["nodes"] if n["kind"] == "vm"} == set(wave_of)
    edge = next(e for e in full["edges"] if e["target"] == "ext:192.0.2.10")
    assert edge == {
        "source": "payroll-app-dev",
        "target": "ext:192.0.2.10",
        "bytes": 50_000_000,
        "cross_wave": False,
    }
    shop = client.get("/api/graph", params={"wave": wave_of["shop-web-01"]}).json()
    assert {n["id"] for n in shop["nodes"] if n["kind"] == "external"} == {
        "ext:198.51.100.7",
        "ext:203.0.113.50",
    }
    grouped = client.get("/api/graph", params={"aggregate": "app"}).json()
    assert {n["kind"] for n in grouped["nodes"]} == {"group"}


def test_the_endpoints_agree_with_the_planners_graph(ws: Workspace) -> None:
    """The app layer resolves flows as build_graph does: the same external nodes, peers and bytes."""
    plan = ws.plans.get(None)
    graph = dependency_graph(ws, plan["plan"]["snapshot_id"])
    endpoints = external_endpoints(ws, plan)
    nodes = sorted(n for n, kind in graph.g.nodes(data="kind") if kind == "external")
    assert sorted(e.node for e in endpoints.values()) == nodes
    for e in endpoints.values():
        seen = {(p.peer, p.direction): p.bytes for p in e.peers}
        expected = {(v, "to"): graph.g.edges[v, e.node]["bytes"] for v in graph.g.predecessors(e.node)}
        expected |= {(v, "from"): graph.g.edges[e.node, v]["bytes"] for v in graph.g.successors(e.node)}
        assert seen == expected, e.address


def test_a_flow_import_after_the_plan_shows_at_once(tmp_path: Path) -> None:
    ws = planned_workspace(tmp_path / "ws", land=False)
    try:
        client = local_client(create_app(ws, Guard()))
        assert client.get("/api/endpoints/192.0.2.10").json()["bytes"] == 50_000_000
        more = tmp_path / "more.csv"
        more.write_text(
            "src_ip,dst_ip,dst_port,protocol,bytes,packets,connections,first_seen,last_seen\n"
            "10.0.200.12,192.0.2.10,8443,tcp,1000,10,2,2026-10-30T00:00:00Z,2026-11-09T00:00:00Z\n"
        )
        import_flow_file(ws, more)
        e = client.get("/api/endpoints/192.0.2.10").json()
        placed = ws.plans.get(None)["vms"]
        assert [(p["peer"], p["ports"], p["bytes"], p["wave"]) for p in e["peers"]] == [
            ("payroll-app-dev", ["tcp/443"], 50_000_000, placed["payroll-app-dev"]["wave"]),
            ("payroll-db-dev", ["tcp/8443"], 1000, placed["payroll-db-dev"]["wave"]),
        ]
        assert [w["vms"] for w in e["waves"]] == [["payroll-app-dev"]]  # waves: the plan's (re-plan)
        assert (e["first_seen"], e["last_seen"]) == ("2026-10-30T00:00:00Z", "2026-11-09T00:00:00Z")
        assert client.get("/api/endpoints/198.51.100.7").status_code == 200
    finally:
        ws.close()
