"""Dashboard speed on the 10,000-VM synthetic estate (waves/synthetic.py) with its plan.

Times the server-side render of the overview and a wave page, the graph API (full graph, no
grouping), and the browser's first frame of the full graph in Debian's headless Chromium
(Playwright, /usr/bin/chromium). Prints the figures against the targets; asserts nothing.
Run: PYTHONPATH=. python benchmarks/dashboard.py [--vms 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from migrator.app.planning import plan_waves
from migrator.app.snapshots import store_inventory
from migrator.app.workspace import Workspace
from migrator.flows.records import ReadResult
from migrator.store.inventory import Inventory
from migrator.web.app import create_app
from migrator.web.security import Guard
from tests.web_helpers import local_client
from waves.parameters import PlanParameters
from waves.synthetic import generate


def best_of(n: int, fn: Callable[[], object]) -> tuple[float, float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def build(folder: Path, n_vms: int) -> Workspace:
    t0 = time.perf_counter()
    estate = generate(n_vms)
    ws = Workspace.open(folder)
    store_inventory(ws, "import", f"synthetic-{n_vms}", Inventory(vms=estate.vms, clusters=estate.clusters))
    ws.flows.add("import", f"synthetic-{n_vms}", ReadResult(estate.flows, digest=f"synthetic-{n_vms}"))
    result = plan_waves(ws, PlanParameters())
    print(
        f"estate: {len(estate.vms)} VMs, {len(estate.flows)} flow records, plan {result.plan_id} with "
        f"{len(result.document['waves'])} waves; built in {time.perf_counter() - t0:.1f} s"
    )
    return ws


def first_frame(url: str) -> tuple[float, int]:
    """Navigation start to sigma's first rendered frame of the full graph, in the browser's clock."""
    from playwright.sync_api import sync_playwright

    from tests.test_web_browser import launch  # the same Chromium and flags as the browser tests

    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        results = []
        for _ in range(3):
            page.goto(url + "/graph?aggregate=none")
            page.wait_for_selector("#graph[data-rendered]", timeout=120_000)
            results.append(float(page.get_attribute("#graph", "data-first-frame-ms") or "nan") / 1000)
        nodes = int(page.get_attribute("#graph", "data-rendered") or 0)
        browser.close()
    return min(results), nodes


def first_requests(client: TestClient, wave: int) -> list[tuple[str, float]]:
    """The first request of each page in this process. The first overview of a new snapshot does
    not wait for its findings: it starts evaluating them once in the background (stored in the
    findings cache, which every later page and the CLI's `findings` read); the first page of a
    plan parses its document and the first graph request builds its JSON, both kept for the life
    of the server process. Then waits for the findings and reports how long they took."""
    out = []
    t0 = time.perf_counter()
    for label, path in (
        ("first overview (starts the findings)", "/"),
        (f"first wave {wave} page", f"/waves/{wave}"),
        ("first graph API, full graph", "/api/graph?aggregate=none"),
    ):
        t1 = time.perf_counter()
        client.get(path).raise_for_status()
        out.append((label, time.perf_counter() - t1))
        print(f"{label:38s} {out[-1][1]:6.2f} s (once per snapshot or plan)")
    while client.get("/api/overview").json()["findings"]["pending"]:
        time.sleep(0.5)
    out.append(("findings of the estate, in the background", time.perf_counter() - t0))
    print(f"{out[-1][0]:38s} {out[-1][1]:6.1f} s (once per snapshot, policy pack and target)")
    return out


def server_rows(client: TestClient, wave: int, vm: str) -> list[tuple[str, float, float, float]]:
    """(label, best, median, target) of the warm server-side figures."""
    vm_path = f"/vms/{quote(vm, safe='')}"
    rows = [
        ("overview page (server render)", lambda: client.get("/").raise_for_status(), 1.0),
        (f"wave {wave} page (server render)", lambda: client.get(f"/waves/{wave}").raise_for_status(), 1.0),
        ("VM page (server render)", lambda: client.get(vm_path).raise_for_status(), 1.0),
        (
            "graph API, full graph",
            lambda: client.get("/api/graph", params={"aggregate": "none"}).raise_for_status(),
            1.0,
        ),
    ]
    out = []
    for label, fn, target in rows:
        fastest, median = best_of(5, fn)
        out.append((label, fastest, median, target))
        verdict = "ok" if median < target else "OVER TARGET"
        print(f"{label:38s} best {fastest:6.3f} s, median {median:6.3f} s (target < {target:g} s) {verdict}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vms", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="migrator-bench-dashboard-") as tmp:
        ws = build(Path(tmp) / "ws", args.vms)
        client = local_client(create_app(ws, Guard()))
        wave = client.get("/api/waves").json()[0]["number"]
        firsts = first_requests(client, wave)
        vm = client.get(f"/api/waves/{wave}").json()["vms"][0]["name"]
        rows = server_rows(client, wave, vm)
        graph = client.get("/api/graph", params={"aggregate": "none"}).json()
        print(f"graph API payload: {len(graph['nodes'])} nodes, {len(graph['edges'])} edges")

        from tests.test_web_browser import Server  # the same uvicorn-in-a-thread server as the browser tests

        with Server(ws) as server:
            seconds, nodes = first_frame(server.url)
        verdict = "ok" if seconds < 3 else "OVER TARGET"
        print(
            f"{'browser first frame, full graph':38s} best {seconds:6.3f} s for {nodes} nodes "
            f"(target < 3 s) {verdict}"
        )
        ws.close()
    figures = [[f"{label}: median s", f"{median:.3f}", f"< {target:g}"] for label, _, median, target in rows]
    figures.append([f"browser first frame, {nodes} nodes: best s", f"{seconds:.2f}", "< 3"])
    figures += [[f"{label}: s", f"{took:.2f}", ""] for label, took in firsts]
    summary = {
        "bench": "dashboard",
        "vms": args.vms,
        "nodes": len(graph["nodes"]),
        "edges": len(graph["edges"]),
        "load": round(os.getloadavg()[0], 1),
        "figures": figures,
    }
    print("BENCH " + json.dumps(summary))


if __name__ == "__main__":
    main()
